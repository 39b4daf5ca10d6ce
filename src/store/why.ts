import { NO_RUN } from '../model/id-chars.ts';
import { DYNAMIC, UNSET } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { dimSwitchHint, namedRunCount, shellQuoted } from '../model/switches.ts';
import { PyFloat } from '../model/float.ts';
import { isPyInt } from '../model/int.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { inputError } from '../errors.ts';
import { counted } from '../counted.ts';
import { matchCodeIn } from './code-ref.ts';
import { knownRead, listed, noSuchSource, sourcesOf, windowWords } from './known.ts';
import { dictionaries, scanEvents, type Dictionaries } from './log.ts';
import { isWholeLog, leftOutRuns, retractionsIn, windowFolds } from './window.ts';
import { runsWord, snapshotFiles, warmStartCarriers, type Carriers } from './warm-starts.ts';
import { liveMerges } from './live-merges.ts';
import { snapshotKind } from '../model/snapshot-kind.ts';
import { mergedKinds, type MergedKinds } from './merged-kinds.ts';
import { describedShapes } from './described-shapes.ts';
import { compileValues } from './compile-values.ts';
import type { Ledger } from './ledger.ts';
import type { Sql } from './database.ts';
import { entryFromJson } from '../codecs/entry-json.ts';
import type { Window } from './window.ts';
import { whyCheckpointFor } from './why-checkpoints.ts';
import { coldPut } from './cold-put.ts';
import { foldWindow } from './fold-window.ts';
import type { StreamView } from './fold.ts';
import { historyAsOf } from './history.ts';
import { carried, carriedKey, dimKey, isDynamic, isStatic, recordNamedDim, recordValue, sameDim, show, track, valueAt, valuesOf, whyFold, type Acc, type DimRef, type Evidence, type Keep, type Logged, type Track } from './why-fold.ts';

export { dimKey, type DimRef, type Evidence };

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
  /**
   * A static dim that was dynamic earlier in the window: the event that put its value back (an
   * overwrite: a compile under automatic_dynamic_shapes off, whose put PyTorch writes in the
   * entry's place, or an observation line with automatic_dynamic false; a join never does) and
   * where it had turned dynamic before.
   */
  staticAgain: { at: Evidence; dynamicIn: Evidence & { before: string }; dynamicInColdPut: boolean } | null;
  /**
   * A static dim that held another static value earlier in the window and was never dynamic
   * there: the event since which it holds this one (an overwrite put it in the other's place;
   * a join never does). Trial s35a: "static at 16 … first in #1" read as if #1 brought 16.
   */
  staticSince: Evidence | null;
  /** The record PyTorch itself logged for this change (from a trace), with its guard failure. */
  logged: Logged;
  /** When the change came in a merge of profiles: that profile's own story of the dim. */
  /**
   * When the change came in a merge of profiles: that profile's own story of the dim as of the
   * merge, and the runs retracted from it since (a merge is a snapshot: it keeps what it joined).
   */
  via: { cacheKey: string; story: DimStory; retractedSince: string[] } | null;
  /** What each compile saw of the source, as a trace described its inputs (evidence only). */
  saw: { position: number; compileId: string | null; run: string | null; size: (number | string | null)[] }[];
  /**
   * What the source's scalar held where events carried one: `float` (specialize_float=False
   * records a float input's value), `int`, null when both came; `scalar or tensor` (PyTorch's
   * "fully dynamic scalar or tensor") when events brought it as a tensor too, or none brought
   * a value (an entry that came fully dynamic). Told for the scalar dim only, and not with
   * `becameOnly`.
   */
  scalarKind: ScalarKind;
  /**
   * Each static value seen for this dim, with the runs that fed it, in first-seen order (by
   * position): the values events carried and those PyTorch's records logged, counted together;
   * for a source a trace told of, each compile's value once (compile-values.ts). A null among
   * the runs: sightings with no run (one or more).
   */
  values: { value: string; count: number; runs: (string | null)[] }[];
  advice: string;
}

/** What a source's scalar dim is (DimStory.scalarKind): null, a scalar whose events brought both an int and a float. */
export type ScalarKind = 'int' | 'float' | 'scalar or tensor' | null;

export interface ExplainOptions {
  /** One source; all of them (dynamic dims only, most recent first) when left out. */
  source?: string;
  dim?: DimRef;
  /** `--code`: a function name, file:line:name, or the code id's text (see code-ref.ts). */
  code?: string;
  window?: Window;
  /**
   * Only where and how each dim turned dynamic (first, becameDynamic, staticBefore, logged):
   * no values, advice, compiles' shapes or merge story (the report reads no more).
   */
  becameOnly?: boolean;
}

/** `--dim`: `0` (a size dim), `scalar`, `rank`/`size` (the whole size), `stride 1`/`stride:1`/`stride[1]`, `stride`. */
export function parseDimRef(s: string): DimRef | undefined {
  const t = s.trim();
  if (t === 'scalar') return { field: 'scalar' };
  if (t === 'rank' || t === 'size') return { field: 'size' };
  if (t === 'stride') return { field: 'stride' };
  // a dim index is under MAX_DIMS (1024): one of more digits is none (and Number() would round it: trial s26a)
  let m = /^(?:size\s*[:[ ]\s*)?(\d{1,9})\]?$/.exec(t);
  if (m) return { field: 'size', index: Number(m[1]) };
  m = /^stride\s*[:[ ]\s*(\d{1,9})\]?$/.exec(t);
  if (m) return { field: 'stride', index: Number(m[1]) };
  return undefined;
}

/** A dim as `--dim` takes it: parseDimRef's inverse. */
export function dimRefText(d: DimRef): string {
  if (d.field === 'scalar') return 'scalar';
  if (d.index === undefined) return d.field === 'size' ? 'rank' : 'stride';
  return d.field === 'size' ? String(d.index) : `stride ${d.index}`;
}

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

/** A dim's place in a list of dims: the whole ones (scalar, rank, stride) first, then size dims, then stride dims, by index. */
function dimOrder(d: DimRef): number {
  return d.field === 'scalar' || d.index === undefined ? 0 : (d.field === 'stride' ? 2e6 : 1e6) + d.index;
}

/**
 * What each dim of a source went through, from the log: its earliest evidence, the static
 * values events carried, when it turned dynamic and by what (an observation, an imported
 * snapshot with its origin, or PyTorch's own record with its compile and guard failure), and
 * for a merged profile the story in the profile it came from. Every dim `show` lists gets an
 * answer, static ones included.
 */
