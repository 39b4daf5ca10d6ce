import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Where `watch` is in each input it follows, written in the same transaction as the events
 * the input gave, so a restart (even after kill -9) goes on from there. `input` names the
 * input ('file:<dev>:<ino>', 'redis:<url without password>:<key>'); `identity` tells a file
 * that was truncated or replaced (its first bytes' hash, or its size and mtime); `byte_offset`
 * is how far a log was read; `hash` is a whole file's or a Redis value's content hash;
 * `complete` is 1 when everything up to byte_offset gave its events (a log's last entry
 * included). Portable: text and bigint only, a natural primary key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('watch_cursors')
    .addColumn('input', 'text', (c) => c.primaryKey())
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('byte_offset', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text')
    .addColumn('complete', 'bigint', (c) => c.notNull())
    .addColumn('path', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('watch_cursors').execute();
}
