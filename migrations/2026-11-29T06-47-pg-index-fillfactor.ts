import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * PostgreSQL only (SQLite: nothing): the log's primary key and idempotency key leave no free
 * space in the leaf pages they fill. Both take their entries in rising order (positions; each
 * line input's keys, its tag then the line), where a b-tree splits a full leaf at its
 * fillfactor and writes the left page no more: the 10 % left free by default (fillfactor 90)
 * only made the indexes larger and their splits more frequent. A server-side binary COPY of
 * the bench's 1M events into a copy of the events table took 3.21-3.30 backend CPU-s against
 * 3.31-3.38 (4 rounds each, alternating). Pages split from now on take the setting; no index
 * is rebuilt. (events_by_profile, whose profiles interleave, gained nothing measurable.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter index events_pkey set (fillfactor = 100)`.execute(db);
  await sql`alter index events_idempotency_key_key set (fillfactor = 100)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter index events_pkey reset (fillfactor)`.execute(db);
  await sql`alter index events_idempotency_key_key reset (fillfactor)`.execute(db);
}