export function explain(ledger: Ledger, profileId: number, opts: ExplainOptions = {}): DimStory[] {
  const cacheKey = knownRead(ledger, profileId, opts.window);
  const stories = explainWith(ledger, profileId, opts, null, 0);
  // a source or dim asked for and not there is an error, not an empty answer (every dim of a source asked for is told)
  if (!stories.length && (opts.source !== undefined || opts.dim)) {
    const dim = opts.dim && dimRefText(opts.dim);
    if (opts.source !== undefined && dim !== undefined) {
      // the dims of every code id holding the source, in one order (trial s32: two code ids' dims came interleaved, "0, 1, stride 0, stride 1, 2, stride 2")
      const has = [...new Set(explainWith(ledger, profileId, { source: opts.source, code: opts.code, window: opts.window, becameOnly: true }, null, 0).map((s) => s.dim).sort((a, b) => dimOrder(a) - dimOrder(b)).map(dimRefText))];
      if (has.length) throw inputError(`${opts.source}${opts.code ? ` in code ${opts.code}` : ''} of ${cacheKey} has no dim ${dim}; its dims: ${has.join(', ')}${dimBeforeWhole(ledger, profileId, opts, has)}`);
    }
    const codes = [...ledger.fold(profileId, opts.window ?? {}).profile.codes.values()];
    const wanted = opts.code ? matchCodeIn(ledger, profileId, opts.window ?? {}, opts.code, 'code', codes.map((c) => c.id)) : null;
    noSuchSource(cacheKey, { source: opts.source, code: opts.code, dim, window: opts.window, has: sourcesOf(codes, wanted) });
  }
  return stories;
}

/**
 * A size or stride dim asked for whose field is dynamic whole now (its number of dims changed,
 * so it has no dims of its own): PyTorch's records of that dim before, said with the error
 * (trial s29a: probe3's L['x'] dim 1, logged 5 -> 9 in run 2, met only "has no dim 1").
 */
function dimBeforeWhole(ledger: Ledger, profileId: number, opts: ExplainOptions, has: string[]): string {
  const d = opts.dim;
  if (!d || d.field === 'scalar' || d.index === undefined) return '';
  const whole = d.field === 'size' ? 'rank' : 'stride';
  if (!has.includes(whole)) return '';
  const codes = opts.code ? matchCodeIn(ledger, profileId, opts.window ?? {}, opts.code) : null;
  const rows = historyAsOf(ledger, profileId, opts.window ?? {}).filter((h) => h.name === opts.source && h.dim_changed === d.index && h.reason === `${d.field} change` && (!codes || codes(h.code)));
  if (!rows.length) return '';
  const logged = rows.map((h) => `#${h.position} (${h.compileId ? `compile ${h.compileId}, ` : ''}run ${h.run ?? '-'}${h.kind === 'dynamic.logged' ? '' : ', by PyTorch\'s rule'}): ${h.reason} ${recordValue(h.cached)} -> ${recordValue(h.new)}`);
  return `. Its ${d.field} is dynamic whole (its number of dims changed); before that, ${d.field === 'size' ? 'dim' : 'stride'} ${d.index} turned dynamic: ${logged.join('; ')}. why --dim ${whole} tells the whole ${d.field}, history --source lists every record`;
}

