import { atomEq, DYNAMIC, fieldEq, InferStride, UNSET, type Atom } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { dimSwitchHint } from '../model/switches.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { intRepr } from '../model/int.ts';
import { entryOf, type Shape } from '../model/observation.ts';
import { entryFromJson, type EntryJson } from '../codecs/entry-json.ts';
import { matchCode } from './code-ref.ts';
import { dictionaries } from './log.ts';
import { leftOutRuns } from './window.ts';
import { describedShapes } from './described-shapes.ts';
import type { Ledger } from './ledger.ts';
import type { Window } from './window.ts';

/**
 * A dim of a source's entry: the int itself (`scalar`), one size or stride dim, or a whole
 * size or stride tuple (no index: its number of dims, which a rank change makes dynamic).
 */
export type DimRef = { field: 'scalar' } | { field: 'size' | 'stride'; index?: number };

/** One event's word on a dim: where it is in the log and what the dim was after it. */
export interface Evidence {
  position: number;
  time: number;
  run: string | null;
  origin: string | null;
  originLine: number | null;
  compileId: string | null;
  kind: string;
  /** For imports: the snapshot's format (pickle, megacache, remote-json, redis, merge, put_local_code_state, …). */
  format: string | null;
  /** The dim after this event, as `show` prints it ('?' for dynamic). */
  value: string;
  /** What the event itself carried for the dim (an observation's value, an imported entry's, a record's new value). */
  brought: string | null;
}

export interface DimStory {
  code: CodeId;
  source: string;
  dim: DimRef;
  dynamic: boolean;
  current: string;
  /** The earliest evidence of this dim in the window. */
  first: Evidence | null;
  /** The earliest evidence of the static value it had just before it turned dynamic. */
  staticBefore: Evidence | null;
  /** The event at which it turned dynamic (the last such, if an overwrite made it static again). */
  becameDynamic: (Evidence & { before: string }) | null;
  /** The record PyTorch itself logged for this change (from a trace), with its guard failure. */
  logged: { compileId: string | null; reason: string; cached: string; new: string; guard: string | null; position: number } | null;
  /** When the change came in a merge of profiles: that profile's own story of the dim. */
  /**
   * When the change came in a merge of profiles: that profile's own story of the dim as of the
   * merge, and the runs retracted from it since (a merge is a snapshot: it keeps what it joined).
   */
  via: { cacheKey: string; story: DimStory; retractedSince: string[] } | null;
  /** What each compile saw of the source, as a trace described its inputs (evidence only). */
  saw: { position: number; compileId: string | null; run: string | null; size: (number | string | null)[] }[];
  /** Each static value events carried for this dim, first-seen order, with the runs that fed it. */
  values: { value: string; count: number; runs: string[] }[];
  advice: string;
}

export interface ExplainOptions {
  /** One source; all of them (dynamic dims only, most recent first) when left out. */
  source?: string;
  dim?: DimRef;
  /** `--code`: a function name, file:line:name, or the code id's text (see code-ref.ts). */
  code?: string;
  window?: Window;
}

/** `--dim`: `0` (a size dim), `scalar`, `rank`/`size` (the whole size), `stride 1`/`stride:1`/`stride[1]`, `stride`. */
export function parseDimRef(s: string): DimRef | undefined {
  const t = s.trim();
  if (t === 'scalar') return { field: 'scalar' };
  if (t === 'rank' || t === 'size') return { field: 'size' };
  if (t === 'stride') return { field: 'stride' };
  let m = /^(?:size\s*[:[ ]\s*)?(\d+)\]?$/.exec(t);
  if (m) return { field: 'size', index: Number(m[1]) };
  m = /^stride\s*[:[ ]\s*(\d+)\]?$/.exec(t);
  if (m) return { field: 'stride', index: Number(m[1]) };
  return undefined;
}

export function dimKey(d: DimRef): string {
  return d.field === 'scalar' ? 'scalar' : d.index === undefined ? d.field : `${d.field}[${d.index}]`;
}

const sameDim = (a: DimRef, b: DimRef) => dimKey(a) === dimKey(b);

