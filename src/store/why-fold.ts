import { NO_RUN } from '../model/id-chars.ts';
import { atomEq, DYNAMIC, fieldEq, InferStride, UNSET, type Atom } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { numberRepr } from '../model/float.ts';
import { recordField } from '../model/logged-record.ts';
import { entryOf, type Shape } from '../model/observation.ts';
import { entryFromJson, entryToJson, type EntryJson } from '../codecs/entry-json.ts';
import type { Sql } from './database.ts';
import { jsonItem as json } from './json-text.ts';
import { emptyStream, fold, type FoldStep, type StreamView } from './fold.ts';
import { codeRows, scanEvents, type Dictionaries, type LeanEvent } from './log.ts';
import { leftOutRuns, windowFolds, type Window } from './window.ts';

/**
 * What `why` gathers from the log, step by step, for each code id and source: the facts it
 * reports (earliest evidence, the static values carried, when each dim turned dynamic and by
 * what, PyTorch's own records). It is a fold like the profile's own: `whyFold` starts from the
 * nearest why-checkpoint the window can use (why-checkpoints.ts) and folds only the tail; the
 * checkpoints themselves are this state at a position.
 */

/**
 * A dim of a source's entry: the scalar itself (`scalar`: an int or a float), one size or stride dim, or a whole
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

/** The record PyTorch itself logged for a change (from a trace), with its guard failure. */
export type Logged = { compileId: string | null; reason: string; cached: string; new: string; guard: string | null; position: number } | null;

export interface Track {
  first: Evidence | null;
  lastStatic: Evidence | null;
  staticBefore: Evidence | null;
  became: (Evidence & { before: string }) | null;
  /** The latest record PyTorch logged for the dim, and the one that belongs to `became`. */
  logged: Logged;
  becameLogged: Logged;
  values: Map<string, { count: number; runs: Set<string> }>;
  /** Its stored text, while no step has changed it since it was read (tracksText writes it again as it was). */
  text?: string;
}

export interface Acc {
  code: CodeId;
  source: string;
  last: FrameStateSizeEntry;
  sawScalar: boolean;
  sawTensor: boolean;
  /** Each dim's facts but those `first` stands for; undefined while `dimsText` stands for them (tracks() reads them back). */
  dims?: Map<string, Track>;
  /** How often each distinct body (an observed shape, an imported entry) came, and from which runs; by body id. */
  carried: Map<number, Carried>;
  /**
   * `dims` in their stored form, kept while no step gives evidence (most steps only count): a
   * checkpoint's is read into `dims` only for the sources an answer tells or a step changes.
   */
  dimsText?: string;
  /** `dimsText` read into each dim's own text, by dim (track), while `dimsText` stands. */
  dimsIndex?: Map<string, string>;
  /** `last` as JSON text, while `lastFor` is `last` and no step changed it (accRowText). */
  lastText?: string;
  lastFor?: FrameStateSizeEntry;
  /** `[code,source,saw` as JSON text, for the code's ref and saw flags it was written with (accRowText). */
  headText?: string;
  headRef?: number | string;
  headSaw?: number;
  /**
   * The source's first step, standing for every dim it gave evidence and no later step
   * changed (most dims of a source: its first event is their only evidence); such a dim has
   * no track in `dims` until a later step changes it (firstTrack).
   */
  first?: FirstStep;
}

/** A source's first step, kept once for all its dims (Acc.first): what each dim's track from it is made of. */
export interface FirstStep {
  /** The event, as each dim's evidence names it (its value and brought are each dim's own). */
  event: Omit<Evidence, 'value' | 'brought'>;
  /** The entry after it (a copy: the fold changes entries in place) and what the event carried. */
  after: FrameStateSizeEntry;
  got: FrameStateSizeEntry | null;
  /** The dims it tracked, in the order it tracked them (the order of a state's dims). */
  dims: readonly TrackedDim[];
  /** Its stored text (firstStepText). */
  text?: string;
}

/**
 * An acc with every field it ever holds, in one order: accs made by a step and read from a
 * checkpoint, then given their texts, then share one hidden class, so that the append's
 * compiled loop meets no acc of another (each such meeting threw away a compile of its loop).
 */
function newAcc(code: CodeId, source: string, last: FrameStateSizeEntry, sawScalar: boolean, sawTensor: boolean, dims: Map<string, Track> | undefined, dimsText: string | undefined, first?: FirstStep): Acc {
  return { code, source, last, sawScalar, sawTensor, dims, carried: new Map(), dimsText, dimsIndex: undefined, lastText: undefined, lastFor: undefined, headText: undefined, headRef: undefined, headSaw: undefined, first };
}

/** What a counted body carried, read from the log on first use. */
export function carriedKey(slot: Carried, bodyId: number, dict: Dictionaries): Shape | EntryJson {
  if (slot.key) return slot.key;
  const b = dict.body(bodyId);
  const key = b.shape ?? b.entry;
  if (!key) throw new Error(`a why-checkpoint counts body ${bodyId}, which carries no shape or entry`);
  return (slot.key = key);
}

/** An acc's own tracks (not those its first step stands for), read from their stored form on first use. */
function ownTracks(acc: Acc): Map<string, Track> {
  return (acc.dims ??= tracksFrom(acc.dimsText!));
}

/**
 * Every dim of an acc, in the order its steps first tracked them: those its first step stands
 * for made from it. Made anew for such an acc: the state keeps only its own tracks.
 */
export function tracks(acc: Acc): Map<string, Track> {
  const own = ownTracks(acc);
  const f = acc.first;
  if (!f) return own;
  const all = new Map<string, Track>();
  for (const { d, key } of f.dims) all.set(key, own.get(key) ?? firstTrack(f, d));
  for (const [k, t] of own) if (!all.has(k)) all.set(k, t);
  return all;
}

/** Whether the first step tracked the dim `dk`. */
function firstHas(f: FirstStep, dk: string): TrackedDim | undefined {
  for (let i = 0; i < f.dims.length; i++) if (f.dims[i].key === dk) return f.dims[i];
  return undefined;
}