function explainWith(ledger: Ledger, profileId: number, opts: ExplainOptions, onlyCode: string | null, depth: number): DimStory[] {
  const window = opts.window ?? {};
  let wanted: ((c: CodeId) => boolean) | null = null;
  if (opts.code) wanted = matchCodeIn(ledger, profileId, window, opts.code);
  // From the nearest why-checkpoint the window can use, then the tail (why-fold.ts).
  const keep: Keep = (code, source) => (opts.source === undefined || source === opts.source) && (onlyCode === null || codeKey(code) === onlyCode) && (!wanted || wanted(code));
  const dict = dictionaries(ledger.sql);
  // the profile's key where it is a live merge's target (a merged dim's advice then ends that merge too)
  let live: string | null | undefined;
  const liveTarget = () => {
    if (live === undefined) {
      const key = ledger.sql.get<{ cache_key: string }>('select cache_key from profiles where id = ?', profileId)?.cache_key;
      live = key !== undefined && liveMerges(ledger.sql).some((m) => m.into === key) ? key : null;
    }
    return live;
  };
  // the runs that carry what a run brought, read once a profile where advice names a run
  let carriers: ((run: string) => Carriers) | undefined;
  const carriersOf = () => (carriers ??= warmStartCarriers(ledger.sql, dict, profileId, window));
  // The dim in the window's fold with `runs` left out too: what advice to
  // retract them promises, asked of the fold itself (trial s34b: a later mark, or a snapshot
  // holding the dim dynamic, kept it dynamic where the values alone said it would be static).
  // One fold for each set of runs, from the start (a window that leaves runs out takes no checkpoint).
  const folds = new Map<string, StreamView>();
  const withoutRuns = (acc: Acc, d: DimRef, runs: readonly string[]): Without => {
    const excludeRuns = [...new Set([...(window.excludeRuns ?? []), ...runs])].sort();
    const key = excludeRuns.join('\u0000');
    let view = folds.get(key);
    if (!view) folds.set(key, (view = foldWindow(ledger.sql, dict, profileId, { ...window, excludeRuns })));
    const entry = view.profile.codes.get(codeKey(acc.code))?.state.automaticDynamic.get(acc.source);
    return entry === undefined ? 'absent' : show(valueAt(entry, d));
  };
  // the window in words where it leaves out events of this profile (advice holds there)
  let inWindow: string | undefined;
  // `retract --run` takes a run from every job that has it: advice names this profile's job
  // where another job has the run too (trial s35a F5: another job's profile changed unsaid)
  let job: string | undefined;
  const jobFlags = new Map<string, { flag: string; also: string[] }>();
  const jobFlag = (run: string) => {
    let f = jobFlags.get(run);
    if (f === undefined) {
      job ??= ledger.sql.get<{ job: string }>('select job from profiles where id = ?', profileId)!.job;
      const elsewhere = ledger.sql.get('select 1 from profile_runs pr join runs r on r.id = pr.run_id join profiles p on p.id = pr.profile_id where r.run = ? and p.job <> ? limit 1', run, job);
      // retract has no --rank or --tag: the job's other profiles that have the run lose it too (trial s35b)
      const siblings = ledger.sql.allRaw('select p.cache_key from profile_runs pr join runs r on r.id = pr.run_id join profiles p on p.id = pr.profile_id where r.run = ? and p.job = ? and p.id <> ? order by p.cache_key', run, job, profileId).map((r) => String(r[0]));
      f = { flag: elsewhere ? ` --job ${/^[\w.\/:@+-]+$/.test(job) ? job : shellQuoted(job)}` : '', also: siblings };
      jobFlags.set(run, f);
    }
    return f;
  };
  // the runs retracted after the window's point: its answer holds their events, but advice
  // must not send the user to retract them again (the whole log leaves them out already)
  let later: RetractedLater | undefined;
  const retractedLater = () => {
    if (later === undefined) {
      later = new Map();
      if (!isWholeLog(window)) {
        const held = leftOutRuns(ledger.sql, profileId, window, dict);
        for (const r of retractionsIn(ledger.sql, profileId, {}, dict)) if (!held.has(r.run) && !later.has(r.run)) later.set(r.run, r);
      }
    }
    return later;
  };
  const accs = whyFold(ledger.sql, dict, profileId, window, keep, whyCheckpointFor(ledger.sql, profileId, window, dict, keep)).accs;
  // The static values a dim was brought, from the bodies counted above, in first-seen order
  // (for the dims told only: most of a long log's are not).
  const bodies = new Map<Acc, FrameStateSizeEntry[]>();
  const bodiesOf = (acc: Acc) => {
    let got = bodies.get(acc);
    if (!got) bodies.set(acc, (got = [...acc.carried].map(([body, slot]) => carried(carriedKey(slot, body, dict)))));
    return got;
  };
  // PyTorch's entry does not say whether its scalar is an int or a float: the values events
  // brought do; where none brought one (a merge brings the join), the profile it came from does.
  // A tensor's entry holds scalar=auto_dynamic: a source also brought as a tensor (or
  // described as one, or whose story in the profile it was merged from is a tensor's) is a
  // scalar or a tensor, as PyTorch's render says of its fully dynamic entry.
  const scalarKinds = new Map<Acc, ScalarKind>();
  // A scalar that held a value first (an int that changed, then a tensor came) is told by its
  // values: what made it dynamic was theirs (`firstStatic`).
  const scalarKindOf = (acc: Acc, via: DimStory['via'], described: boolean, firstStatic: boolean) => {
    let k = scalarKinds.get(acc);
    if (k === undefined) {
      const got = bodiesOf(acc);
      const float = got.some((e) => e.scalar instanceof PyFloat);
      const int = got.some((e) => isPyInt(e.scalar));
      const tensor = !firstStatic && (acc.sawTensor || described || (via !== null && via.story.dim.field !== 'scalar'));
      k = tensor ? 'scalar or tensor' : float && int ? null : float ? 'float' : int ? 'int' : via ? via.story.scalarKind : 'scalar or tensor';
      scalarKinds.set(acc, k);
    }
    return k;
  };
  // where each body and each record's value first came, read from the log only for a dim that has both
  const seen = firstSeen(ledger, dict, profileId, window, accs);
  // The runs of a value's bodies, in their order, made once for each sequence of run lists:
  // the bodies of a state share a few hundred lists (why-fold.ts RunList), so most dims of the
  // sources told name the same few, each list up to every run of the log. A union is shared by
  // the values that name its lists, and never written.
  const listIds = new Map<Iterable<string>, number>();
  const unions = new Map<string, Set<string>>();
  const unionOf = (lists: Iterable<string>[]) => {
    let key = '';
    for (const l of lists) {
      let id = listIds.get(l);
      if (id === undefined) listIds.set(l, (id = listIds.size));
      key += `${id},`;
    }
    let u = unions.get(key);
    if (!u) {
      unions.set(key, (u = new Set()));
      for (const l of lists) for (const r of l) u.add(r);
    }
    return u;
  };
  const fillValues = (acc: Acc, d: DimRef, t: Track) => {
    const got = bodiesOf(acc);
    // PyTorch's records counted their values as the state folded, before any body's: where a
    // dim has both, each value's first position puts the list in first-seen order
    const firstAt = t.values.size && t.logged && got.length ? seen(acc, dimKey(d), t.logged.position) : null;
    const at = new Map<string, number>();
    if (firstAt) for (const v of t.values.keys()) at.set(v, firstAt.record(v));
    // the run lists of each value no record brought, joined once all its bodies are met (unionOf)
    const lists = new Map<{ count: number; runs: Set<string> }, Iterable<string>[]>();
    let i = 0;
    for (const [bodyId, slot] of acc.carried) {
      const brought = valueAt(got[i++], d);
      // what a run loaded at its start (get_*_code_state) was seen by earlier runs, not by it;
      // a whole field with a dynamic dim ([?]) is what a snapshot held, no value a run fed
      if (!isStatic(brought) || (Array.isArray(brought) && brought.includes(DYNAMIC)) || snapshotKind(dict.body(bodyId).format) === 'get') continue;
      const v = show(brought);
      const values = valuesOf(t);
      let into = values.get(v);
      if (into === undefined) {
        into = { count: 0, runs: NO_RUNS };
        values.set(v, into);
        lists.set(into, []);
      }
      into.count += slot.count;
      const pending = lists.get(into);
      if (pending) pending.push(slot.runs);
      else for (const r of slot.runs) into.runs.add(r);
      if (firstAt) at.set(v, Math.min(at.get(v) ?? Infinity, firstAt.body(bodyId)));
      // its stored text no longer tells it (why-fold.ts writes a dim's text again only without it)
      t.text = undefined;
    }
    for (const [into, runs] of lists) into.runs = unionOf(runs);
    // (a stable sort: values whose first position is past what was read keep the bodies' order, which is first-seen)
    if (firstAt) t.values = new Map([...t.values].sort(([x], [y]) => (at.get(x)! < at.get(y)! ? -1 : at.get(x)! > at.get(y)! ? 1 : 0)));
  };

  const saw = new Map<string, DimStory['saw']>();
  const full = !opts.becameOnly;
  // (a source a trace described is a tensor: describe_tensor is only of tensors)
  for (const r of accs.size && full ? describedShapes(ledger, profileId, window) : []) {
    const k = `${codeKey(r.code)}\u0000${r.source}`;
    if (!accs.has(k)) continue;
    let list = saw.get(k);
    if (!list) saw.set(k, (list = []));
    list.push({ position: r.position, compileId: r.compileId, run: r.run, size: r.size });
  }
  let mergeKinds: ((code: CodeId, source: string) => MergedKinds) | undefined;
  let compiles: ReturnType<typeof compileValues> | undefined;
  // Whether a trace told of the source: a compile described it, PyTorch logged a record of the
  // dim, or it came in a snapshot a run put or loaded (asked before the log is read for it).
  const tracedAccs = new Map<Acc, boolean>();
  const traced = (acc: Acc, t: Track | undefined, described: boolean) => {
    if (described || t?.logged) return true;
    let k = tracedAccs.get(acc);
    if (k === undefined) {
      k = false;
      for (const bodyId of acc.carried.keys()) {
        if (snapshotKind(dict.body(bodyId).format) === null) continue;
        k = true;
        break;
      }
      tracedAccs.set(acc, k);
    }
    return k;
  };
  const out: DimStory[] = [];
  for (const acc of accs.values()) {
    const described = saw.has(`${codeKey(acc.code)}\u0000${acc.source}`);
    for (const d of dimsOf(acc.last, acc.sawScalar, acc.sawTensor || described)) {
      if (opts.dim && !sameDim(opts.dim, d)) continue;
      const cur = valueAt(acc.last, d);
      const dynamic = isDynamic(cur);
      if (opts.source === undefined && !opts.dim && !dynamic) continue;
      const t = track(acc, dimKey(d));
      // a source a trace told of: what each compile saw (compile-values.ts); else what the fold counted
      const byCompile = full && traced(acc, t, described) ? (compiles ??= compileValues(ledger.sql, dict, profileId, window, accs))(acc, d) : null;
      if (t && full && !byCompile) fillValues(acc, d, t);
      const became = dynamic ? (t?.became ?? null) : null;
      // A logged record belongs to this change when it is no later than it.
      const logged = became ? (t?.becameLogged ?? null) : null;
      let via: DimStory['via'] = null;
      if (full && became && became.kind === 'entry.imported' && became.format === 'merge' && became.origin?.startsWith('profile ') && depth < 8) {
        const from = ledger.profileByKey(became.origin.slice('profile '.length));
        if (from) {
          const there = (dim: DimRef) => explainWith(ledger, from.id, { source: acc.source, dim, window: { untilPosition: became.position - 1, excludeRuns: window.excludeRuns } }, codeKey(acc.code), depth + 1);
          let inner = there(d);
          // An entry new to the target that came fully dynamic reads here as a scalar (an import
          // does not say it was a tensor); where it came from, it may be a tensor whose number
          // of dims changed: its size's story, PyTorch's first record of such a change.
          if (!inner[0] && d.field === 'scalar' && !acc.sawTensor) inner = there({ field: 'size' });
          if (inner[0]) {
            const dict = dictionaries(ledger.sql);
            const then = leftOutRuns(ledger.sql, from.id, { untilPosition: became.position - 1 }, dict);
            const since = [...leftOutRuns(ledger.sql, from.id, {}, dict)].filter((r) => !then.has(r));
            via = { cacheKey: from.cacheKey, story: inner[0], retractedSince: since };
          }
        }
      }
      const values = [...(byCompile ?? t?.values ?? new Map<string, { count: number; runs: Set<string> }>())].map(([value, v]) => ({ value, count: v.count, runs: [...v.runs].map((r) => (r === NO_RUN ? null : r)) }));
      const story: DimStory = {
        code: acc.code,
        source: acc.source,
        dim: d,
        dynamic,
        current: show(cur),
        first: t?.first ?? null,
        staticBefore: became ? (t?.staticBefore ?? null) : null,
        becameDynamic: became,
        staticAgain: !dynamic && t?.became && t.lastStatic && t.lastStatic.position > t.became.position ? { at: t.lastStatic, dynamicIn: t.became, dynamicInColdPut: coldPut(t.became, t.becameLogged) } : null,
        // the static value last changed after the first evidence (an overwrite; 8, 16, then 8 again too: trial s35b)
        staticSince: !dynamic && !t?.became && t?.lastStatic && t.first && isStaticText(t.first.value) && t.lastStatic.position !== t.first.position ? t.lastStatic : null,
        logged,
        via,
        saw: saw.get(`${codeKey(acc.code)}\u0000${acc.source}`) ?? [],
        scalarKind: full && d.field === 'scalar' ? scalarKindOf(acc, via, described, t?.first != null && isStaticText(t.first.value)) : null,
        values,
        advice: '',
      };
      if (full) {
        // a dim a merge made dynamic: which kind each profile merged had the source as, asked of the log only then
        const fromMerge = became?.kind === 'entry.imported' && became.format === 'merge';
        const kinds = fromMerge ? () => (mergeKinds ??= mergedKinds(ledger, profileId, window))(acc.code, acc.source) : null;
        story.advice = advise(story, acc.sawScalar && (acc.sawTensor || described), markedAt(ledger, dict, story), {
          live: story.via === null && !fromMerge ? null : liveTarget(),
          later: retractedLater(),
          carriers: carriersOf(),
          kinds,
          without: (runs) => withoutRuns(acc, d, runs),
          inWindow: (inWindow ??= inThisWindow(ledger.sql, dict, profileId, window)),
          jobFlag,
          snapshotHolds: (importId) => snapshotHolds(ledger.sql, dict, profileId, acc, d, importId),
          markedInWindow: markedIn(acc, d, dict),
        });
        const inferred = dynamic && d.field === 'stride' ? strideInferredBy(acc.last) : null;
        if (inferred) story.advice += `; PyTorch infers the strides of ${acc.source} from its sizes while ${inferred} (is_stride_dynamic): this stride is not compiled dynamic`;
        // the newer switches (per-dim, unbacked, static), each with the versions that read it
        const hint = dimSwitchHint(acc.source, d.field === 'scalar' ? 'scalar' : d.field === 'size' && d.index !== undefined ? d.index : 'rank', dynamic, values);
        if (hint) story.advice += `; ${hint}${switchReach(accs, acc, d, dynamic)}`;
      }
      out.push(story);
    }
  }
  if (opts.source === undefined) out.sort((x, y) => (y.becameDynamic?.position ?? -1) - (x.becameDynamic?.position ?? -1));
  return out;
}

