import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * The events a trace gave (every one names its compile: PyTorch's compile id), by profile, as
 * a partial index: the report counts what each compile saw only of a profile that has them
 * (source-sightings.ts), and asks that of its index, not by reading a million observation
 * lines that name none. Observation lines, pickles and merges name no compile, so the index
 * costs their ingest nothing. SQLite: (profile_id), the shape of its other partial indexes
 * (migration 2026-11-29T04-12 says why); PostgreSQL: (profile_id, position), as its others.
 * `if not exists`: a ledger put back before an older migration runs this one again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await (postgres ? sql`create index if not exists events_compiled on events(profile_id, position) where compile_id is not null` : sql`create index if not exists events_compiled on events(profile_id) where compile_id is not null`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists events_compiled`.execute(db);
}
