import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Live merges (issue 12.5): `merge --live` stores which profiles are joined into which, and the
 * append path joins each batch's changes to a matching source into the target. Portable
 * (SQLite and PostgreSQL): text and bigint columns, a natural primary key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('live_merges')
    // the target profile's cache key
    .addColumn('into_key', 'text', (c) => c.notNull())
    // a source: a cache key, or a glob over cache keys (`*` any run of characters, `?` one)
    .addColumn('pattern', 'text', (c) => c.notNull())
    // ms since the epoch
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('live_merges_pk', ['into_key', 'pattern'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('live_merges').execute();
}