/**
 * The switches name a source, not a frame (torch.compiler.config.dynamic_sources and its kin
 * match the source's name in every frame Dynamo compiles): the other code ids of the accs read
 * that hold the same source with the dim the other way (static where the switch starts it
 * dynamic, dynamic where it keeps it static) are said (trial s36b: STATIC_SOURCES advised for f's
 * L['x'] dim 0 would pin g's, dynamic there). `why --code` reads one code id: none is said then.
 */
function switchReach(accs: Map<string, Acc>, acc: Acc, d: DimRef, dynamic: boolean): string {
  const other: string[] = [];
  for (const a of accs.values()) {
    if (a === acc || a.source !== acc.source) continue;
    const v = valueAt(a.last, d);
    if (v === 'absent' || v === UNSET) continue;
    if (isDynamic(v) !== dynamic) other.push(`${a.code.name} (${a.code.filename}:${a.code.firstlineno})`);
  }
  if (!other.length) return '';
  return ` (the switch names the source in every frame: it ${dynamic ? 'starts' : 'pins'} ${acc.source}'s dim in ${other.join(', ')} too, ${dynamic ? 'static' : 'dynamic'} there)`;
}

/** A value's runs until its bodies' are joined (fillValues, which replaces it before anything reads it): never written. */
const NO_RUNS = new Set<string>();

