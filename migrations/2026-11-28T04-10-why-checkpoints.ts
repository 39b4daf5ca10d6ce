import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Why-checkpoints: `why`'s state (what it gathers per code id, source and dim) beside each
 * checkpoint of the profile's fold, at the same position, so `why`, `diff` and `report` fold
 * only the tail. Derived data: deleting them changes no answer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('why_checkpoints')
    .addColumn('profile_id', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    // deflated JSON: [[code id, source, last entry json, saw bits, [[dim, evidence...], ...], [[body id, count, runs], ...]], ...]
    .addColumn('state', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('why_checkpoints_pk', ['profile_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('why_checkpoints').execute();
}
