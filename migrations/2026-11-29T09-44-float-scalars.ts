import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * No schema change (SQLite and PostgreSQL alike): from here an entry's scalar may be a float,
 * `{"float": "<repr>"}` in the stored bodies and views (codecs/entry-json.ts), as PyTorch
 * records one with specialize_float=False. Its name tells an older pgo-ledger, which would
 * fail on such a body, that a newer one wrote the database, so it refuses it whole.
 */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(): Promise<void> {
  // Going back would leave float bodies that the older code cannot read.
  throw new Error('no way down from 2026-11-29T09-44-float-scalars: restore a copy of the database from before it');
}