/** One dim of an acc, reading only that one from the stored form (an answer tells a few dims of many). */
export function track(acc: Acc, dk: string): Track | undefined {
  let own: Track | undefined;
  if (acc.dims) own = acc.dims.get(dk);
  else {
    if (!acc.dimsIndex) {
      // each dim's text by its key, the first of a key (the stored form read once for all the dims told)
      acc.dimsIndex = new Map();
      for (const [k, text] of dimsPairs(acc.dimsText!)) if (!acc.dimsIndex.has(k)) acc.dimsIndex.set(k, text);
    }
    const text = acc.dimsIndex.get(dk);
    own = text === undefined ? undefined : trackFrom(text);
  }
  if (own || !acc.first) return own;
  const td = firstHas(acc.first, dk);
  return td && firstTrack(acc.first, td.d);
}

export interface Carried {
  /** The body's shape or entry (null until read, for one from a checkpoint: carriedKey). */
  key: Shape | EntryJson | null;
  count: number;
  /** The runs it came from, first-seen order: a list its state shares, or past MAX_SHARED_RUNS its own set (addRun). */
  runs: RunList | Set<string>;
  /** The run last added to `runs`. */
  lastRun: string | null;
  /** Its own set's runs as JSON text when it had `runsSize` runs (accRowText). */
  runsText?: string;
  runsSize?: number;
}

/**
 * Runs in first-seen order, one object per distinct list in a state: the bodies of a profile
 * mostly come from the same runs in the same order, and a Set a body held ~0.6 KB at 50 runs
 * (14 MB of the writing thread's live heap 5M lines into an ingest). Never changed: adding a
 * run gives the list with it, made once per list and run, then found in `next` (which also
 * remembers the runs a list holds already, as the list itself).
 */
export class RunList {
  private next: Map<string, RunList> | undefined;
  /** `runs` as JSON (accRowText), made once. */
  text: string | undefined;
  /**
   * `read`: the lists a checkpoint's state was read with, by their JSON (one map per state,
   * sharedRunLists): such a list has no list before it here, so a list made by adding a run
   * is looked for there first, and a state holds one list of the same runs, as a fold makes it.
   */
  constructor(
    readonly runs: readonly string[],
    readonly read: Map<string, RunList>,
  ) {}
  get size(): number {
    return this.runs.length;
  }
  [Symbol.iterator](): Iterator<string> {
    return this.runs[Symbol.iterator]();
  }
  /** This list with `run` added (itself where it holds it); null where that would pass MAX_SHARED_RUNS. */
  with(run: string): RunList | null {
    let n = this.next?.get(run);
    if (n === undefined) {
      if (this.runs.includes(run)) n = this;
      else if (this.runs.length >= MAX_SHARED_RUNS) return null;
      else {
        const runs = [...this.runs, run];
        n = (this.read.size === 0 ? undefined : this.read.get(JSON.stringify(runs))) ?? new RunList(runs, this.read);
      }
      (this.next ??= new Map()).set(run, n);
    }
    return n;
  }
}

/** Runs past which a body keeps its own set (a shared list is copied to add a run: its cost grows with its length). */
const MAX_SHARED_RUNS = 64;

/** `run` added to a body's runs, if new to them (first-seen order kept). */
export function addRun(slot: Carried, run: string): void {
  const r = slot.runs;
  if (r instanceof RunList) slot.runs = r.with(run) ?? new Set([...r.runs, run]);
  else r.add(run);
}

/** The state: every (code id, source) kept, in first-seen order; `byCode` finds one by the code id object (null: not kept). */
export interface WhyState {
  accs: Map<string, Acc>;
  byCode: Map<CodeId, Map<string, Acc | null>>;
  /** The empty run list its bodies start from (the lists they share grow from it). */
  noRuns: RunList;
}

export function emptyWhyState(): WhyState {
  return { accs: new Map(), byCode: new Map(), noRuns: new RunList([], new Map()) };
}

/** Which (code id, source) an answer wants (`--source`, `--code`); a checkpoint keeps them all. */
export type Keep = (code: CodeId, source: string) => boolean;
export const KEEP_ALL: Keep = () => true;

export function dimKey(d: DimRef): string {
  return d.field === 'scalar' ? 'scalar' : d.index === undefined ? d.field : `${d.field}[${d.index}]`;
}

export const sameDim = (a: DimRef, b: DimRef) => dimKey(a) === dimKey(b);

/** A value as a record prints it (`InferStride(dim=1)`, `(3, 4)`) as `show` prints it (`S(1)`, `[3, 4]`). */
export function recordValue(s: string): string {
  const t = s.replace(/InferStride\(dim=(\d+)\)/g, 'S($1)').replace(/<AutoDynamic\.token: 0>|AutoDynamic\.token/g, '?');
  return t.startsWith('(') && t.endsWith(')') ? `[${t.slice(1, -1).replace(/,\s*$/, '')}]` : t;
}

export type Val = Atom | readonly Atom[] | 'absent';

export function valueAt(e: FrameStateSizeEntry | undefined, d: DimRef): Val {
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
  return numberRepr(a);
}

export function show(v: Val): string {
  if (v === 'absent') return 'absent';
  if (Array.isArray(v)) return `[${v.map(atomShow).join(', ')}]`;
  return atomShow(v as Atom);
}

export const isDynamic = (v: Val) => v === DYNAMIC;
export const isStatic = (v: Val) => v !== DYNAMIC && v !== UNSET && v !== 'absent';

/** A dim trackedDims names, with its key: made once each (a fold step that gives evidence asks for ~10). */
interface TrackedDim {
  d: DimRef;
  key: string;
}
const tracked = (d: DimRef): TrackedDim => ({ d, key: dimKey(d) });
const WHOLE_DIMS: readonly TrackedDim[] = [tracked({ field: 'scalar' }), tracked({ field: 'size' }), tracked({ field: 'stride' })];
const INDEXED_DIMS = { size: [] as TrackedDim[], stride: [] as TrackedDim[] };

/** The dims whose value either entry has, for tracking changes step by step. */
function trackedDims(before: FrameStateSizeEntry | undefined, after: FrameStateSizeEntry | undefined): TrackedDim[] {
  const out = [...WHOLE_DIMS];
  for (const field of ['size', 'stride'] as const) {
    let n = 0;
    if (before && Array.isArray(before[field])) n = (before[field] as readonly Atom[]).length;
    if (after && Array.isArray(after[field])) n = Math.max(n, (after[field] as readonly Atom[]).length);
    const made = INDEXED_DIMS[field];
    for (let i = 0; i < n; i++) out.push((made[i] ??= tracked({ field, index: i })));
  }
  return out;
}

