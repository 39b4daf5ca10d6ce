import { decodePayload } from './events.ts';
import type { Ledger } from './ledger.ts';
import { dictionaries } from './log.ts';
import { carriesAny, warmStartCarriers, type CarrierSnapshot } from './warm-starts.ts';
import { inputError } from '../errors.ts';
import { jobsThere, listed, RUN_FIELDS as RUN_LISTS, type RunWords } from './known.ts';
import { runsByProfile } from './profile-runs.ts';

/**
 * Appends a run.retracted event to each profile the run fed (or just the job's). A profile
 * that retracted the run already gets none: a second retraction would change nothing.
 * `carried`: for each profile retracted now, the runs not retracted there that warm-started
 * from a profile holding what the run brought, and the snapshots ingested with no run later
 * than it (warm-starts.ts): they still carry it.
 */
export function retractRun(
  ledger: Ledger,
  run: string,
  opts: { job?: string; reason?: string; words?: Pick<RunWords, 'lists'> } = {},
): { retracted: string[]; already: string[]; carried: { cacheKey: string; runs: string[]; snapshots: CarrierSnapshot[] }[]; merged: { cacheKey: string; into: string[] }[] } {
  // An empty job names no job: read as "no job" it retracted the run in every job.
  if (opts.job === '') throw inputError('retractRun: job is empty: an empty job id names no job; give the job id (torch.compiler.config.job_id), or leave job out for every job');
  // each key's job, read once: profiles() per key made --job quadratic (13 s of CPU for a run in 3,000 profiles)
  const jobOf = opts.job ? new Map(ledger.profiles().map((p) => [p.cacheKey, p.key.job])) : null;
  const keys = ledger.sql
    .all<{ cache_key: string }>(
      'select p.cache_key from profile_runs pr join profiles p on p.id = pr.profile_id join runs r on r.id = pr.run_id where r.run = ? order by p.cache_key',
      run,
    )
    .map((r) => r.cache_key)
    .filter((k) => !jobOf || jobOf.get(k) === opts.job);
  // The (few) retraction bodies are read in JS: no JSON function is common to both backends.
  const isRetracted = (k: string) =>
    ledger.sql
      .all<{ payload: string | Uint8Array }>(
        "select b.payload from events e join profiles p on p.id = e.profile_id join bodies b on b.id = e.body_id where p.cache_key = ? and e.kind = 'run.retracted'",
        k,
      )
      .some((r) => (decodePayload(r.payload) as { run?: unknown }).run === run);
  // a job no profile has, said so rather than as a run with no events in it
  if (!keys.length && opts.job !== undefined && ![...jobOf!.values()].includes(opts.job)) {
    throw inputError(`no job ${opts.job} (${jobsThere(ledger.profiles(), opts.job, (opts.words ?? RUN_LISTS).lists)})`);
  }
  if (!keys.length) {
    // a misspelt run would retract nothing, silently (trial s28b: the library did, the command line
    // refused it): the runs there are (of the job asked), as an unknown --code or --job lists what there is
    const byId = runsByProfile(ledger.sql);
    const runs = [...new Set(ledger.profiles().filter((p) => opts.job === undefined || p.key.job === opts.job).flatMap((p) => byId.get(p.id) ?? []))];
    throw inputError(`run ${run} has no events${opts.job ? ` in job ${opts.job}` : ''} (${runs.length ? `runs there: ${listed(runs)}; ` : ''}${(opts.words ?? RUN_LISTS).lists})`);
  }
  const already = keys.filter(isRetracted);
  const retracted = keys.filter((k) => !already.includes(k));
  // before the retraction, which leaves the run's own snapshots out of the window
  const dict = dictionaries(ledger.sql);
  const carried = retracted
    .map((cacheKey) => ({ cacheKey, ...warmStartCarriers(ledger.sql, dict, ledger.profileByKey(cacheKey)!.id, {})(run) }))
    .filter(carriesAny)
    // the snapshots as the library gives them (their import ids are why's to read)
    .map((c) => ({ ...c, snapshots: c.snapshots.map(({ format, origin, position }): CarrierSnapshot => ({ format, origin, position })) }));
  const merged = retracted.map((cacheKey) => ({ cacheKey, into: mergedSince(ledger, cacheKey, run) })).filter((m) => m.into.length);
  if (retracted.length) {
    ledger.append(
      retracted.map((cacheKey) => ({
        kind: 'run.retracted' as const,
        cacheKey,
        payload: { run, ...(opts.reason ? { reason: opts.reason } : {}) },
        run: null,
        idempotencyKey: `retract\u0000${cacheKey}\u0000${run}`,
      })),
    );
  }
  return { retracted, already, carried, merged };
}

/**
 * The profiles a merge joined `cacheKey` into (`merge --from`, `--live` too: their events'
 * origin is `profile <key>`) after the run's first event there: a merge is a snapshot of its
 * sources, so they keep what the run brought whatever is retracted from `cacheKey`.
 */
function mergedSince(ledger: Ledger, cacheKey: string, run: string): string[] {
  // a ledger with no merge from the profile reads no event
  const origin = ledger.sql.get<{ id: number }>('select id from origins where origin = ?', `profile ${cacheKey}`);
  if (!origin) return [];
  const first = ledger.sql.get<{ position: number }>(
    'select pr.first_position as position from profile_runs pr join profiles p on p.id = pr.profile_id join runs r on r.id = pr.run_id where p.cache_key = ? and r.run = ?',
    cacheKey,
    run,
  );
  if (!first) return [];
  return ledger.sql
    .all<{ cache_key: string }>(
      "select distinct p.cache_key from events e join profiles p on p.id = e.profile_id where e.origin_id = ? and e.kind = 'entry.imported' and e.position > ? and p.cache_key <> ? order by p.cache_key",
      origin.id,
      first.position,
      cacheKey,
    )
    .map((r) => r.cache_key);
}
