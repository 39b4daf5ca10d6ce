import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * SQLite only (PostgreSQL keeps its indexes, whose entries end with no position): the indexes
 * of each profile's events on (profile_id) alone. An SQLite index entry ends with its row's
 * rowid, which `position` is, so (profile_id, position) held each position twice; (profile_id)
 * orders its entries alike, by profile then position, and serves the same ranges and orders
 * (`profile_id = ? and position > ?`, `order by position`): 4.4 MB less of a 1M-event log
 * (the bench's mix: 97 to 92 bytes an event) and less to write a row.
 *
 * The partial indexes (retractions, described inputs) take the same shape and are made after
 * it: with no statistics SQLite weighs indexes of one shape alike for a query and takes the
 * one made last, which must be theirs for their queries (else a profile's few retractions
 * are found by reading all of its events); with (profile_id, position) they lost to a
 * (profile_id) index on SQLite 3.53 whatever the order (events-by-profile.int.test.ts holds
 * each read to its index).
 */
const PARTIAL = [
  sql`create index events_retractions on events(profile_id) where kind = 'run.retracted'`,
  sql`create index events_described on events(profile_id) where kind = 'shape.described'`,
];
const PARTIAL_BEFORE = [
  sql`create index events_retractions on events(profile_id, position) where kind = 'run.retracted'`,
  sql`create index events_described on events(profile_id, position) where kind = 'shape.described'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`drop index events_by_profile`.execute(db);
  await sql`create index events_by_profile on events(profile_id)`.execute(db);
  await remakePartial(db, PARTIAL);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`drop index events_by_profile`.execute(db);
  await sql`create index events_by_profile on events(profile_id, position)`.execute(db);
  await remakePartial(db, PARTIAL_BEFORE);
}

async function remakePartial(db: Kysely<unknown>, partial: typeof PARTIAL): Promise<void> {
  await sql`drop index events_retractions`.execute(db);
  await sql`drop index events_described`.execute(db);
  for (const s of partial) await s.execute(db);
}
