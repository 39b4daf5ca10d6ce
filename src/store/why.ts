import { DYNAMIC, type Atom } from '../model/atoms.ts';
import { codeIdText, codeKey, type CodeId } from '../model/code-id.ts';
import { dimSwitchHint } from '../model/switches.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { intRepr } from '../model/int.ts';
import { atomStr } from '../model/python-repr.ts';
import { shapeFromJson } from './fold.ts';
import type { StoredEvent } from './events.ts';
import type { Ledger } from './ledger.ts';
import type { Window } from './window.ts';

export type DimRef = number | 'scalar' | 'rank';

export interface DimStory {
  code: CodeId;
  source: string;
  dim: DimRef;
  /** 'size' dims, the scalar, or the number of dims itself. */
  dynamic: boolean;
  current: string;
  /** The change that made it dynamic, if it did. */
  becameDynamic?: {
    position: number;
    time: number;
    run: string | null;
    origin: string | null;
    originLine: number | null;
    compileId: string | null;
    kind: string;
    before: string;
    observed: string;
    /** The record PyTorch itself logged for this change (from a trace), with its guard failure. */
    logged?: { compileId: string | null; cached: string; new: string; guard: string | null; origin: string | null; originLine: number | null };
  };
  /** Each value observed for this dim, with the runs that fed it, in first-seen order. */
  values: { value: string; runs: string[]; count: number }[];
  advice: string;
}

function sizeAt(e: FrameStateSizeEntry | undefined, dim: DimRef): Atom | 'unset' | 'absent' {
  if (!e) return 'absent';
  if (dim === 'scalar') return e.scalar;
  if (!Array.isArray(e.size)) return e.size === DYNAMIC ? DYNAMIC : 'unset';
  if (dim === 'rank') return e.size.length;
  return dim < e.size.length ? e.size[dim] : 'absent';
}
function show(a: Atom | 'unset' | 'absent'): string {
  if (a === DYNAMIC) return '?';
  if (a === 'unset' || a === 'absent') return a;
  return atomStr(a);
}