/** What one event carried for the dims of its source, as an entry (null for records and retractions). */
export function carried(key: Shape | EntryJson): FrameStateSizeEntry {
  return 'kind' in key ? entryOf(key) : entryFromJson(key);
}

function sameEntry(a: FrameStateSizeEntry | undefined, b: FrameStateSizeEntry): boolean {
  return a !== undefined && atomEq(a.scalar, b.scalar) && fieldEq(a.size, b.size) && fieldEq(a.stride, b.stride);
}

/** The dim a logged record is about. */
function recordDim(r: { dim_changed: number | 'scalar' | 'all'; reason: string; cached: string; new: string }, before: FrameStateSizeEntry | undefined, after: FrameStateSizeEntry, acc: Acc): DimRef | null {
  const named = recordNamedDim(r);
  if (named) return named;
  // a whole-field record: the field the fold changed
  for (const field of ['size', 'stride'] as const) if (before && before[field] !== after[field]) return { field };
  // The field was dynamic already (another run's rank change came first): PyTorch's `cached` is
  // the static value this run's compile had, so it names the field by the last static value
  // kept, as the fold names it by the entry's (recordField); the value it brought still counts.
  const cached = recordValue(r.cached);
  // track(): the dim's own track, or the one its source's first step stands for
  const field = recordField(r, track(acc, 'size')?.lastStatic?.value === cached, track(acc, 'stride')?.lastStatic?.value === cached);
  return field ? { field } : null;
}

/**
 * A record's dim in dimKey's words from the records alone (stats reads no fold): the dim it
 * names (recordNamedDim), else a whole field, which a whole-field record names not: a tensor's
 * rank changes its size's and its stride's number of dims together, and PyTorch logs the size's
 * record, then the stride's, so the whole-field record right after the size's (`prev`, the
 * record before it in the log, with the dim this gave it), of the same source, compile and run,
 * is the stride's; any other the size's.
 */
export function recordDimKey(r: RecordRef, prev?: { record: RecordRef; dim: string }): string {
  const named = recordNamedDim(r);
  if (named) return dimKey(named);
  const p = prev?.record;
  const pair = p && prev.dim === 'size' && p.name === r.name && codeKey(p.code) === codeKey(r.code) && p.run === r.run && p.compileId === r.compileId;
  return pair ? 'stride' : 'size';
}

/** What recordDimKey reads of a record (a history row). */
export interface RecordRef {
  dim_changed: number | 'scalar' | 'all';
  reason: string;
  code: CodeId;
  name: string;
  run: string | null;
  compileId: string | null;
}

/** The dim a record names by its reason and dim_changed; null for a whole-field record (its field is the one the fold changed). */
export function recordNamedDim(r: { dim_changed: number | 'scalar' | 'all'; reason: string }): DimRef | null {
  if (r.reason === 'scalar change') return { field: 'scalar' };
  if (r.reason === 'size change' && typeof r.dim_changed === 'number') return { field: 'size', index: r.dim_changed };
  if (r.reason === 'stride change' && typeof r.dim_changed === 'number') return { field: 'stride', index: r.dim_changed };
  return null;
}

/**
 * The values of a track that has none, shared: most dims never get one (a 1M-event replay made
 * ~32k empty Maps, each kept to the end). Never written: valuesOf gives a track its own first.
 */
const NO_VALUES: Track['values'] = new (class extends Map<string, { count: number; runs: Set<string> }> {
  override set(): never {
    throw new Error('a track wrote into the shared empty values (valuesOf first)');
  }
})();

/** A track's values, to write into: its own map, made on first use. */
export function valuesOf(t: Track): Track['values'] {
  return t.values === NO_VALUES ? (t.values = new Map()) : t.values;
}

/** A track with no facts yet: its fields in trackFrom's order (one hidden class for both, `text` in place from the start). */
const newTrack = (): Track => ({ text: undefined, first: null, lastStatic: null, staticBefore: null, became: null, logged: null, becameLogged: null, values: NO_VALUES });

/** An entry's copy, its tuples too (the fold changes an entry in place; a first step keeps the one it made). */
function copyEntry(e: FrameStateSizeEntry): FrameStateSizeEntry {
  return { ...e, size: Array.isArray(e.size) ? e.size.slice() : e.size, stride: Array.isArray(e.stride) ? e.stride.slice() : e.stride };
}

/** What the first step brought a dim: null, or its value as evidence names it (whyStep's rule, for a step with no record). */
function firstBrought(f: FirstStep, d: DimRef): Val | null {
  return f.got ? valueAt(f.got, d) : null;
}

/** Whether the first step touched a dim (whyStep's `touched` with nothing before and no record): it brought a value, or the dim has one. */
function firstTouched(brought: Val | null, a: Val): boolean {
  return (brought !== null && brought !== 'absent' && brought !== UNSET) || a !== 'absent';
}

/**
 * A dim's track as a source's first step made it (whyStep on a new track, nothing before,
 * no record): the step touches a dim it carried or has, its evidence is its first, the last
 * static where it is static, and where it is dynamic it became so then, from `absent`.
 */
function firstTrack(f: FirstStep, d: DimRef): Track {
  const t = newTrack();
  const a = valueAt(f.after, d);
  const brought = firstBrought(f, d);
  if (!firstTouched(brought, a)) return t;
  const e = f.event;
  const evidence: Evidence = {
    position: e.position,
    time: e.time,
    run: e.run,
    origin: e.origin,
    originLine: e.originLine,
    compileId: e.compileId,
    kind: e.kind,
    format: e.format,
    value: show(a),
    brought: brought === null || brought === 'absent' ? null : show(brought),
  };
  t.first = evidence;
  if (isDynamic(a)) {
    t.staticBefore = null;
    t.became = { position: evidence.position, time: evidence.time, run: evidence.run, origin: evidence.origin, originLine: evidence.originLine, compileId: evidence.compileId, kind: evidence.kind, format: evidence.format, value: evidence.value, brought: evidence.brought, before: show('absent') };
    t.becameLogged = null;
  }
  if (isStatic(a)) t.lastStatic = evidence;
  return t;
}

