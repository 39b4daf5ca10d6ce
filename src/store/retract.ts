import type { Ledger } from './ledger.ts';

/** Appends a run.retracted event to each profile the run fed (or just the job's); returns their keys. */
export function retractRun(ledger: Ledger, run: string, opts: { job?: string; reason?: string } = {}): string[] {
  const keys = ledger.sql
    .all<{ cache_key: string }>(
      'select distinct p.cache_key from events e join profiles p on p.id = e.profile_id join runs r on r.id = e.run_id where r.run = ? order by p.cache_key',
      run,
    )
    .map((r) => r.cache_key)
    .filter((k) => !opts.job || ledger.profiles().find((p) => p.cacheKey === k)?.key.job === opts.job);
  if (keys.length === 0) return [];
  ledger.append(
    keys.map((cacheKey) => ({
      kind: 'run.retracted' as const,
      cacheKey,
      payload: { run, ...(opts.reason ? { reason: opts.reason } : {}) },
      run: null,
      idempotencyKey: `retract\u0000${cacheKey}\u0000${run}`,
    })),
  );
  return keys;
}
