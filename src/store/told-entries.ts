import type { Ledger } from './ledger.ts';
import { dictionaries } from './log.ts';
import { codeKey } from '../model/code-id.ts';

/** A slot of a profile: its code and source. */
export const slotOf = (code: Parameters<typeof codeKey>[0], source: string) => `${codeKey(code)}\u0000${source}`;

/**
 * Whether a profile file's entries (slot to its value's JSON) are, whole, a snapshot one of its
 * profile's TORCH_TRACE logs held (then the run of that snapshot's events, else null) (a compile's `put_*_code_state` or `get_*_code_state`). A trace
 * logs a snapshot's entries where they changed since the log's snapshot before, so a snapshot is
 * its log's entries up to its line. A profile file (a run's pickle, a remote value, a mega-cache
 * artifact) that is one of them is what PyTorch wrote at that snapshot: it tells nothing the log
 * did not, and joined again it would undo what a later compile overwrote (session 29, trial
 * s29a: probe13's run 1 pickle, read after run 4's `dynamic=False` put 32, made f's L['x']
 * dynamic again). Whole, not entry by entry: a file of a run whose log is not there may hold one
 * entry equal to another run's and the rest its own (trial s29c: a cold run's file lost that
 * entry when the other run was retracted). Each snapshot is compared as it is reached, none kept:
 * a fleet's profile holds thousands. Read by the index of the events that name a compile: a
 * profile of observation lines has none.
 */
export function heldWholeByTraces(ledger: Ledger, cacheKey: string, snapshot: () => ReadonlyMap<string, string>): { run: string | null } | null {
  const p = ledger.profileByKey(cacheKey);
  if (!p) return null;
  const dict = dictionaries(ledger.sql);
  const rows = ledger.sql.allRaw("select code_id, source_id, body_id, origin_id, origin_line, run_id from events where profile_id = ? and compile_id is not null and kind = 'entry.imported' order by position", p.id);
  if (rows.length === 0) return null;
  // made only where traces hold snapshots: a file read again with none made it for nothing
  const file = snapshot();
  if (file.size === 0) return null;
  const same = (state: Map<string, string>) => {
    if (state.size !== file.size) return false;
    for (const [slot, json] of state) if (file.get(slot) !== json) return false;
    return true;
  };
  // each log's entries so far, and the line of the snapshot being read
  // (and the run of the snapshot's events: the run that wrote it, as the note says)
  const logs = new Map<unknown, { state: Map<string, string>; line: unknown; run: unknown }>();
  const held = (log: { run: unknown }) => ({ run: log.run === null ? null : dict.run(Number(log.run)) });
  for (const r of rows) {
    const body = dict.body(r[2] as number).stored as { entry?: unknown; format?: unknown };
    if (typeof body.format !== 'string' || !/^(?:put|get)_/.test(body.format)) continue;
    let log = logs.get(r[3]);
    if (!log) logs.set(r[3], (log = { state: new Map(), line: r[4], run: r[5] }));
    if (log.line !== r[4]) {
      if (same(log.state)) return held(log);
      log.line = r[4];
      log.run = r[5];
    }
    log.state.set(slotOf(dict.code(r[0] as number), dict.source(r[1] as number)), JSON.stringify(body.entry));
  }
  for (const log of logs.values()) if (same(log.state)) return held(log);
  return null;
}
