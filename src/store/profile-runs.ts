import type { Sql } from './database.ts';

/**
 * The runs whose events each profile holds (retracted ones included: `--exclude-run` takes
 * them), by profile id, each profile's in first-seen order.
 */
export function runsByProfile(sql: Sql): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const rows = sql.allRaw('select e.profile_id, r.run, min(e.position) as first_seen from events e join runs r on r.id = e.run_id group by e.profile_id, r.run order by e.profile_id, first_seen');
  for (const [pid, run] of rows) {
    let l = out.get(Number(pid));
    if (!l) out.set(Number(pid), (l = []));
    l.push(String(run));
  }
  return out;
}
