import type { Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * No schema change (SQLite and PostgreSQL alike): from here an observation of a tensor may
 * carry the dims torch._dynamo.mark_dynamic marked (`"mark_dynamic": [0]` in its stored body),
 * which the fold joins in as Dynamo does. An older pgo-ledger would drop the field and fold the
 * observation without it; this name tells it that a newer one wrote the database, so it
 * refuses it whole.
 */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(): Promise<void> {
  // Going back would leave marked observations that the older code folds wrongly.
  throw new Error('no way down from 2026-11-29T14-31-mark-dynamic: restore a copy of the database from before it');
}