/** The first positions of one acc's bodies and of its dim's record values (Infinity: not read, so later than any record's). */
interface FirstSeen {
  body(bodyId: number): number;
  record(value: string): number;
}

/**
 * Where each value of a dim was first seen in the window, for the dims whose values came both
 * from PyTorch's records and from bodies (observations, imports). why's state keeps no
 * position per value (why-fold.ts; its checkpoints are stored as they are), so the log is read
 * here, up to the dim's latest record: a body first met later than that comes after every
 * record's value, in the order the state met the bodies. One read serves every dim told, and
 * goes further on when a later dim's record is later. The events are those why's fold takes:
 * the window's, less the runs it leaves out.
 */
function firstSeen(ledger: Ledger, dict: Dictionaries, profileId: number, window: Window, accs: Map<string, Acc>): (acc: Acc, dk: string, until: number) => FirstSeen {
  let excluded: Set<string> | null = null;
  let read = 0;
  const keys = new Map<CodeId, string>();
  const bodies = new Map<Acc, Map<number, number>>();
  // by acc: `${dim key}\u0000${value}` -> position; a whole-field record names its field's dim key
  const records = new Map<Acc, Map<string, number>>();
  const first = <K>(m: Map<K, number>, k: K, position: number) => {
    if (!m.has(k)) m.set(k, position);
  };
  return (acc, dk, until) => {
    if (until > read) {
      excluded ??= leftOutRuns(ledger.sql, profileId, window, dict);
      const out = excluded;
      scanEvents(
        ledger.sql,
        { untilTime: window.untilTime, profileId, afterPosition: read, untilPosition: Math.min(until, window.untilPosition ?? Infinity) },
        (ev) => {
          if (!windowFolds(ev, out)) return;
          let ck = keys.get(ev.code);
          if (ck === undefined) keys.set(ev.code, (ck = codeKey(ev.code)));
          const a = accs.get(`${ck}\u0000${ev.source}`);
          if (!a) return;
          if (ev.record) {
            let m = records.get(a);
            if (!m) records.set(a, (m = new Map()));
            const r = ev.record;
            const v = recordValue(r.new);
            // the dim why-fold.ts counts it at (recordDim): by its reason, a whole field's by either field
            const named = recordNamedDim(r);
            if (named) first(m, `${dimKey(named)}\u0000${v}`, ev.position);
            else for (const f of ['size', 'stride']) first(m, `${f}\u0000${v}`, ev.position);
          } else if (ev.shape || ev.entry) {
            let m = bodies.get(a);
            if (!m) bodies.set(a, (m = new Map()));
            first(m, ev.bodyId, ev.position);
          }
        },
        dict,
      );
      read = until;
    }
    return {
      body: (id) => bodies.get(acc)?.get(id) ?? Infinity,
      record: (v) => records.get(acc)?.get(`${dk}\u0000${v}`) ?? Infinity,
    };
  };
}

/**
 * Why Dynamo compiles no stride of this entry dynamic, or null where it may: `is_stride_dynamic`
 * is true only while every size is an int (builder.py's _automatic_dynamic then infers strides).
 */
function strideInferredBy(e: FrameStateSizeEntry): string | null {
  if (!Array.isArray(e.size)) return e.size === DYNAMIC ? 'its number of dims is dynamic' : null;
  const dims = e.size.flatMap((a, i) => (a === DYNAMIC ? [i] : []));
  if (dims.length === 0) return null;
  return dims.length === 1 ? `size dim ${dims[0]} is dynamic` : `size dims ${dims.join(', ')} are dynamic`;
}

/** A value as evidence prints it (`show`) that is a static value: not `?`, `unset` or `absent`. */
function isStaticText(v: string): boolean {
  return v !== '?' && v !== 'unset' && v !== 'absent';
}

/** The dim in words; a scalar by what it held (DimStory.scalarKind), a fully dynamic entry in PyTorch's render's words. */
export function dimLabel(d: DimRef, scalarKind: ScalarKind): string {
  if (d.field === 'scalar') return scalarKind === 'scalar or tensor' ? 'fully dynamic scalar or tensor' : scalarKind ? `the ${scalarKind} itself` : 'the scalar itself';
  if (d.index === undefined) return d.field === 'size' ? 'the number of dims (size)' : 'the number of dims (stride)';
  return d.field === 'size' ? `dim ${d.index}` : `stride dim ${d.index}`;
}

/**
 * A whole size or stride (the number of dims' story) said static: "static [8, 4]"; one whose
 * entries are already dynamic in part says what was static, its number of dims, and which
 * entries were not ("static at 1 dim ([?]: dim 0 already dynamic)"), as "static [?]" read as a
 * contradiction. `at` is the word before a value ("static at 3" where no position follows).
 */
export function staticWords(d: DimStory['dim'], value: string, at: string): string {
  if (d.field === 'scalar' || d.index !== undefined || !/^\[.*\]$/.test(value) || !value.includes('?')) return `static ${at}${value}`;
  const entries = value === '[]' ? [] : value.slice(1, -1).split(', ');
  const dynamic = entries.flatMap((x, i) => (x === '?' ? [dimLabel({ ...d, index: i }, null)] : []));
  return `static at ${counted(entries.length, 'dim')} (${value}: ${dynamic.join(', ')} already dynamic)`;
}

/**
 * A dim a merge made dynamic though the profile it names had it static: the two values joined,
 * each with the profile it came from ("8 from fixture2:0: and 9 from fixture2:1:"); null when
 * the profile it came from had it dynamic already.
 */
export function mergeJoined(s: DimStory): string | null {
  if (!s.via || s.via.story.dynamic) return null;
  const o = s.staticBefore?.origin;
  const first = o?.startsWith('profile ') ? ` from ${o.slice('profile '.length)}` : o ? ` (${o})` : '';
  return `${s.staticBefore?.value ?? '?'}${first} and ${s.via.story.current} from ${s.via.cacheKey}`;
}

function what(s: DimStory): string {
  const d = s.dim;
  if (d.field === 'scalar') return s.source;
  if (d.index === undefined) return `the number of dims of ${s.source}`;
  return `${d.field === 'size' ? 'dim' : 'stride dim'} ${d.index} of ${s.source}`;
}

/**
 * Whether the observation at which a size dim turned dynamic marked it (`mark_dynamic`): a
 * mark's join logs nothing, so no record tells it, and the fold's state keeps no body; the
 * event's own body, read once here for such a dim only, does.
 */
