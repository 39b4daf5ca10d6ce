import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * The runs each profile holds, with the position of the run's first event in it, in place of
 * the index of every event by run (events_by_run, a tenth of the file). What used that index
 * asks only this: which profiles hold a run (`retract`), whether a profile holds one of some
 * runs up to a position (a checkpoint under `--exclude-run`), and each profile's runs in
 * first-seen order (`jobs --json`, which scanned the whole log even with the index). The
 * append adds a row for a profile's first event of a run. Portable (SQLite and PostgreSQL).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('profile_runs')
    .addColumn('profile_id', 'bigint', (c) => c.notNull())
    .addColumn('run_id', 'bigint', (c) => c.notNull())
    .addColumn('first_position', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_runs_pk', ['profile_id', 'run_id'])
    .execute();
  await sql`insert into profile_runs(profile_id, run_id, first_position)
    select profile_id, run_id, min(position) from events where run_id is not null group by profile_id, run_id`.execute(db);
  await db.schema.dropIndex('events_by_run').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('events_by_run').on('events').columns(['run_id']).execute();
  await db.schema.dropTable('profile_runs').execute();
}