const HAS_FIRST = 1;
const SAME_LAST = 2;

/**
 * Of firstTrack's track, without making it (a later step asks of every dim it is given):
 * HAS_FIRST where it has a first evidence, SAME_LAST where its last static's value is
 * `value` (`now` shown; the same number or object shows the same).
 */
function firstFacts(f: FirstStep, d: DimRef, now: Val, value: string): number {
  const a = valueAt(f.after, d);
  const brought = firstBrought(f, d);
  if (!firstTouched(brought, a)) return 0;
  return isStatic(a) && (Object.is(a, now) || show(a) === value) ? HAS_FIRST | SAME_LAST : HAS_FIRST;
}

/**
 * One fold step of one event into the state. Most steps only count the event's body; the few
 * that give evidence need the event's details (time, origin, compile): `details` fills them.
 * The event's code id is the one of the step, one object per code id (dictionaries' own).
 */
export function whyStep(st: WhyState, step: FoldStep, ev: LeanEvent, keep: Keep, details: (ev: LeanEvent) => void): void {
  let bySource = st.byCode.get(ev.code);
  let acc = bySource?.get(step.source);
  if (acc === null) return;
  let fresh = false;
  if (!acc) {
    if (!bySource) st.byCode.set(ev.code, (bySource = new Map()));
    if (!keep(ev.code, step.source)) {
      bySource.set(step.source, null);
      return;
    }
    const k = `${codeKey(ev.code)}\u0000${step.source}`;
    acc = st.accs.get(k);
    if (!acc) {
      st.accs.set(k, (acc = newAcc(ev.code, step.source, step.after, false, false, new Map(), undefined)));
      fresh = true;
    }
    bySource.set(step.source, acc);
  }
  acc.last = step.after;
  // the fold changes an entry in place: its text is written anew
  if (step.before !== step.after) acc.lastText = undefined;
  // Most events of a long log bring a shape seen before and change nothing: count them by body.
  const key = ev.shape ?? ev.entry;
  let slot: Carried | undefined;
  if (key) {
    slot = acc.carried.get(ev.bodyId);
    if (!slot) acc.carried.set(ev.bodyId, (slot = { key, count: 0, runs: st.noRuns, lastRun: null, runsText: undefined, runsSize: 0 }));
    // whyCount's own code, so that its rare branch (a run new to the body) has run by the time
    // replay's hot path, which inlines it, is compiled (none: compiled again, met late)
    whyCount(slot, ev.run);
  }
  const logged = ev.kind === 'dynamic.logged' ? ev.record : null;
  if (!logged && slot && slot.count > 1 && sameEntry(step.before, step.after)) return;
  const dims = ownTracks(acc);
  const got = key ? carried(key) : null;
  if (ev.kind === 'shape.observed') {
    if (ev.shape!.kind === 'scalar') acc.sawScalar = true;
    else acc.sawTensor = true;
  } else if (got) {
    if (Array.isArray(got.size)) acc.sawTensor = true;
    if (got.scalar !== DYNAMIC && got.scalar !== UNSET) acc.sawScalar = true;
  }
  if (fresh && !logged && step.before === undefined) {
    // A source's first step (no record, nothing before it) is kept once for its dims, not a
    // track each: it is most dims' only evidence (firstTrack makes a dim's when asked). Every
    // dim it tracks is touched (its scalar is never absent), so its details are read.
    details(ev);
    const after = copyEntry(step.after);
    acc.first = {
      event: { position: ev.position, time: ev.time, run: ev.run, origin: ev.origin, originLine: ev.originLine, compileId: ev.compileId, kind: ev.kind, format: ev.format },
      after,
      got: got && copyEntry(got),
      dims: trackedDims(undefined, after),
      text: undefined,
    };
    acc.dimsText = acc.dimsIndex = undefined;
    return;
  }
  const first = acc.first;
  const loggedDim = logged ? recordDim(logged, step.before, step.after, acc) : null;
  const loggedKey = loggedDim === null ? null : dimKey(loggedDim);
  // Most such steps (a new body of a value seen before) change no dim's facts: then the dims'
  // stored form stands, and the event's details are never read.
  let changed = false;
  let detailed = false;
  // by index: a for-of over the array made an iterator's result an element in the code that runs
  // a log's first events (not optimized), some 4 MB of a 1M-event replay
  const dimList = trackedDims(step.before, step.after);
  for (let k = 0; k < dimList.length; k++) {
    const { d, key: dk } = dimList[k];
    let t = dims.get(dk);
    // a dim the first step stands for: its track made only if this step changes it
    const fromFirst = !t && first !== undefined && firstHas(first, dk) !== undefined;
    if (!t && !fromFirst) {
      dims.set(dk, (t = newTrack()));
      changed = true;
    }
    const b = valueAt(step.before, d);
    const a = valueAt(step.after, d);
    const brought = got ? valueAt(got, d) : null;
    const isRecordDim = loggedKey === dk;
    const touched = (brought !== null && brought !== 'absent' && brought !== UNSET) || a !== b || isRecordDim;
    if (!touched) continue;
    const value = show(a);
    const becomes = isDynamic(a) && !isDynamic(b);
    // The earliest evidence of the static value it had (a run of one value is one span).
    // (whether it has a first evidence, and whether its last static is `value`)
    const facts = t ? (t.first !== null ? HAS_FIRST : 0) | (t.lastStatic !== null && t.lastStatic.value === value ? SAME_LAST : 0) : firstFacts(first!, d, a, value);
    const newStatic = isStatic(a) && ((facts & SAME_LAST) === 0 || !isStatic(b));
    if ((facts & HAS_FIRST) !== 0 && !(logged && isRecordDim) && !becomes && !newStatic) continue;
    if (!t) dims.set(dk, (t = firstTrack(first!, d)));
    changed = true;
    t.text = undefined;
    if (!detailed) {
      detailed = true;
      details(ev);
    }
    const evidence: Evidence = {
      position: ev.position,
      time: ev.time,
      run: ev.run,
      origin: ev.origin,
      originLine: ev.originLine,
      compileId: ev.compileId,
      kind: ev.kind,
      format: ev.format,
      value,
      brought: logged && isRecordDim ? logged.new : brought === null || brought === 'absent' ? null : show(brought),
    };
    t.first ??= evidence;
    if (logged && isRecordDim) {
      t.logged = { compileId: ev.compileId, reason: logged.reason, cached: logged.cached, new: logged.new, guard: ev.guard, position: ev.position };
      // the value PyTorch saw that made the change counts among the values seen
      const v = recordValue(logged.new);
      const values = valuesOf(t);
      const into = values.get(v) ?? { count: 0, runs: new Set<string>() };
      into.count++;
      into.runs.add(ev.run || NO_RUN);
      values.set(v, into);
    }
    if (becomes) {
      t.staticBefore = t.lastStatic;
      // written out, not spread: a spread's copy with a field added took a hidden class of its own (5,580 in a 1M-event replay)
      t.became = { position: evidence.position, time: evidence.time, run: evidence.run, origin: evidence.origin, originLine: evidence.originLine, compileId: evidence.compileId, kind: evidence.kind, format: evidence.format, value: evidence.value, brought: evidence.brought, before: show(b) };
      // PyTorch's record of this change: this one, or the latest before a snapshot brought it
      t.becameLogged = t.logged;
    }
    if (newStatic) t.lastStatic = evidence;
  }
  if (changed) acc.dimsText = acc.dimsIndex = undefined;
}