/** A value as a record prints it (`InferStride(dim=1)`, `(3, 4)`) as `show` prints it (`S(1)`, `[3, 4]`). */
function recordValue(s: string): string {
  const t = s.replace(/InferStride\(dim=(\d+)\)/g, 'S($1)').replace(/<AutoDynamic\.token: 0>|AutoDynamic\.token/g, '?');
  return t.startsWith('(') && t.endsWith(')') ? `[${t.slice(1, -1).replace(/,\s*$/, '')}]` : t;
}

function parseDimKey(k: string): DimRef {
  if (k === 'scalar') return { field: 'scalar' };
  const m = /^(size|stride)(?:\[(\d+)\])?$/.exec(k)!;
  return m[2] === undefined ? { field: m[1] as 'size' | 'stride' } : { field: m[1] as 'size' | 'stride', index: Number(m[2]) };
}

type Val = Atom | readonly Atom[] | 'absent';

function valueAt(e: FrameStateSizeEntry | undefined, d: DimRef): Val {
  if (!e) return 'absent';
  if (d.field === 'scalar') return e.scalar;
  const f = e[d.field];
  if (d.index === undefined) return f as Val;
  if (!Array.isArray(f)) return f === DYNAMIC ? DYNAMIC : 'absent';
  return d.index < f.length ? (f[d.index] as Atom) : 'absent';
}

function atomShow(a: Atom): string {
  if (a === DYNAMIC) return '?';
  if (a === UNSET) return 'unset';
  if (a instanceof InferStride) return `S(${a.dim})`;
  return intRepr(a);
}

function show(v: Val): string {
  if (v === 'absent') return 'absent';
  if (Array.isArray(v)) return `[${v.map(atomShow).join(', ')}]`;
  return atomShow(v as Atom);
}

const isDynamic = (v: Val) => v === DYNAMIC;
const isStatic = (v: Val) => v !== DYNAMIC && v !== UNSET && v !== 'absent';

/** The dims an entry has to explain: what `show` lists of it. */
function dimsOf(e: FrameStateSizeEntry, sawScalar: boolean, sawTensor: boolean): DimRef[] {
  const out: DimRef[] = [];
  const tensor = sawTensor || Array.isArray(e.size);
  if (sawScalar || (e.scalar !== DYNAMIC && e.scalar !== UNSET) || !tensor) out.push({ field: 'scalar' });
  if (tensor) {
    for (const field of ['size', 'stride'] as const) {
      const f = e[field];
      if (Array.isArray(f)) for (let i = 0; i < f.length; i++) out.push({ field, index: i });
      else if (f === DYNAMIC) out.push({ field });
    }
  }
  return out;
}

/** The dims whose value an entry has, for tracking changes step by step. */
function trackedDims(...es: (FrameStateSizeEntry | undefined)[]): DimRef[] {
  const out: DimRef[] = [{ field: 'scalar' }, { field: 'size' }, { field: 'stride' }];
  for (const field of ['size', 'stride'] as const) {
    let n = 0;
    for (const e of es) if (e && Array.isArray(e[field])) n = Math.max(n, (e[field] as readonly Atom[]).length);
    for (let i = 0; i < n; i++) out.push({ field, index: i });
  }
  return out;
}

/** What one event carried for the dims of its source, as an entry (null for records and retractions). */
function carried(key: Shape | EntryJson): FrameStateSizeEntry {
  return 'kind' in key ? entryOf(key) : entryFromJson(key);
}

function sameEntry(a: FrameStateSizeEntry | undefined, b: FrameStateSizeEntry): boolean {
  return a !== undefined && atomEq(a.scalar, b.scalar) && fieldEq(a.size, b.size) && fieldEq(a.stride, b.stride);
}

/** The dim a logged record is about. */
function recordDim(r: { dim_changed: number | 'scalar' | 'all'; reason: string }, before: FrameStateSizeEntry | undefined, after: FrameStateSizeEntry): DimRef | null {
  if (r.reason === 'scalar change') return { field: 'scalar' };
  if (r.reason === 'size change' && typeof r.dim_changed === 'number') return { field: 'size', index: r.dim_changed };
  if (r.reason === 'stride change' && typeof r.dim_changed === 'number') return { field: 'stride', index: r.dim_changed };
  // a whole-field record: the field the fold changed
  for (const field of ['size', 'stride'] as const) if (before && before[field] !== after[field]) return { field };
  return null;
}

