import { codeKey, type CodeId } from '../model/code-id.ts';
import type { Ledger } from './ledger.ts';
import { dictionaries } from './log.ts';

/** What tells an entry apart: its code, its source and its value (entryToJson's JSON). */
export const toldKey = (code: CodeId, source: string, entryJson: string) => `${codeKey(code)}\u0000${source}\u0000${entryJson}`;

/**
 * The entries a profile's TORCH_TRACE snapshots held (each compile's `put_*_code_state` and
 * `get_*_code_state`), as `toldKey`s. A trace logs an entry of a snapshot whenever it changed
 * since the one before, so every value a snapshot held is an event. A profile file read after
 * the logs (a run's pickle, a remote value, a mega-cache's artifact) whose entry is among them
 * is what PyTorch wrote at one of those snapshots: it tells nothing the log did not, and
 * joined again it would undo what a later compile overwrote (session 29, trial s29a: probe13's
 * run 1 pickle, read after run 4's `dynamic=False` put 32, made f's L['x'] dynamic again).
 * Read by the index of the events that name a compile: a profile of observation lines has none.
 */
export function entriesTracesHeld(ledger: Ledger, cacheKey: string): Set<string> {
  const told = new Set<string>();
  const p = ledger.profileByKey(cacheKey);
  if (!p) return told;
  const dict = dictionaries(ledger.sql);
  const rows = ledger.sql.allRaw("select code_id, source_id, body_id from events where profile_id = ? and compile_id is not null and kind = 'entry.imported'", p.id);
  for (const r of rows) {
    const body = dict.body(r[2] as number).stored as { entry?: unknown; format?: unknown };
    if (typeof body.format !== 'string' || !/^(?:put|get)_/.test(body.format)) continue;
    told.add(toldKey(dict.code(r[0] as number), dict.source(r[1] as number), JSON.stringify(body.entry)));
  }
  return told;
}