/**
 * An acc's evidence at positions from `from` on, moved by `delta`: an append folded its batch
 * ahead of the write lock at positions its events then did not take (append.ts appendAhead).
 * Each such evidence is replaced, not changed (texts made of it stay true of it), its sharing
 * kept; the texts of the tracks it was in are let go.
 */
export function moveEvidence(acc: Acc, from: number, delta: number): void {
  const f = acc.first;
  if (f && f.event.position >= from) {
    acc.first = { ...f, event: { ...f.event, position: f.event.position + delta }, text: undefined };
    acc.dimsText = acc.dimsIndex = undefined;
  }
  const dims = acc.dims;
  if (!dims) return;
  const moved = new Map<object, object>();
  const move = <T extends { position: number } | null>(e: T): T => {
    if (e === null || e.position < from) return e;
    let m = moved.get(e);
    if (!m) moved.set(e, (m = { ...e, position: e.position + delta }));
    return m as T;
  };
  let any = false;
  for (const t of dims.values()) {
    const first = move(t.first);
    const lastStatic = move(t.lastStatic);
    const staticBefore = move(t.staticBefore);
    const became = move(t.became);
    const logged = move(t.logged);
    const becameLogged = move(t.becameLogged);
    if (first === t.first && lastStatic === t.lastStatic && staticBefore === t.staticBefore && became === t.became && logged === t.logged && becameLogged === t.becameLogged) continue;
    t.first = first;
    t.lastStatic = lastStatic;
    t.staticBefore = staticBefore;
    t.became = became;
    t.logged = logged;
    t.becameLogged = becameLogged;
    t.text = undefined;
    any = true;
  }
  if (any) acc.dimsText = acc.dimsIndex = undefined;
}

/**
 * The count of a body in its acc, for `whyCount` (null where the acc is not kept). Its step
 * must have been folded with `whyStep` first.
 */
export function whySlot(st: WhyState, step: FoldStep, bodyId: number): Carried | null {
  return st.byCode.get(step.code)?.get(step.source)?.carried.get(bodyId) ?? null;
}

/**
 * `whyStep` of a step that changed nothing (the fold left the entry as it was) of a body its
 * acc counted before: all such a step does is count the body and its run.
 */
export function whyCount(slot: Carried, run: string | null): void {
  slot.count++;
  // a sighting with no run is kept as NO_RUN: a value seen in run r2 and with none is not r2's
  // alone (trial s34: "retracting run r2 would keep it static" left its run-less sighting)
  const r = run || NO_RUN;
  if (r !== slot.lastRun) addRun(slot, (slot.lastRun = r));
}

/**
 * The acc where all `whyStep` would do is count: the fold changed nothing (before === after),
 * the kept acc counts the event's body already, and the event is no record. The count is then
 * `acc.last = step.after` and `whyCount` of the body's slot (acc.carried.get(bodyId)); null:
 * call `whyStep`. `code` is the step's code id as the dictionaries hold it (the object whyStep
 * keys by).
 */
export function whyCountingAcc(st: WhyState, code: CodeId, step: FoldStep, kind: string, bodyId: number): Acc | null {
  if (step.before !== step.after || kind === 'dynamic.logged') return null;
  const acc = st.byCode.get(code)?.get(step.source);
  return acc != null && acc.carried.has(bodyId) ? acc : null;
}

/** Where a fold of `why`'s state starts: a checkpoint's position, with the profile and `why`'s state there. */
export interface WhyStart {
  position: number;
  view: StreamView;
  state: WhyState;
}

/**
 * `why`'s state over a window: from `start` (a why-checkpoint the window rule lets it use, or
 * the beginning of the log), then the tail of the log, each step with its details.
 */
export function whyFold(sql: Sql, dict: Dictionaries, pid: number, window: Window, keep: Keep, start: WhyStart | null): WhyState {
  const excluded = leftOutRuns(sql, pid, window, dict);
  // the profile's fold there, read only when an event of the window follows
  let view: StreamView | undefined;
  const st = start?.state ?? emptyWhyState();
  const details = eventDetails(sql, dict);
  scanEvents(
    sql,
    { ...window, profileId: pid, afterPosition: start?.position },
    (ev) => {
      if (!windowFolds(ev, excluded)) return;
      const step = fold((view ??= start?.view ?? emptyStream()), ev);
      if (step) whyStep(st, step, ev, keep, details);
    },
    dict,
  );
  return st;
}

/**
 * Positions a page of details spans, and how many of its events are read one by one before it
 * is read whole (a page's rows at once cost about what 500 one-row queries cost).
 */
const DETAILS_PAGE = 4096;
const DETAILS_ONE_BY_ONE = 512;

/**
 * Fills an event's time, origin and compile from the log (for the few steps that give
 * evidence): one query each, until one page of positions has asked for many (a log's first
 * events give evidence nearly all: ~5,000 queries of one row in a 1M-event replay); then the
 * page's rows at once, each found by its position.
 */