function markedAt(ledger: Ledger, dict: Dictionaries, s: DimStory): boolean {
  const b = s.becameDynamic;
  if (!b || b.kind !== 'shape.observed' || s.logged || s.dim.field !== 'size' || s.dim.index === undefined) return false;
  const row = ledger.sql.get<{ body_id: number }>('select body_id from events where position = ?', b.position);
  const body = row ? dict.body(Number(row.body_id)) : null;
  if (body?.shape?.kind !== 'tensor' || !body.shape.markDynamic?.includes(s.dim.index)) return false;
  // an observation joined in (not overwriting) that brought a new value made the dim dynamic
  // itself, with its record, before its mark's join
  return !body.automaticDynamic || b.brought === b.before || b.before === 'absent' || b.before === 'unset';
}

/** The commands that make a new merge target; a live one's also end the old one's live merge (else it goes on joining). */
function newTarget(live: string | null): string {
  return live === null ? 'pgo-ledger merge --from ... --into NEW' : `pgo-ledger merge --live --from ... --into NEW, and pgo-ledger merge --into ${shellQuoted(live)} --stop-live`;
}

/** The dim in the window's fold with runs left out too, as evidence prints it (`?` dynamic); `absent` where its source or dim is not there at all. */
type Without = string;

/** The runs retracted after an answer's window, each by its (first) `run.retracted` event. */
type RetractedLater = Map<string, { position: number; time: number }>;

/** A run retracted after the window, said as diff's note says one retracted between its points. */
function retractedLaterText(run: string, later: RetractedLater): string {
  const r = later.get(run)!;
  return `run ${run} was retracted later, at #${r.position} (${new Date(r.time).toISOString()})`;
}

/**
 * `bothKinds`: events brought the source as a tensor and as an int (make_tensor's and make_scalar's
 * entries; a trace's describe_tensor of it counts as a tensor).
 * `marked`: the observation it turned dynamic at marked it (markedAt).
 * `later`: runs retracted after the window; `carriers`: the runs that warm-started from what a
 * run brought (warm-starts.ts).
 */
