import type { Sql } from './database.ts';
import { dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/** A run whose events came into a profile's log after those of a run that started later. */
export interface LateRun {
  run: string;
  /** Its first event's position and time (PyTorch's clock). */
  position: number;
  time: number;
  /** The run before it in the log that started the latest, later than it. */
  after: { run: string; position: number; time: number };
}

/**
 * The runs of a profile that came into its log out of time order: each run whose events are all
 * older than the first event of a run the log holds before it (a job's logs ingested newest
 * first, trial s28a). A run ingested in parts around another (a log read while it grew, then
 * another run's) is not told: each run's first event is what profile_runs keeps. The log's order is the order of ingest, and `why` names the first event in
 * it that made a dim dynamic: there, a later run's load of a profile that held the dim dynamic,
 * not the record PyTorch logged in the earlier run that made it so. From profile_runs (each run's
 * first position) and its first event's time: no scan of the profile's events.
 */
export function lateRuns(sql: Sql, profileId: number, window: Window = {}): LateRun[] {
  const out = leftOutRuns(sql, profileId, window, dictionaries(sql));
  const late: LateRun[] = [];
  let latest: LateRun['after'] | null = null;
  for (const [run, position, time, runId] of sql.allRaw('select r.run, pr.first_position, e.time, pr.run_id from profile_runs pr join runs r on r.id = pr.run_id join events e on e.position = pr.first_position where pr.profile_id = ? order by pr.first_position', profileId)) {
    const r = { run: String(run), position: Number(position), time: Number(time) };
    if (out.has(r.run) || !inWindow(window, r.position, r.time)) continue;
    // runs whose times overlap (two processes at once) have no order to keep (trial s28c: noise);
    // a run's last event is read only for such a one, which an ingest in time order never has
    if (latest !== null && r.time < latest.time && lastTime(sql, profileId, Number(runId)) < latest.time) late.push({ ...r, after: latest });
    if (latest === null || r.time > latest.time) latest = r;
  }
  return late;
}

/** The time of a run's last event in a profile (PyTorch's clock). */
function lastTime(sql: Sql, profileId: number, runId: number): number {
  return Number(sql.allRaw('select max(time) from events where profile_id = ? and run_id = ?', profileId, runId)[0]?.[0] ?? Number.NEGATIVE_INFINITY);
}

/** The late runs (lateRuns) that came after a log position, by profile: what an ingest that began there brought out of time order. */
export function lateRunsAfter(sql: Sql, position: number): { cacheKey: string; late: LateRun[] }[] {
  const out: { cacheKey: string; late: LateRun[] }[] = [];
  for (const [id, cacheKey] of sql.allRaw('select p.id, p.cache_key from profiles p where exists (select 1 from profile_runs pr where pr.profile_id = p.id and pr.first_position > ?) order by p.cache_key', position)) {
    const late = lateRuns(sql, Number(id)).filter((r) => r.position > position);
    if (late.length) out.push({ cacheKey: String(cacheKey), late });
  }
  return out;
}

/** A late run in words (ingest and why say it alike). */
export function lateRunText(cacheKey: string, late: LateRun[]): string {
  const [r] = late;
  const iso = (ms: number) => new Date(ms).toISOString();
  const more = late.length > 1 ? ` (and ${late.length - 1} more run${late.length > 2 ? 's' : ''} so)` : '';
  return `${cacheKey}: run ${r.run} (from ${iso(r.time)}) came into the log after run ${r.after.run}, which started later (${iso(r.after.time)})${more}: answers follow the log's order, the order of ingest, so why may name a later event than PyTorch's order would (a later run's load of the profile, where PyTorch logged the change in the earlier run); ingest a job's logs oldest first (into a new ledger) for PyTorch's order`;
}