export function eventDetails(sql: Sql, dict: Dictionaries): (ev: LeanEvent) => void {
  // where each query is a round trip (PostgreSQL), a page whole at the first ask: one round trip
  // cost more than reading a page's rows did (a 1M-event replay: thousands of one-row queries)
  const oneByOne = sql.dialect.remote ? 0 : DETAILS_ONE_BY_ONE;
  let page = -1;
  let asked = 0;
  // the page's rows, by position ([position, time, origin, line, compile]), once read whole
  let rows: unknown[][] | null = null;
  const fill = (ev: LeanEvent, r: unknown[], at: number) => {
    ev.time = r[at] as number;
    ev.origin = r[at + 1] === null ? null : dict.origin(r[at + 1] as number);
    ev.originLine = r[at + 2] as number | null;
    ev.compileId = r[at + 3] as string | null;
  };
  return (ev) => {
    const at = Math.floor(ev.position / DETAILS_PAGE);
    if (at !== page) {
      page = at;
      asked = 0;
      rows = null;
    }
    if (rows === null && ++asked > oneByOne) {
      rows = sql.allRaw('select position, time, origin_id, origin_line, compile_id from events where position >= ? and position < ? order by position', at * DETAILS_PAGE, (at + 1) * DETAILS_PAGE);
    }
    if (rows !== null) {
      // where the page's positions run with no gap, its row is at its offset from the first; else looked for
      let r: unknown[] | undefined = rows.length ? rows[ev.position - (rows[0][0] as number)] : undefined;
      if (r === undefined || r[0] !== ev.position) {
        let lo = 0;
        let hi = rows.length - 1;
        r = undefined;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const p = rows[mid][0] as number;
          if (p === ev.position) {
            r = rows[mid];
            break;
          }
          if (p < ev.position) lo = mid + 1;
          else hi = mid - 1;
        }
      }
      if (r !== undefined) return fill(ev, r, 1);
    }
    fill(ev, sql.allRaw('select time, origin_id, origin_line, compile_id from events where position = ?', ev.position)[0], 0);
  };
}

// The stored form: arrays, not objects; per code id and source, its dims as JSON text within,
// each dim's its own (read only when an answer tells it), with each event's details and each
// piece of evidence named once.
type EventJson = [position: number, time: number, run: string | null, origin: string | null, originLine: number | null, compileId: string | null, kind: string, format: string | null];
type EvidenceJson = [event: number, value: string, brought: string | null];
type LoggedJson = [string | null, string, string, string, string | null, number] | null;
/** Evidence by its index in the acc's pool, -1 for none. */
type TrackJson = [first: number, lastStatic: number, staticBefore: number, became: [number, string] | null, logged: LoggedJson, becameLogged: LoggedJson, values: [string, number, string[]][]];
/** One dim, self-contained: its events, its evidence, its facts. */
type DimJson = [events: EventJson[], evidence: EvidenceJson[], track: TrackJson];
export type AccJson = [code: number | string, source: string, saw: number, dims: string, last: EntryJson, carried: [body: number, count: number, runs: string[]][]];
export type WhyStateJson = AccJson[];
/** An AccJson as a checkpoint is read: a body's runs written out, or (versions 3 to 5) the index of a run list. */
export type WhyStateRow = [AccJson[0], AccJson[1], AccJson[2], AccJson[3], AccJson[4], [body: number, count: number, runs: string[] | number][]];

const loggedJson = (l: Logged): LoggedJson => l && [l.compileId, l.reason, l.cached, l.new, l.guard, l.position];
const loggedFrom = (j: LoggedJson): Logged => j && { compileId: j[0], reason: j[1], cached: j[2], new: j[3], guard: j[4], position: j[5] };

/** The last event written by trackText, and its text: the dims of a source written one after another mostly name one event. */
let lastEvent: Evidence | null = null;
let lastEventText = '';

/** An evidence's event as EventJson text. */
function eventText(e: Evidence): string {
  const l = lastEvent;
  if (
    l === null ||
    l.position !== e.position ||
    l.time !== e.time ||
    l.run !== e.run ||
    l.origin !== e.origin ||
    l.originLine !== e.originLine ||
    l.compileId !== e.compileId ||
    l.kind !== e.kind ||
    l.format !== e.format ||
    // -0 and 0 are one number to !==, not to the text (no time or line is -0 but a hostile one)
    Object.is(l.time, -e.time) ||
    Object.is(l.originLine, -(e.originLine as number))
  ) {
    lastEventText = JSON.stringify([e.position, e.time, e.run, e.origin, e.originLine, e.compileId, e.kind, e.format]);
    lastEvent = e;
  }
  return lastEventText;
}

/**
 * trackText's lists, made once for all its calls (a track names at most a few evidences and
 * events: each found by a look along them; no closure and lists made for each of the ~8,000
 * dims of a 1,000-source profile's first checkpoint), and the texts of its events and evidences.
 */
const pooled: Evidence[] = [];
const positions: number[] = [];
let eventsText = '';
let evidenceText = '';

/** An evidence's index in the track's pool, added (with its event, once per position) if new to it; -1 for none. */
function pooledIndex(e: Evidence | null): number {
  if (!e) return -1;
  let i = pooled.indexOf(e);
  if (i < 0) {
    let k = positions.indexOf(e.position);
    if (k < 0) {
      k = positions.push(e.position) - 1;
      eventsText += `${k ? ',' : ''}${eventText(e)}`;
    }
    i = pooled.push(e) - 1;
    evidenceText += `${i ? ',' : ''}[${k},${json(e.value)},${json(e.brought)}]`;
  }
  return i;
}