function advise(s: DimStory, bothKinds: boolean, marked: boolean, a: AdviceContext): string {
  const { live, later, carriers, kinds, without, inWindow } = a;
  const retractCmd = (run: string) => `pgo-ledger retract --run ${run}${a.jobFlag(run).flag}`;
  // what those retractions take from the job's other profiles too (retract has no --rank or --tag: trial s35b)
  const alsoFrom = (runs: readonly string[]) => {
    const also = [...new Set(runs.filter((r) => !later.has(r)).flatMap((r) => a.jobFlag(r).also))];
    return also.length ? ` (retract has no --rank or --tag: it takes ${runs.length > 1 ? 'them' : 'it'} from ${inWords(also)} too)` : '';
  };
  // How to leave a run out: retract it, or, where the ledger retracted it after the window, when it did.
  const leaveOut = (run: string, does: string) => (later.has(run) ? `${retractedLaterText(run, later)}: answers whose window holds #${later.get(run)!.position} leave it out` : `${retractCmd(run)} ${does}${alsoFrom([run])}`);
  const retracting = (runs: readonly string[]) => `retracting ${runsWord(runs)} (${runs.map(retractCmd).join('; ')})`;
  // That leaving `runs` out keeps the dim static at `value` (the fold's word), each run retracted
  // after the window said as such, not advised again (trial s35a F3, F4)
  const claim = (runs: readonly string[], value: string): string => {
    const gone = runs.filter((r) => later.has(r));
    const left = runs.filter((r) => !later.has(r));
    const them = gone.length > 1 ? 'them' : 'it';
    const at = `${staticWords(s.dim, value, 'at ')}${inWindow}`;
    if (!left.length) return `${gone.map((r) => retractedLaterText(r, later)).join('; ')}: without ${them}, ${what(s)} stays ${at} (answers whose window holds ${gone.length > 1 ? 'those positions' : `#${later.get(gone[0])!.position}`} leave ${them} out)`;
    const too = gone.length ? `, ${runsWord(gone)} left out too: ${gone.map((r) => retractedLaterText(r, later)).join('; ')}` : '';
    return `${retracting(left)} would keep ${what(s)} ${at}${too}${alsoFrom(left)}`;
  };
  // What retracting a run does to the dim, by the window's fold without it, and without the
  // runs that warm-started from a profile it wrote where they carry it: never inferred from
  // times alone (trial s35a F1: a pickle named as holding the run's value held another; F2)
  const outcome = (run: string, does: string): string => {
    const kept = without([run]);
    if (isStaticText(kept)) return claim([run], kept);
    // the run brought every event of the source (or of the dim): retracting it takes them out
    if (kept !== '?') return leaveOut(run, does);
    const warm = carriers(run).runs.filter((r) => r !== run);
    if (warm.length) {
      const both = [run, ...warm];
      const kept2 = without(both);
      const carriedBy = `${leaveOut(run, does)}, but ${runsWord(warm)} warm-started from a profile that held what run ${run} brought (get_*_code_state), and PyTorch writes what it loaded into each profile it writes`;
      if (isStaticText(kept2)) return `${carriedBy}: ${claim(both, kept2)}`;
      // those runs brought every event of the source (or of the dim): no other events keep it (trial s35b)
      if (kept2 !== '?') {
        const left = both.filter((r) => !later.has(r));
        return `${carriedBy}: ${left.length ? retracting(left) : `without ${runsWord(both)}`} leaves no event of ${s.dim.field === 'size' && s.dim.index !== undefined ? what(s) : s.source}${inWindow}`;
      }
    }
    // snapshots with no run, written later than the run, that hold this dim dynamic (their own
    // entry of the source, not their time alone: trial s35a F1)
    const files = snapshotFiles(carriers(run).snapshots.filter((x) => a.snapshotHolds(x.importId) === '?'));
    const many = files.length > 1;
    const why = files.length
      ? `${inWords(files)}, ingested with no run and written later than run ${run} (by ${many ? "their files' times" : "its file's time"}: a copy that did not keep it tells otherwise), ${many ? 'hold' : 'holds'} it dynamic: no run names ${many ? 'them' : 'it'}, so no retraction leaves ${many ? 'them' : 'it'} out`
      : 'events of other runs, or with no run, keep it so';
    return `${leaveOut(run, does)}, but ${what(s)} stays dynamic without it${warm.length ? ` and ${runsWord(warm)}, which warm-started from it` : ''}${inWindow}: ${why}`;
  };
  if (!s.dynamic) {
    const runs = namedRunCount(s.values);
    return `static: ${s.values.length <= 1 ? 'every event agreed' : `${s.values.length} values seen`}${runs ? ` across ${counted(runs, 'run')}` : ''}`;
  }
  const b = s.becameDynamic;
  // A merge of a tensor's entry and a scalar's is dynamic in every field, the scalar (the
  // tensor's is auto_dynamic) and the whole size and stride (the scalar's are), whatever values
  // each profile had: said as the flip within one profile is, naming the profiles (a profile
  // that had it dynamic itself tells its own story, below)
  if (kinds && !s.via?.story.dynamic && (s.dim.field === 'scalar' || s.dim.index === undefined)) {
    const k = kinds();
    if (k.tensor.length && k.scalar.length) return mergedKindsAdvice(s, k, live);
  }
  if (s.via) {
    // A merge is a snapshot of its sources: retracting a run there leaves the merged profile as it was,
    // and a merge into it again joins, never takes back; only a new target leaves the run out.
    const run = s.via.story.becameDynamic?.run;
    if (run && s.via.retractedSince.includes(run)) return `run ${run} was retracted from ${s.via.cacheKey} after the merge, but the merged profile keeps what it joined: merge into a new target (${newTarget(live)}) to leave it out, as a merge into the same target joins again and never takes back`;
    if (!s.via.story.dynamic) {
      // each profile had it static: the merge's join of their two values made it dynamic
      return `the merge joined two static values (${mergeJoined(s)}): profiles that agree on it keep it static; to change it, change one of them (retract a run there) and merge into a new target (${newTarget(live)})`;
    }
    return `it came from ${s.via.cacheKey} in a merge: to change it, change ${s.via.cacheKey} (retract a run there) and merge into a new target (${newTarget(live)})`;
  }
  const markStatic = s.dim.field === 'size' && s.dim.index !== undefined ? `, or torch._dynamo.mark_static on dim ${s.dim.index}` : '';
  // a mark of the dim in the window keeps it dynamic whatever it is fed (trial s35a F8)
  const feedOne = (it: string) => (a.markedInWindow ? `feeding it one value and removing its mark (torch._dynamo.mark_dynamic, in ${a.markedInWindow}) keeps it static` : `feeding ${it}one value keeps it static`);
  if (s.logged) {
    // A record's `cached` is what PyTorch's profile held, which the run may have loaded from an
    // earlier run's file, never seeing it itself (trial s28a: "PyTorch saw 0.0 then 0.1 (run 2)" of a
    // run fed 0.1 alone); its `new` is what the run saw.
    // Retracting the run undoes its events; whether the dim is then static is the fold's to say
    // (trial s34b: other runs, a line with no run or a mark may keep it dynamic)
    const held = `PyTorch's profile held ${recordValue(s.logged.cached)}, then ${b?.run ? `run ${b.run}` : 'a compile'} saw ${recordValue(s.logged.new)}: ${feedOne('')}${markStatic}`;
    return b?.run ? `${held}; ${outcome(b.run, 'undoes that run')}` : held;
  }
  if (marked) {
    // other marks of the dim, and the values it took, keep it dynamic as well (trial s35b)
    const marks = a.markedInWindow ? `the marks (in ${a.markedInWindow})` : 'the mark';
    const fed = s.values.length >= 2 ? ` and feed it one value (it took ${listed(s.values.map((v) => v.value))})` : '';
    return `${what(s)} was marked dynamic (torch._dynamo.mark_dynamic) in #${b!.position}${b!.run ? ` (run ${b!.run})` : ''}: Dynamo makes a marked dim dynamic whatever values it sees, and logs no record for it; remove ${marks}${fed} to keep it static`;
  }
  // Values seen explain a change only where the event that made it dynamic joined a value:
  // one that brought it dynamic itself (a snapshot holding `?`: a mark, an import) is the
  // reason, whatever later runs fed (retracting them leaves it dynamic).
  if (s.values.length >= 2 && b?.brought !== '?') {
    // The value to keep: the most seen (first seen of a tie) that some sighting outside the runs
    // of the others brought, so that retracting those runs leaves it (trial s34b M3: 8 in r1 and
    // 16 in r1 and r2: retracting r1 keeps 16, which r2 brought too); a sighting with no run (null)
    // no retraction removes, so a value that had one is never among those others (trial s34a:
    // 8 in r1 and 16 with no run, once each, got no advice, where retracting r1 keeps 16).
    const byCount = [...s.values].sort((x, y) => y.count - x.count);
    let top = byCount[0];
    let onlyOthers: string[] = [];
    for (const v of byCount) {
      const others = byCount.filter((o) => o !== v);
      const otherRuns = new Set(others.flatMap((o) => o.runs));
      const runs = [...otherRuns].filter((r): r is string => r !== null);
      const survives = v.runs.some((r) => r === null || !otherRuns.has(r));
      // Where those runs fed the value too, it is advice only while they are fewer than the
      // runs that fed it: retracting most of the runs that brought a value to keep it is no
      // advice, and each set of runs asked costs a fold from the log's start (the bench's 1M
      // mix: 8 of 10 runs, 0.8 CPU-s more for why)
      const shared = v.runs.some((r) => r !== null && otherRuns.has(r));
      // and the fold without them says so (a mark or a snapshot holding `?` may keep it dynamic;
      // what else carries those runs is then the fold's to weigh, not a caveat's: trial s34b)
      if (runs.length && runs.length === otherRuns.size && others.every((o) => o.runs.length > 0) && survives && (!shared || runs.length < v.runs.length) && without(runs) === v.value) {
        top = v;
        onlyOthers = runs;
        break;
      }
    }
    if (onlyOthers.length) return claim(onlyOthers, top.value);
    return `${what(s)} took ${s.values.length} values (${listed(s.values.map((v) => v.value))}); only ${feedOne('it ')}${markStatic}`;
  }
  // An int's entry holds size and stride dynamic (make_scalar), a tensor's scalar (make_tensor):
  // a run that wrote such a field dynamic with no record while the source was the other kind
  // elsewhere did so by the kind, not by a mark (which names a size dim)
  if (bothKinds && !(s.dim.field === 'size' && s.dim.index !== undefined)) return bothKindsAdvice(s);
  if (b?.kind === 'entry.imported' && b.format?.startsWith('put_')) {
    // A trace's put_*_code_state is what the run itself wrote, not an import; a dim it holds
    // dynamic with no record logged is one Dynamo joined in silently: _automatic_dynamic's
    // `entry |= make_size(...)` for a dim marked dynamic logs nothing.
    // the mark alone kept no value out: where the runs fed others, they would make it dynamic too
    const fed = s.values.length >= 2 ? ` and feed it one value (it was fed ${s.values.map((v) => v.value).join(', ')})` : '';
    return `run ${b.run ?? '?'} wrote it dynamic in its own profile (${b.format}${b.compileId ? ` at compile ${b.compileId}` : ''}) with no record logged: Dynamo logs none for a dim marked dynamic (torch._dynamo.mark_dynamic), which it joins into the profile as it compiles; remove the mark${fed} to keep it static${b.run ? (later.has(b.run) ? '; ' : ', or ') + outcome(b.run, 'leaves that run out') : ''}`;
  }
  if (b?.kind === 'entry.imported') {
    return `it came dynamic in an imported profile (${b.format ?? 'snapshot'}${b.origin ? ` from ${b.origin}` : ''})${b.run ? `; ${outcome(b.run, 'leaves that import out')}` : ''}`;
  }
  // A tensor's entry holds scalar=auto_dynamic and an int's size=stride=auto_dynamic
  // (make_tensor, make_scalar): their join is dynamic everywhere, whatever the values.
  if (bothKinds) return bothKindsAdvice(s);
  return `${what(s)} was made dynamic by the job's own setting, not by differing events here`;
}

