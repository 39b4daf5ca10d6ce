import type { Migration } from 'kysely';
import * as initial from './2026-11-26T00-00-initial.ts';
import * as checkpoints from './2026-11-28T02-30-checkpoints.ts';
import * as closureHash from './2026-11-28T03-00-closure-hash.ts';
import * as postgres from './2026-11-28T04-00-postgres.ts';

/** Every migration, by name (dated, so they sort in the order they were written). */
export const migrations: Record<string, Migration> = {
  '2026-11-26T00-00-initial': initial,
  '2026-11-28T02-30-checkpoints': checkpoints,
  '2026-11-28T03-00-closure-hash': closureHash,
  '2026-11-28T04-00-postgres': postgres,
};