/** A dim as DimJson text: `[events, evidence, track]`, each event and each evidence once, in the order the track names them. */
function trackText(t: Track): string {
  // Most dims (every dim of a source's first step) name one evidence, as first and maybe last
  // static, and nothing else: written at once, as the lists below would write them.
  const e = t.first;
  if (e !== null && (t.lastStatic === e || t.lastStatic === null) && t.staticBefore === null && t.became === null && t.logged === null && t.becameLogged === null && t.values.size === 0) {
    return `[[${eventText(e)}],[[0,${json(e.value)},${json(e.brought)}]],[0,${t.lastStatic === null ? -1 : 0},-1,null,null,null,[]]]`;
  }
  pooled.length = 0;
  positions.length = 0;
  eventsText = '';
  evidenceText = '';
  // TrackJson, written as JSON.stringify writes it (the indices in the order it names them)
  const first = pooledIndex(t.first);
  const lastStatic = pooledIndex(t.lastStatic);
  const staticBefore = pooledIndex(t.staticBefore);
  // `[index, before]`, or (none) what JSON.stringify writes for the falsy value itself
  const became = t.became ? `[${pooledIndex(t.became)},${json(t.became.before)}]` : json(t.became);
  const values = t.values.size === 0 ? '[]' : JSON.stringify([...t.values].map(([v, x]) => [v, x.count, [...x.runs]]));
  const text = `[[${eventsText}],[${evidenceText}],[${first},${lastStatic},${staticBefore},${became},${json(loggedJson(t.logged))},${json(loggedJson(t.becameLogged))},${values}]]`;
  pooled.length = 0;
  return text;
}

/**
 * The dims as text: each dim and its own JSON text, tab after tab (`dim\tjson\tdim\tjson...`;
 * read one by one). JSON text holds no raw tab, so each is written as it is, not as a JSON
 * string within JSON. Where a dim's key or text holds a tab or a newline, or the first key
 * starts with `[` (a damaged older row can give such), the JSON form of before:
 * `[[dim, its own JSON text], ...]`; dimsPairs reads both. `cached`: each dim's text kept in
 * it until a step changes it (a state whose dims stay parsed, replay's, writes only those again).
 */
function tracksText(dims: Map<string, Track>, cached: boolean): string {
  let out = '';
  let plain = true;
  let first = true;
  for (const [dk, t] of dims) {
    const text = cached ? (t.text ??= trackText(t)) : trackText(t);
    if (first ? dk.charCodeAt(0) === 91 || dk.includes('\t') : dk.includes('\t')) plain = false;
    if (dk.includes('\n') || text.includes('\t')) plain = false;
    if (!plain) break;
    out += first ? `${dk}\t${text}` : `\t${dk}\t${text}`;
    first = false;
  }
  if (plain) return out;
  return JSON.stringify([...dims].map(([dk, t]) => [dk, cached ? (t.text ??= trackText(t)) : trackText(t)]));
}

/** Each dim and its text, from either form tracksText writes (the JSON form's first character is `[`, the tab form's never). */
function dimsPairs(text: string): [string, string][] {
  if (text.charCodeAt(0) === 91) return JSON.parse(text) as [string, string][];
  if (text === '') return [];
  const parts = text.split('\t');
  if (parts.length % 2 !== 0) throw new Error(`a why state's dims text holds ${parts.length} parts`);
  const out: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
  return out;
}

function trackFrom(text: string): Track {
  const [events, pooled, [first, lastStatic, staticBefore, became, logged, becameLogged, values]] = JSON.parse(text) as DimJson;
  const evidence: Evidence[] = pooled.map(([k, value, brought]) => {
    const e = events[k];
    return { position: e[0], time: e[1], run: e[2], origin: e[3], originLine: e[4], compileId: e[5], kind: e[6], format: e[7], value, brought };
  });
  const ev = (i: number): Evidence | null => (i < 0 ? null : evidence[i]);
  return {
    text,
    first: ev(first),
    lastStatic: ev(lastStatic),
    staticBefore: ev(staticBefore),
    became: became && { ...ev(became[0])!, before: became[1] },
    logged: loggedFrom(logged),
    becameLogged: loggedFrom(becameLogged),
    values: values.length === 0 ? NO_VALUES : new Map(values.map(([v, count, runs]) => [v, { count, runs: new Set(runs) }])),
  };
}

const tracksFrom = (text: string): Map<string, Track> => new Map(dimsPairs(text).map(([dk, t]) => [dk, trackFrom(t)]));

/**
 * An acc's dims text (its stored form), kept while no step changes them (most steps only
 * count); the parsed dims are dropped (memory: a state has every dim of every source), unless
 * `keep` (replay: its steps would read them back at once, at a cost in time and memory).
 */
export function accDimsText(a: Acc, keep = false): string {
  const text = (a.dimsText ??= tracksText(a.dims!, true));
  if (!keep) a.dims = undefined;
  return text;
}

/** A shared run list as JSON, made once. */
export const runListText = (r: RunList): string => (r.text ??= JSON.stringify(r.runs));

/** A body's own set of runs as JSON, kept while its size says it stands (a set only grows). */
function runSetText(c: Carried, runs: Set<string>): string {
  if (c.runsText === undefined || c.runsSize !== runs.size) {
    c.runsText = JSON.stringify([...runs]);
    c.runsSize = runs.size;
  }
  return c.runsText;
}

/** An acc's `[code,source,saw` (kept while its code's ref and saw flags stand). */
export function accHead(a: Acc, codeRef: (c: CodeId) => number | string): string {
  const ref = codeRef(a.code);
  const saw = (a.sawScalar ? 1 : 0) | (a.sawTensor ? 2 : 0);
  if (a.headText === undefined || a.headRef !== ref || a.headSaw !== saw) {
    a.headText = JSON.stringify([ref, a.source, saw]).slice(0, -1);
    a.headRef = ref;
    a.headSaw = saw;
  }
  return a.headText;
}

/** `last` as JSON text, kept while `last` is the entry it was written from and no step changed it. */
export function accLastText(a: Acc): string {
  if (a.lastText === undefined || a.lastFor !== a.last) {
    a.lastText = JSON.stringify(entryToJson(a.last));
    a.lastFor = a.last;
  }
  return a.lastText;
}

/**
 * An acc's counted bodies as a version-5 why-checkpoint writes them, `[[body,count,runs],...]`:
 * a shared run list by its index (`listRef`), a body's own set written out.
 */
export function accCarriedRefs(a: Acc, listRef: (r: RunList) => number): string {
  let carriedText = '';
  for (const [body, c] of a.carried) {
    const runs = c.runs;
    carriedText += `${carriedText ? ',' : ''}[${body},${c.count},${runs instanceof RunList ? listRef(runs) : runSetText(c, runs)}]`;
  }
  return `[${carriedText}]`;
}