/**
 * What advice to retract runs promises holds in the answer's window, a point or runs left out
 * (the fold without them is the window's): said so where the window leaves out events of the
 * profile (trial s34b: advice under --exclude-run read as if one retraction alone kept the dim
 * static), naming only what leaves some out (trial s35a F6: a point past the profile's last
 * event, a run it has no events of or retracted already, read as a window that mattered).
 */
function inThisWindow(sql: Sql, dict: Dictionaries, profileId: number, w: Window): string {
  if (isWholeLog(w)) return '';
  const p = w.untilPosition;
  const t = w.untilTime;
  const cuts = (p !== undefined || t !== undefined) && !!sql.get('select 1 from events where profile_id = ? and (position > ? or time > ?) limit 1', profileId, p ?? Number.MAX_SAFE_INTEGER, t ?? Number.MAX_SAFE_INTEGER);
  // a run counts where the profile has events of it in the window's point, not retracted there
  const retracted = leftOutRuns(sql, profileId, { untilPosition: p, untilTime: t }, dict);
  const runs = (w.excludeRuns ?? []).filter((run) => {
    if (retracted.has(run)) return false;
    const first = sql.get<{ f: number | string }>('select pr.first_position f from profile_runs pr join runs r on r.id = pr.run_id where pr.profile_id = ? and r.run = ?', profileId, run);
    return first !== undefined && (p === undefined || Number(first.f) <= p);
  });
  const words = windowWords({ untilPosition: cuts ? p : undefined, untilTime: cuts ? t : undefined, excludeRuns: runs }).trim();
  return words ? ` in this window (${words})` : '';
}

/** The runs of the window's events that marked a size dim dynamic (mark_dynamic), in words; null where none did. */
function markedIn(acc: Acc, d: DimRef, dict: Dictionaries): string | null {
  if (d.field !== 'size' || d.index === undefined) return null;
  const runs = new Set<string>();
  for (const [bodyId, slot] of acc.carried) {
    const shape = dict.body(bodyId).shape;
    if (shape?.kind === 'tensor' && shape.markDynamic?.includes(d.index)) for (const r of slot.runs) runs.add(r);
  }
  if (!runs.size) return null;
  const named = [...runs].filter((r) => r !== NO_RUN);
  const words = named.length ? `the events of run${named.length > 1 ? 's' : ''} ${named.join(', ')}` : '';
  return runs.has(NO_RUN) ? (words ? `${words}, and events with no run` : 'events with no run') : words;
}

/** What a snapshot (an import) holds at a source's dim in a profile, read from its entry.imported event there. */
function snapshotHolds(sql: Sql, dict: Dictionaries, profileId: number, acc: Acc, d: DimRef, importId: number): string {
  const codeRow = dict.codeRow(acc.code);
  if (codeRow === undefined) return 'absent';
  const rows = sql.allRaw("select e.body_id from events e join sources s on s.id = e.source_id where e.profile_id = ? and e.kind = 'entry.imported' and e.run_id is null and e.code_id = ? and s.source = ?", profileId, codeRow, acc.source);
  for (const [bodyId] of rows) {
    const body = dict.body(Number(bodyId));
    if ((body.stored as { import_id?: number | null }).import_id === importId && body.entry) return show(valueAt(entryFromJson(body.entry), d));
  }
  return 'absent';
}

/** What advice asks beyond the dim's story (explainWith makes it, each part read when first asked). */
interface AdviceContext {
  /** The profile's key where it is a live merge's target. */
  live: string | null;
  later: RetractedLater;
  /** The runs that warm-started from a profile a run wrote (warm-starts.ts). */
  carriers: (run: string) => Carriers;
  kinds: (() => MergedKinds) | null;
  without: (runs: readonly string[]) => Without;
  /** inThisWindow's words. */
  inWindow: string;
  /** ` --job J` for `retract --run` of a run another job has too; the job's other profiles (ranks, tags) it takes the run from too. */
  jobFlag: (run: string) => { flag: string; also: string[] };
  /** Where events of the window marked the dim dynamic (`run r2`, `runs r1, r2`, `events with no run`), null where none did. */
  markedInWindow: string | null;
  /** What a snapshot (its import) holds at the dim, as evidence prints it (`absent`: it has no entry of the source). */
  snapshotHolds: (importId: number) => string;
}

function bothKindsAdvice(s: DimStory): string {
  // the field was dynamic from the first entry of the other kind, not from the change of kind
  // (trial s28a: an int's put "made the number of dims dynamic", before any tensor came)
  const holds = s.dim.field === 'scalar' ? "a tensor's entry holds its scalar dynamic (PyTorch's make_tensor)" : "an int's entry holds its size and stride dynamic (PyTorch's make_scalar)";
  return `${s.source} was a tensor in some events and an int in others: ${holds}, so the join of the two kinds is dynamic in every field; passing it as one kind keeps ${what(s)} static`;
}

/** bothKindsAdvice for a source that was one kind in some profiles merged and the other in others (merged-kinds.ts). */
function mergedKindsAdvice(s: DimStory, k: MergedKinds, live: string | null): string {
  const scalars = [...new Set(k.scalar.map((x) => x.kind))].map((kind) => `${kind} in ${inWords(k.scalar.filter((x) => x.kind === kind).map((x) => x.cacheKey))}`);
  return `${s.source} was a tensor in ${inWords(k.tensor)} and ${inWords(scalars)} (profiles merged into this one), and PyTorch's join of the two is dynamic in every field: passing it as one kind in each of them keeps ${what(s)} static; then merge into a new target (${newTarget(live)}), as a merge into the same target joins again and never takes back`;
}

/** "a", "a and b", "a, b and c". */
function inWords(xs: string[]): string {
  return xs.length < 2 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}
