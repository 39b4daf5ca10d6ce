import { codeKey } from '../model/code-id.ts';
import { snapshotKind } from '../model/snapshot-kind.ts';
import { compileOf } from './compile-of.ts';
import { compileInputs } from './compile-inputs.ts';
import type { Sql } from './database.ts';
import { scanEvents, type Dictionaries } from './log.ts';
import { inWindowSql, leftOutRuns, windowFolds, type Window } from './window.ts';

/** How often a source was fed, and in how many runs. */
export interface Sightings {
  n: number;
  runs: number;
}

/**
 * How many times each source (by codeKey, NUL, source) was fed in a window, counted as `why`
 * counts its values (compile-values.ts): each compile once, whatever it logged of the source
 * (the input it described, a record, the snapshot it put, but for an input it did not describe
 * there: compile-inputs.ts); an observation line once; a profile
 * file (a pickle, a remote value) once where no compile saw the source, as it holds their join;
 * a snapshot a run loaded at its start (`get_*_code_state`) never: earlier runs fed that.
 * Null for a profile no trace gave events to (none names a compile): there every event is one
 * sighting, which the log counts (log-counts.ts) say from checkpoints without reading the log.
 */
export function sourceSightings(sql: Sql, dict: Dictionaries, profileId: number, window: Window): Map<string, Sightings> | null {
  const { test, args } = inWindowSql(window);
  // the partial index of the events that name a compile (migration 2026-11-30T13-40)
  if (!sql.get(`select 1 from events where profile_id = ? and compile_id is not null and ${test} limit 1`, profileId, ...args)) return null;
  const excluded = leftOutRuns(sql, profileId, window, dict);
  const each = new Map<string, { compiles: Set<string>; lines: number; files: number; runs: Set<string>; fileRuns: Set<string> }>();
  const inputs = compileInputs(dict);
  scanEvents(
    sql,
    { ...window, profileId, details: true },
    (ev) => {
      if (!windowFolds(ev, excluded)) return;
      const compile = compileOf(ev);
      const snapshot = ev.kind === 'entry.imported' ? snapshotKind(ev.format) : null;
      if (snapshot === 'get' || (compile === null && ev.kind !== 'shape.observed' && ev.kind !== 'entry.imported')) return;
      const k = `${codeKey(ev.code)}\u0000${ev.source}`;
      inputs.seen(ev, compile, k);
      // a put's entry of an input its compile never had: what the run loaded (compile-values.ts alike)
      if (snapshot === 'put' && compile !== null && ev.entry && inputs.loadedOnly(compile, k, ev.entry)) return;
      let s = each.get(k);
      if (!s) each.set(k, (s = { compiles: new Set(), lines: 0, files: 0, runs: new Set(), fileRuns: new Set() }));
      if (compile !== null) s.compiles.add(compile);
      else if (ev.kind === 'shape.observed') s.lines++;
      else {
        s.files++;
        if (ev.run !== null) s.fileRuns.add(ev.run);
        return;
      }
      if (ev.run !== null) s.runs.add(ev.run);
    },
    dict,
  );
  const out = new Map<string, Sightings>();
  for (const [k, s] of each) {
    const files = s.compiles.size ? 0 : s.files;
    if (files) for (const r of s.fileRuns) s.runs.add(r);
    const n = s.compiles.size + s.lines + files;
    if (n) out.set(k, { n, runs: s.runs.size });
  }
  return out;
}
