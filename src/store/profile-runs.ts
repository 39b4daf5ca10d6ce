import type { Sql } from './database.ts';
import { dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';
import { profileRanges } from './profile-spans.ts';

/** Notes that a profile holds a run from a position on; a row stored before (an earlier position) stays. */
export function addProfileRun(sql: Sql, profileId: number, runId: number, firstPosition: number): void {
  sql.run('insert into profile_runs(profile_id, run_id, first_position) values (?, ?, ?) on conflict do nothing', profileId, runId, firstPosition);
}

/**
 * The runs whose events each profile holds (retracted ones included: `--exclude-run` takes
 * them), by profile id, each profile's in first-seen order.
 */
export function runsByProfile(sql: Sql): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const rows = sql.allRaw('select pr.profile_id, r.run from profile_runs pr join runs r on r.id = pr.run_id order by pr.profile_id, pr.first_position');
  for (const [pid, run] of rows) {
    let l = out.get(Number(pid));
    if (!l) out.set(Number(pid), (l = []));
    l.push(String(run));
  }
  return out;
}

/** The profile's rows of profile_runs against its events (verify): each run it holds, from its first event. */
export function verifyProfileRuns(sql: Sql, profileId: number, cacheKey: string): string[] {
  // each run's first event, within the profile's spans (profile-spans.ts)
  const first = new Map<string, number>();
  const ranges = profileRanges(sql, profileId, 0, Number.MAX_SAFE_INTEGER);
  for (let k = 0; k < ranges.length; k += 3) {
    const rows = sql.allRaw('select r.run, min(e.position) from events e join runs r on r.id = e.run_id where e.profile_id = ? and e.position > ? and e.position <= ? group by r.run', profileId, ranges[k], ranges[k + 1]);
    for (const [run, p] of rows) if (!first.has(String(run))) first.set(String(run), Number(p));
  }
  return profileRunsDiffer(sql, profileId, cacheKey, first);
}

/** The profile's rows of profile_runs against `first`, each run's first position in the log (verify): differences in words. */
export function profileRunsDiffer(sql: Sql, profileId: number, cacheKey: string, first: Map<string, number>): string[] {
  const text = (rows: unknown[][]) => rows.map((r) => `run ${String(r[0])} from position ${String(r[1])}`);
  const want = text([...first].sort((a, b) => a[1] - b[1]));
  const have = text(sql.allRaw('select r.run, pr.first_position from profile_runs pr join runs r on r.id = pr.run_id where pr.profile_id = ? order by 2', profileId));
  const out: string[] = [];
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    if (want[i] !== have[i]) out.push(`${cacheKey}: profile run ${i}: stored ${have[i] ?? '(none)'}, the log holds ${want[i] ?? '(none)'}`);
  }
  return out;
}

/** How many runs a profile holds events of in a window (profile_runs; its retracted and excluded runs left out). */
export function profileRunCount(sql: Sql, profileId: number, window: Window = {}): number {
  const out = leftOutRuns(sql, profileId, window, dictionaries(sql));
  let n = 0;
  for (const [run, position, time] of sql.allRaw('select r.run, pr.first_position, e.time from profile_runs pr join runs r on r.id = pr.run_id join events e on e.position = pr.first_position where pr.profile_id = ?', profileId)) {
    if (!out.has(run as string) && inWindow(window, Number(position), Number(time))) n++;
  }
  return n;
}
