import type { CodeStrings } from '../codecs/pickle/index.ts';
import { codeKey } from '../model/code-id.ts';
import { snapshotKind } from '../model/snapshot-kind.ts';
import type { Sql } from './database.ts';
import { eachImportedEvent, importedBodies } from './imported-events.ts';
import type { Dictionaries } from './log.ts';
import type { Window } from './window.ts';

/**
 * Which string objects each code id's filename, name and file_hash were in the PyTorch process
 * that wrote the profile's newest snapshot (CodeStrings), from the traces' snapshots: a run
 * writes the code ids it loaded at its start (its get_*_code_state) with the unpickler's
 * strings, and only those it first compiled itself with its code objects' (a name interned, so
 * one object with an equal field name). Loaded again by the next run, each run's objects stay
 * apart from every other run's. So each code id is of the run whose snapshot holds it first
 * (event times: PyTorch's clock), the writer's own where that is the writer's put_*; the writer
 * is the run of the newest put_* the window folds. Null where no trace's snapshot is folded.
 *
 * torch._dynamo.reset() empties the process's profile, and its next compile (named anew,
 * `0/0 (2nd)`) loads the file again: every code id the writer had compiled before it has the
 * unpickler's strings from then on, apart from those it compiles after it (probe9: lim's
 * filename and file_hash written again, not shared with f's). So the writer's own code ids are
 * told apart by the reset they came after; those after its last reset before the newest put
 * are its own. Every run's alike: a warm start loads the file an earlier run wrote, its code
 * ids of each of that run's epochs apart, as it wrote them (probe11).
 */
export function codeOrigins(sql: Sql, dict: Dictionaries, profileId: number, w: Window): CodeStrings | null {
  const kinds = snapshotKinds(sql, dict);
  if (!kinds.size) return null;
  // each code row's first snapshot, and the newest put
  const first = new Map<number, { time: number; position: number; run: string; kind: 'put' | 'get' }>();
  let writer: { time: number; position: number; run: string } | null = null;
  // each run's resets: the first snapshot of each compile named anew from 0/0
  const resets = new Map<string, Map<string, { time: number; position: number }>>();
  eachImportedEvent(sql, dict, profileId, w, false, (e) => {
    const kind = kinds.get(e.bodyId);
    if (!kind || e.run === null || e.codeRow === null) return;
    const reset = e.compileId === null ? null : RESET.exec(e.compileId);
    if (reset) {
      let r = resets.get(e.run);
      if (!r) resets.set(e.run, (r = new Map()));
      const at = r.get(reset[1]);
      if (!at || before(e, at)) r.set(reset[1], { time: e.time, position: e.position });
    }
    const f = first.get(e.codeRow);
    if (!f || before(e, f)) first.set(e.codeRow, { time: e.time, position: e.position, run: e.run, kind });
    if (kind === 'put' && (!writer || before(writer, e))) writer = { time: e.time, position: e.position, run: e.run };
  });
  const by = writer as { time: number; position: number; run: string } | null;
  if (!by) return null;
  // which of its run's resets came before a snapshot: the run's epoch it is of
  const epoch = (run: string, at: { time: number; position: number }) => {
    let n = 0;
    for (const r of resets.get(run)?.values() ?? []) if (!before(at, r)) n++;
    return n;
  };
  const last = epoch(by.run, by);
  const groups = new Map<string, number>();
  const out = new Map<string, [number, number, number]>();
  for (const [row, f] of first) {
    // a run's own code ids of one epoch share its code objects' strings; another epoch's, or
    // another run's, are an unpickler's, each apart (a file loaded keeps what it was written with)
    const at = epoch(f.run, f);
    const label = `${f.run}\u0000${f.kind}\u0000${at}`;
    let g = f.kind === 'put' && f.run === by.run && at === last ? 0 : groups.get(label);
    if (g === undefined) groups.set(label, (g = groups.size + 1));
    out.set(codeKey(dict.code(row)), [g, g, g]);
  }
  return out;
}

/** A compile named anew after torch._dynamo.reset() (ingest-trace.ts names it `0/0 (2nd)`, an attempt `0/0 (2nd)_1`): its ordinal. */
const RESET = /^0\/0 \((\d+)(?:st|nd|rd|th)\)(?:_\d+)?$/;

const before = (a: { time: number; position: number }, b: { time: number; position: number }) => a.time < b.time || (a.time === b.time && a.position < b.position);

/** The bodies of entry.imported events that a trace's put_*_code_state or get_*_code_state brought. */
function snapshotKinds(sql: Sql, dict: Dictionaries): Map<number, 'put' | 'get'> {
  const out = new Map<number, 'put' | 'get'>();
  for (const { id, body } of importedBodies(sql, dict)) {
    const kind = snapshotKind(body.format);
    if (kind) out.set(id, kind);
  }
  return out;
}