/** An acc's row (AccJson) in two pieces of JSON text around its dims: `[code,source,saw` and `last,carried]`. */
export function accRowText(a: Acc, codeRef: (c: CodeId) => number | string): [head: string, tail: string] {
  // Written at every checkpoint, where only the counts have changed for most: the rest is kept
  // (a shared run list keeps its own text; a run set only grows, so its size says whether its text stands).
  let carriedText = '';
  for (const [body, c] of a.carried) {
    const runs = c.runs;
    carriedText += `${carriedText ? ',' : ''}[${body},${c.count},${runs instanceof RunList ? runListText(runs) : runSetText(c, runs)}]`;
  }
  return [accHead(a, codeRef), `${accLastText(a)},[${carriedText}]]`];
}

/**
 * The state as JSON text (WhyStateJson), in its own order; `codeRef` names a code id (its row,
 * or its key for comparing). `cached: false` (verify) writes every part afresh.
 */
export function whyStateText(st: WhyState, codeRef: (c: CodeId) => number | string, cached = true): string {
  const parts: string[] = [];
  for (const a of st.accs.values()) {
    // (an acc's first step written out into its dims: this form has no place for it)
    const dims = JSON.stringify(cached && !a.first ? accDimsText(a) : tracksText(tracks(a), false));
    const [head, tail] = accRowText(a, codeRef);
    parts.push(`${head},${dims},${tail}`);
  }
  return `[${parts.join(',')}]`;
}

type FirstStepJson = [position: number, time: number, run: string | null, origin: string | null, originLine: number | null, compileId: string | null, kind: string, format: string | null, after: EntryJson, got: EntryJson | null];

/** An acc's first step (Acc.first) as JSON text, '' for none; kept while it stands. */
export function firstStepText(a: Acc): string {
  const f = a.first;
  if (!f) return '';
  const e = f.event;
  return (f.text ??= JSON.stringify([e.position, e.time, e.run, e.origin, e.originLine, e.compileId, e.kind, e.format, entryToJson(f.after), f.got && entryToJson(f.got)] satisfies FirstStepJson));
}

function firstStepFrom(text: string): FirstStep | undefined {
  if (text === '') return undefined;
  const j = JSON.parse(text) as FirstStepJson;
  if (!Array.isArray(j) || j.length !== 10) throw new Error('a why-checkpoint\'s first step is not [event, after, got]');
  const after = entryFromJson(j[8]);
  return { event: { position: j[0], time: j[1], run: j[2], origin: j[3], originLine: j[4], compileId: j[5], kind: j[6], format: j[7] }, after, got: j[9] === null ? null : entryFromJson(j[9]), dims: trackedDims(undefined, after), text };
}

/**
 * A checkpoint's run lists (the lists its bodies share, versions 3 to 5) as the state's own:
 * each list of distinct runs, MAX_SHARED_RUNS at most, is taken whole and found by its JSON
 * (RunList.with), not made run by run from the empty list (a list of 50 runs made 50 lists, and
 * a 5M-event log's checkpoint names ~200 lists read by ~4,500 bodies); any other (a damaged
 * one) is read as addRun would read it, a body's own set copied for each body. Undefined for
 * an entry that is no list (an error where a body names it).
 */
function sharedRunLists(st: WhyState, lists: readonly unknown[]): (RunList | Set<string> | undefined)[] {
  const read = st.noRuns.read;
  return lists.map((list) => {
    if (!Array.isArray(list)) return undefined;
    if (list.length === 0) return st.noRuns;
    if (list.length <= MAX_SHARED_RUNS && new Set(list).size === list.length) {
      const text = JSON.stringify(list);
      let r = read.get(text);
      if (!r) {
        read.set(text, (r = new RunList(list as string[], read)));
        r.text = text;
      }
      return r;
    }
    const slot: Carried = { key: null, count: 0, runs: st.noRuns, lastRun: null, runsText: undefined, runsSize: 0 };
    for (const run of list) addRun(slot, run as string);
    return slot.runs;
  });
}

/**
 * The state back from its JSON, keeping only what `keep` wants (the rest marked not kept);
 * `firsts`: each row's first step as firstStepText wrote it (versions 4 and 5), else none;
 * `lists`: the run lists a body's runs name by their index (versions 3 to 5).
 */
export function whyStateFrom(j: readonly WhyStateRow[], dict: Dictionaries, keep: Keep, firsts?: readonly string[], lists: readonly unknown[] = []): WhyState {
  const st = emptyWhyState();
  const shared = sharedRunLists(st, lists);
  const named = (runs: number) => {
    const r = shared[runs];
    if (r === undefined) throw new Error(`a why-checkpoint names run list ${runs} of ${lists.length}`);
    return r;
  };
  // their code ids read in a few queries, not one each
  dict.load('codes', codeRows(j, 0));
  let i = -1;
  for (const [ref, source, saw, dims, last, carriedRows] of j) {
    i++;
    if (typeof ref !== 'number') throw new Error('a why-checkpoint names a code id by its row');
    const code = dict.code(ref);
    let bySource = st.byCode.get(code);
    if (!bySource) st.byCode.set(code, (bySource = new Map()));
    if (!keep(code, source)) {
      // (a body naming no list is damage, kept or not)
      for (const [, , runs] of carriedRows) if (typeof runs === 'number') named(runs);
      bySource.set(source, null);
      continue;
    }
    const acc = newAcc(code, source, entryFromJson(last), (saw & 1) !== 0, (saw & 2) !== 0, undefined, dims, firsts && firstStepFrom(firsts[i]));
    for (const [body, count, runs] of carriedRows) {
      const slot: Carried = { key: null, count, runs: st.noRuns, lastRun: null, runsText: undefined, runsSize: 0 };
      if (typeof runs === 'number') {
        const r = named(runs);
        slot.runs = r instanceof RunList ? r : new Set(r);
      } else for (const run of runs) addRun(slot, run);
      acc.carried.set(body, slot);
    }
    st.accs.set(`${codeKey(code)}\u0000${source}`, acc);
    bySource.set(source, acc);
  }
  return st;
}
