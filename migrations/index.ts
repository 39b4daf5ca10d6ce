import type { Migration } from 'kysely';

/**
 * A migration loaded when it runs: the names are all that opening a current database needs,
 * and the migrations' code would load Kysely (a quarter of the command line's code) into
 * every command.
 */
const lazy = (load: () => Promise<Migration>): Migration => ({
  up: async (db) => (await load()).up(db),
  down: async (db) => (await load()).down?.(db),
});

/** Every migration, by name (dated, so they sort in the order they were written). */
export const migrations: Record<string, Migration> = {
  '2026-11-26T00-00-initial': lazy(() => import('./2026-11-26T00-00-initial.ts')),
  '2026-11-28T02-30-checkpoints': lazy(() => import('./2026-11-28T02-30-checkpoints.ts')),
  '2026-11-28T03-00-closure-hash': lazy(() => import('./2026-11-28T03-00-closure-hash.ts')),
  '2026-11-28T04-00-postgres': lazy(() => import('./2026-11-28T04-00-postgres.ts')),
  '2026-11-28T04-10-why-checkpoints': lazy(() => import('./2026-11-28T04-10-why-checkpoints.ts')),
  '2026-11-28T04-20-watch-cursors': lazy(() => import('./2026-11-28T04-20-watch-cursors.ts')),
  '2026-11-28T04-30-live-merges': lazy(() => import('./2026-11-28T04-30-live-merges.ts')),
  '2026-11-28T07-40-profile-runs': lazy(() => import('./2026-11-28T07-40-profile-runs.ts')),
  '2026-11-28T17-30-event-transactions': lazy(() => import('./2026-11-28T17-30-event-transactions.ts')),
  '2026-11-28T22-39-position-blocks': lazy(() => import('./2026-11-28T22-39-position-blocks.ts')),
  '2026-11-29T04-12-events-by-profile-rowid': lazy(() => import('./2026-11-29T04-12-events-by-profile-rowid.ts')),
  '2026-11-29T07-55-take-positions-definer': lazy(() => import('./2026-11-29T07-55-take-positions-definer.ts')),
  '2026-11-29T09-24-profile-spans': lazy(() => import('./2026-11-29T09-24-profile-spans.ts')),
  '2026-11-29T09-44-float-scalars': lazy(() => import('./2026-11-29T09-44-float-scalars.ts')),
  '2026-11-29T14-31-mark-dynamic': lazy(() => import('./2026-11-29T14-31-mark-dynamic.ts')),
  '2026-11-30T13-40-events-compiled': lazy(() => import('./2026-11-30T13-40-events-compiled.ts')),
};
