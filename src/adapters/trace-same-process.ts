import { inputName } from '../errors.ts';
import { hash53 } from '../store/hash53.ts';
import type { Ledger, NewEvent } from '../store/ledger.ts';
import { retractedRuns } from '../store/retracted-runs.ts';

/**
 * A trace's events as the run the ledger holds its process under already. A log's events are
 * keyed by their profile, run, compile and content (`trace\0key\0run\0…`): ingested again under
 * another run name (`--run X`, then `watch`, which takes none, or the log's own name, then a
 * `--run`), every event went in again, and every count doubled (trial s36b). Where the ledger
 * holds the first event of a process (the same compile, time and content) under another run,
 * its events go in as that run's: what is there is a duplicate, what is new (a log grown since)
 * that run's. A run its profile retracted is taken again under the name given by `--run` (as a
 * snapshot's is); with none, it stays retracted, and that is said.
 */
export function asEarlierRun(ledger: Ledger, events: NewEvent[], file: string, given: string | undefined, note?: (m: string) => void): NewEvent[] {
  if (!events.length || ledger.sql.get('select 1 as one from events limit 1') === undefined) return events;
  // a file may hold several processes (parts): each its own run and key start
  const groups = new Map<string, { run: string; cacheKey: string; events: NewEvent[] }>();
  for (const e of events) {
    if (typeof e.run !== 'string') continue;
    const start = `trace\u0000${e.cacheKey}\u0000${e.run}\u0000`;
    if (!e.idempotencyKey.startsWith(start)) continue;
    let g = groups.get(start);
    if (!g) groups.set(start, (g = { run: e.run, cacheKey: e.cacheKey, events: [] }));
    g.events.push(e);
  }
  const renamed = new Map<NewEvent, NewEvent>();
  for (const [start, g] of groups) {
    const first = g.events.find((e) => e.compileId != null && e.time !== undefined);
    if (!first) continue;
    const rest = first.idempotencyKey.slice(start.length);
    const candidates = ledger.sql
      .all<{ run: string }>(
        'select distinct r.run as run from events e join profiles p on p.id = e.profile_id join runs r on r.id = e.run_id where p.cache_key = ? and e.compile_id = ? and e.time = ? and e.kind = ?',
        g.cacheKey,
        first.compileId,
        first.time,
        first.kind,
      )
      .map((r) => r.run)
      .filter((r) => r !== g.run);
    const earlier = candidates.find((r) => ledger.sql.get('select 1 as one from events where idempotency_key = ?', hash53(`trace\u0000${g.cacheKey}\u0000${r}\u0000${rest}`)) !== undefined);
    if (earlier === undefined) continue;
    const profile = ledger.profileByKey(g.cacheKey);
    const retracted = profile !== undefined && retractedRuns(ledger, profile.id).includes(earlier);
    const name = inputName(file);
    if (retracted && given !== undefined) {
      note?.(`${name}: the same process as run ${earlier}'s, which its profile retracted: taken again as run ${g.run}'s, as --run names it`);
      continue;
    }
    const newStart = `trace\u0000${g.cacheKey}\u0000${earlier}\u0000`;
    for (const e of g.events) {
      const key = newStart + e.idempotencyKey.slice(start.length);
      renamed.set(e, { ...e, run: earlier, idempotencyKey: key, idempotencyHash: hash53(key) });
    }
    const why = given !== undefined && given !== earlier ? ` (--run ${given} not used: retract run ${earlier} and ingest the log again to name it otherwise)` : '';
    note?.(
      retracted
        ? `${name}: the same process as run ${earlier}'s, which its profile retracted: its events go in as that run's, and stay out of every answer (give --run to take it again as another run)`
        : `${name}: the same process as run ${earlier}'s, in the ledger already: its events go in as that run's${why}`,
    );
  }
  return renamed.size ? events.map((e) => renamed.get(e) ?? e) : events;
}