interface Track {
  first: Evidence | null;
  lastStatic: Evidence | null;
  staticBefore: Evidence | null;
  became: (Evidence & { before: string }) | null;
  /** The latest record PyTorch logged for the dim, and the one that belongs to `became`. */
  logged: DimStory['logged'];
  becameLogged: DimStory['logged'];
  values: Map<string, { count: number; runs: Set<string> }>;
}

interface Acc {
  code: CodeId;
  source: string;
  last: FrameStateSizeEntry;
  sawScalar: boolean;
  sawTensor: boolean;
  dims: Map<string, Track>;
  /** How often each distinct body (an observed shape, an imported entry) came, and from which runs. */
  carried: Map<Shape | EntryJson, { count: number; runs: Set<string> }>;
}

/**
 * What each dim of a source went through, from the log: its earliest evidence, the static
 * values events carried, when it turned dynamic and by what (an observation, an imported
 * snapshot with its origin, or PyTorch's own record with its compile and guard failure), and
 * for a merged profile the story in the profile it came from. Every dim `show` lists gets an
 * answer, static ones included.
 */
export function explain(ledger: Ledger, profileId: number, opts: ExplainOptions = {}): DimStory[] {
  return explainWith(ledger, profileId, opts, null, 0);
}

function explainWith(ledger: Ledger, profileId: number, opts: ExplainOptions, onlyCode: string | null, depth: number): DimStory[] {
  const window = opts.window ?? {};
  let wanted: ((c: CodeId) => boolean) | null = null;
  if (opts.code) wanted = matchCode([...ledger.fold(profileId, window).profile.codes.values()].map((c) => c.id), opts.code);
  const accs = new Map<string, Acc>();
  const byCode = new Map<CodeId, Map<string, Acc>>();
  ledger.fold(profileId, window, (step, ev) => {
    if (opts.source !== undefined && step.source !== opts.source) return;
    let bySource = byCode.get(step.code);
    let acc = bySource?.get(step.source);
    if (!acc) {
      const ck = codeKey(step.code);
      if (onlyCode !== null && ck !== onlyCode) return;
      if (wanted && !wanted(step.code)) return;
      const k = `${ck}\u0000${step.source}`;
      acc = accs.get(k);
      if (!acc) accs.set(k, (acc = { code: step.code, source: step.source, last: step.after, sawScalar: false, sawTensor: false, dims: new Map(), carried: new Map() }));
      if (!bySource) byCode.set(step.code, (bySource = new Map()));
      bySource.set(step.source, acc);
    }
    acc.last = step.after;
    // Most events of a long log bring a shape seen before and change nothing: count them by body.
    const key = ev.shape ?? ev.entry;
    let slot: { count: number; runs: Set<string> } | undefined;
    if (key) {
      slot = acc.carried.get(key);
      if (!slot) acc.carried.set(key, (slot = { count: 0, runs: new Set() }));
      slot.count++;
      if (ev.run) slot.runs.add(ev.run);
    }
    const logged = ev.kind === 'dynamic.logged' ? ev.record : null;
    if (!logged && slot && slot.count > 1 && sameEntry(step.before, step.after)) return;
    const got = key ? carried(key) : null;
    if (ev.kind === 'shape.observed') {
      if (ev.shape!.kind === 'scalar') acc.sawScalar = true;
      else acc.sawTensor = true;
    } else if (got) {
      if (Array.isArray(got.size)) acc.sawTensor = true;
      if (got.scalar !== DYNAMIC && got.scalar !== UNSET) acc.sawScalar = true;
    }
    const loggedDim = logged ? recordDim(logged, step.before, step.after) : null;
    for (const d of trackedDims(step.before, step.after)) {
      const dk = dimKey(d);
      let t = acc.dims.get(dk);
      if (!t) acc.dims.set(dk, (t = { first: null, lastStatic: null, staticBefore: null, became: null, logged: null, becameLogged: null, values: new Map() }));
      const b = valueAt(step.before, d);
      const a = valueAt(step.after, d);
      const brought = got ? valueAt(got, d) : null;
      const isRecordDim = loggedDim !== null && sameDim(loggedDim, d);
      const touched = (brought !== null && brought !== 'absent' && brought !== UNSET) || a !== b || isRecordDim;
      if (!touched) continue;
      const evidence: Evidence = {
        position: ev.position,
        time: ev.time,
        run: ev.run,
        origin: ev.origin,
        originLine: ev.originLine,
        compileId: ev.compileId,
        kind: ev.kind,
        format: ev.format,
        value: show(a),
        brought: logged && isRecordDim ? logged.new : brought === null || brought === 'absent' ? null : show(brought),
      };
      t.first ??= evidence;
      if (logged && isRecordDim) {
        t.logged = { compileId: ev.compileId, reason: logged.reason, cached: logged.cached, new: logged.new, guard: ev.guard, position: ev.position };
        // the value PyTorch saw that made the change counts among the values seen
        const v = recordValue(logged.new);
        const into = t.values.get(v) ?? { count: 0, runs: new Set<string>() };
        into.count++;
        if (ev.run) into.runs.add(ev.run);
        t.values.set(v, into);
      }
      if (isDynamic(a) && !isDynamic(b)) {
        t.staticBefore = t.lastStatic;
        t.became = { ...evidence, before: show(b) };
        // PyTorch's record of this change: this one, or the latest before a snapshot brought it
        t.becameLogged = t.logged;
      }
      // The earliest evidence of the static value it had (a run of one value is one span).
      if (isStatic(a) && (!t.lastStatic || t.lastStatic.value !== evidence.value || !isStatic(b))) t.lastStatic = evidence;
    }
  });
  // The static values each dim was brought, from the bodies counted above, in first-seen order.
  for (const acc of accs.values()) {
    for (const [key, slot] of acc.carried) {
      const got = carried(key);
      for (const [dk, t] of acc.dims) {
        const brought = valueAt(got, parseDimKey(dk));
        if (!isStatic(brought)) continue;
        const v = show(brought);
        const into = t.values.get(v) ?? { count: 0, runs: new Set<string>() };
        into.count += slot.count;
        for (const r of slot.runs) into.runs.add(r);
        t.values.set(v, into);
      }
    }
  }

  const saw = new Map<string, DimStory['saw']>();
  for (const r of accs.size ? describedShapes(ledger, profileId, window) : []) {
    const k = `${codeKey(r.code)}\u0000${r.source}`;
    if (!accs.has(k)) continue;
    let list = saw.get(k);
    if (!list) saw.set(k, (list = []));
    list.push({ position: r.position, compileId: r.compileId, run: r.run, size: r.size });
  }
  const out: DimStory[] = [];
  for (const acc of accs.values()) {
    for (const d of dimsOf(acc.last, acc.sawScalar, acc.sawTensor)) {
      if (opts.dim && !sameDim(opts.dim, d)) continue;
      const t = acc.dims.get(dimKey(d));
      const cur = valueAt(acc.last, d);
      const dynamic = isDynamic(cur);
      if (opts.source === undefined && !opts.dim && !dynamic) continue;
      const became = dynamic ? (t?.became ?? null) : null;
      // A logged record belongs to this change when it is no later than it.
      const logged = became ? (t?.becameLogged ?? null) : null;
      let via: DimStory['via'] = null;
      if (became && became.kind === 'entry.imported' && became.format === 'merge' && became.origin?.startsWith('profile ') && depth < 8) {
        const from = ledger.profileByKey(became.origin.slice('profile '.length));
        if (from) {
          const inner = explainWith(ledger, from.id, { source: acc.source, dim: d, window: { untilPosition: became.position - 1, excludeRuns: window.excludeRuns } }, codeKey(acc.code), depth + 1);
          if (inner[0]) {
            const dict = dictionaries(ledger.sql);
            const then = leftOutRuns(ledger.sql, from.id, { untilPosition: became.position - 1 }, dict);
            const since = [...leftOutRuns(ledger.sql, from.id, {}, dict)].filter((r) => !then.has(r));
            via = { cacheKey: from.cacheKey, story: inner[0], retractedSince: since };
          }
        }
      }
      const values = [...(t?.values ?? new Map<string, { count: number; runs: Set<string> }>())].map(([value, v]) => ({ value, count: v.count, runs: [...v.runs] }));
      const story: DimStory = {
        code: acc.code,
        source: acc.source,
        dim: d,
        dynamic,
        current: show(cur),
        first: t?.first ?? null,
        staticBefore: became ? (t?.staticBefore ?? null) : null,
        becameDynamic: became,
        logged,
        via,
        saw: saw.get(`${codeKey(acc.code)}\u0000${acc.source}`) ?? [],
        values,
        advice: '',
      };
      story.advice = advise(story);
      // the newer switches (per-dim, unbacked, static), each with the versions that read it
      const hint = dimSwitchHint(acc.source, d.field === 'scalar' ? 'scalar' : d.field === 'size' && d.index !== undefined ? d.index : 'rank', dynamic, values);
      if (hint) story.advice += `; ${hint}`;
      out.push(story);
    }
  }
  if (opts.source === undefined) out.sort((x, y) => (y.becameDynamic?.position ?? -1) - (x.becameDynamic?.position ?? -1));
  return out;
}

