import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Why-checkpoints: `why`'s state (what it gathers per code id, source and dim) beside each
 * checkpoint of the profile's fold, at the same position, so `why`, `diff` and `report` fold
 * only the tail; and the counts the report takes of the log up to it. Derived data: deleting
 * them changes no answer.
 *
 * And the compiles' described inputs (shape.described, evidence `why` and `report` show) by
 * profile: rare events, which without it cost a pass over all of the profile's events.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('why_checkpoints')
    .addColumn('profile_id', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    // deflated JSON (why-fold.ts, WhyStateJson): the runs, events and evidence it names, then per code id and source its dims' facts
    .addColumn('state', 'blob', (c) => c.notNull())
    // deflated JSON (log-counts.ts): what the report counts of the log up to position, whatever the window
    .addColumn('counts', 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('why_checkpoints_pk', ['profile_id', 'position'])
    .execute();
  await sql`create index events_described on events(profile_id, position) where kind = 'shape.described'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_described').execute();
  await db.schema.dropTable('why_checkpoints').execute();
}
