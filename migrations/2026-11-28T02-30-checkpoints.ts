import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Checkpoints: a profile's fold state every N events, so an answer as of a point reads the
 * nearest checkpoint and folds only the tail. Derived data: deleting them changes no answer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('checkpoints')
    .addColumn('profile_id', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    // the profile's events up to and including position, and the latest of their times
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .addColumn('max_time', 'integer', (c) => c.notNull())
    // deflated JSON: [[seq, code id, [[source, entry json], ...]], ...]
    .addColumn('state', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('checkpoints_pk', ['profile_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('checkpoints').execute();
}