/** What each dim of a source went through: when it turned dynamic, by what, and what would have kept it static. */
export function parseDimRef(s: string): DimRef | undefined {
  if (s === 'scalar' || s === 'rank') return s;
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

export function explain(ledger: Ledger, profileId: number, opts: { source?: string; dim?: DimRef; code?: string; window?: Window } = {}): DimStory[] {
  const source = opts.source!;
  type Acc = { code: CodeId; before: Map<string, DimStory['becameDynamic']>; values: Map<string, Map<string, { runs: Set<string>; count: number }>>; last?: FrameStateSizeEntry; dims: Set<DimRef> };
  const accs = new Map<string, Acc>();
  const matches = (c: CodeId) => !opts.code || codeIdText(c).includes(opts.code) || c.name === opts.code;
  const logged = new Map<string, NonNullable<NonNullable<DimStory['becameDynamic']>['logged']>>();
  ledger.fold(profileId, opts.window ?? {}, (step, ev) => {
    if (step.source !== source || !matches(step.code)) return;
    const k = codeKey(step.code);
    if (ev.kind === 'dynamic.logged') {
      const r = ev.payload.record;
      const dim = r.reason === 'size change' ? String(r.dim_changed) : r.reason === 'scalar change' ? 'scalar' : r.reason === 'dimensionality change' ? 'rank' : null;
      if (dim !== null) logged.set(`${k}\u0000${dim}`, { compileId: ev.compileId, cached: r.cached, new: r.new, guard: step.guard, origin: ev.origin, originLine: ev.originLine });
      return;
    }
    let acc = accs.get(k);
    if (!acc) accs.set(k, (acc = { code: step.code, before: new Map(), values: new Map(), dims: new Set() }));
    acc.last = step.after;
    const seenDims: DimRef[] = ['scalar', 'rank'];
    const n = Array.isArray(step.after.size) ? step.after.size.length : Array.isArray(step.before?.size) ? step.before!.size.length : 0;
    for (let d = 0; d < n; d++) seenDims.push(d);
    const obs = observedValues(ev);
    for (const d of seenDims) {
      const o = obs(d);
      if (o !== undefined) {
        acc.dims.add(d);
        let vm = acc.values.get(String(d));
        if (!vm) acc.values.set(String(d), (vm = new Map()));
        const slot = vm.get(o) ?? { runs: new Set<string>(), count: 0 };
        slot.count++;
        if (ev.run) slot.runs.add(ev.run);
        vm.set(o, slot);
      }
      const b = sizeAt(step.before, d);
      const a = sizeAt(step.after, d);
      if (a === DYNAMIC && b !== DYNAMIC && step.before && !acc.before.has(String(d))) {
        acc.dims.add(d);
        acc.before.set(String(d), {
          position: ev.position,
          time: ev.time,
          run: ev.run,
          origin: ev.origin,
          originLine: ev.originLine,
          compileId: ev.compileId,
          kind: ev.kind,
          before: show(b),
          observed: o ?? 'an imported entry',
          logged: logged.get(`${k}\u0000${String(d)}`),
        });
      }
    }
  });
  const out: DimStory[] = [];
  for (const acc of accs.values()) {
    const dims = [...acc.dims].filter((d) => opts.dim === undefined || d === opts.dim);
    dims.sort((x, y) => (typeof x === 'number' && typeof y === 'number' ? x - y : typeof x === 'number' ? 1 : typeof y === 'number' ? -1 : 0));
    for (const d of dims) {
      if (d === 'scalar' && acc.last?.scalar === DYNAMIC && Array.isArray(acc.last.size)) continue; // a tensor's scalar is always dynamic
      if (d === 'rank' && !acc.before.has('rank')) continue;
      const cur = sizeAt(acc.last, d);
      const values = [...(acc.values.get(String(d)) ?? new Map())].map(([value, v]) => ({ value, runs: [...v.runs], count: v.count }));
      const became = acc.before.get(String(d));
      const advice = became?.logged
        ? `PyTorch saw ${became.logged.cached} then ${became.logged.new}${became.run ? ` (run ${became.run})` : ''}: feeding one size keeps it static` +
          (typeof d === 'number' ? `, or torch._dynamo.mark_static on dim ${d}` : '') +
          (became.run ? `; pgo-ledger retract --run ${became.run} undoes that run` : '')
        : advise(d, cur === DYNAMIC, values, source);
      const hint = dimSwitchHint(source, d, cur === DYNAMIC, values);
      out.push({ code: acc.code, source, dim: d, dynamic: cur === DYNAMIC, current: show(cur), becameDynamic: became, values, advice: hint ? `${advice}; ${hint}` : advice });
    }
  }
  return out;
}

function observedValues(ev: StoredEvent): (d: DimRef) => string | undefined {
  if (ev.kind !== 'shape.observed') return () => undefined;
  const s = shapeFromJson(ev.payload.shape);
  return (d) => {
    if (s.kind === 'scalar') return d === 'scalar' ? intRepr(s.value) : undefined;
    if (d === 'scalar') return undefined;
    if (d === 'rank') return String(s.size.length);
    return d < s.size.length ? intRepr(s.size[d]) : undefined;
  };
}

function advise(d: DimRef, dynamic: boolean, values: DimStory['values'], source: string): string {
  if (!dynamic) return values.length <= 1 ? 'static: every observation agreed' : 'static';
  const what = d === 'scalar' ? `${source}` : d === 'rank' ? `the number of dims of ${source}` : `dim ${d} of ${source}`;
  if (values.length >= 2) {
    const [top, ...others] = [...values].sort((a, b) => b.count - a.count);
    const otherRuns = new Set(others.flatMap((o) => o.runs));
    const onlyOthers = [...otherRuns].filter((r) => !top.runs.includes(r));
    if (onlyOthers.length && onlyOthers.length === otherRuns.size && others.every((o) => o.runs.length > 0)) {
      return `retracting run${onlyOthers.length > 1 ? 's' : ''} ${onlyOthers.join(', ')} (pgo-ledger retract --run ...) would keep ${what} static at ${top.value}`;
    }
    return `${what} took ${values.length} values (${values.map((v) => v.value).join(', ')}); only feeding it one value keeps it static` + (typeof d === 'number' ? `, or torch._dynamo.mark_static on that dim` : '');
  }
  return `${what} was made dynamic by an imported profile or the job's own setting, not by differing observations here`;
}