export function dimLabel(d: DimRef): string {
  if (d.field === 'scalar') return 'the int itself';
  if (d.index === undefined) return d.field === 'size' ? 'the number of dims (size)' : 'the number of dims (stride)';
  return d.field === 'size' ? `dim ${d.index}` : `stride dim ${d.index}`;
}

function what(s: DimStory): string {
  const d = s.dim;
  if (d.field === 'scalar') return s.source;
  if (d.index === undefined) return `the number of dims of ${s.source}`;
  return `${d.field === 'size' ? 'dim' : 'stride dim'} ${d.index} of ${s.source}`;
}

function advise(s: DimStory): string {
  if (!s.dynamic) {
    const runs = new Set(s.values.flatMap((v) => v.runs));
    return `static: ${s.values.length <= 1 ? 'every event agreed' : `${s.values.length} values seen`}${runs.size ? ` across ${runs.size} run${runs.size > 1 ? 's' : ''}` : ''}`;
  }
  const b = s.becameDynamic;
  if (s.via) {
    // A merge is a snapshot of its sources: retracting a run there leaves the merged profile as it was.
    const run = s.via.story.becameDynamic?.run;
    if (run && s.via.retractedSince.includes(run)) return `run ${run} was retracted from ${s.via.cacheKey} after the merge, but the merged profile keeps what it joined: merge again (pgo-ledger merge --from ... --into ...) to leave it out`;
    return `it came from ${s.via.cacheKey} in a merge: to change it, change ${s.via.cacheKey} (retract a run there) and merge again`;
  }
  const markStatic = s.dim.field === 'size' && s.dim.index !== undefined ? `, or torch._dynamo.mark_static on dim ${s.dim.index}` : '';
  if (s.logged) {
    return `PyTorch saw ${s.logged.cached} then ${s.logged.new}${b?.run ? ` (run ${b.run})` : ''}: feeding one value keeps it static${markStatic}` + (b?.run ? `; pgo-ledger retract --run ${b.run} undoes that run` : '');
  }
  if (s.values.length >= 2) {
    const [top, ...others] = [...s.values].sort((x, y) => y.count - x.count);
    const otherRuns = new Set(others.flatMap((o) => o.runs));
    const onlyOthers = [...otherRuns].filter((r) => !top.runs.includes(r));
    if (onlyOthers.length && onlyOthers.length === otherRuns.size && others.every((o) => o.runs.length > 0)) {
      return `retracting run${onlyOthers.length > 1 ? 's' : ''} ${onlyOthers.join(', ')} (pgo-ledger retract --run ...) would keep ${what(s)} static at ${top.value}`;
    }
    return `${what(s)} took ${s.values.length} values (${s.values.map((v) => v.value).join(', ')}); only feeding it one value keeps it static${markStatic}`;
  }
  if (b?.kind === 'entry.imported') {
    return `it came dynamic in an imported profile (${b.format ?? 'snapshot'}${b.origin ? ` from ${b.origin}` : ''})${b.run ? `; pgo-ledger retract --run ${b.run} leaves that import out` : ''}`;
  }
  return `${what(s)} was made dynamic by the job's own setting, not by differing events here`;
}
