import { DYNAMIC, InferStride, type Atom } from '../model/atoms.ts';
import { codeIdLabel, codeKey } from '../model/code-id.ts';
import { numberRepr } from '../model/float.ts';
import { guardFailures } from '../model/guard-failures.ts';
import { dynamicSources, renderEntry } from '../model/render.ts';
import { layoutOf } from '../model/profile.ts';
import { shellQuoted, switchAdvice, type SourceFacts, type SwitchAdvice } from '../model/switches.ts';
import type { HistoryRow, Ledger, ProfileRow } from '../store/ledger.ts';
import { historyAsOf } from '../store/history.ts';
import { dimKey, explain, type DimStory } from '../store/why.ts';
import { recordValue } from '../store/why-fold.ts';
import { describedShapes } from '../store/described-shapes.ts';
import { logCountSizes, windowEvents } from '../store/log-counts.ts';
import { sourceSightings } from '../store/source-sightings.ts';
import { dictionaries } from '../store/log.ts';
import type { Window } from '../store/window.ts';
import { recompileStats } from '../store/stats.ts';

/** What the HTML report shows of one profile; built from the views (and a count over the log). */
export interface ReportProfile {
  cacheKey: string;
  /** The events the window folds (every figure here is of them, as of a ledger holding only them), and the latest time of them. */
  events: number;
  lastTime: string | null;
  dynamicSources: string[];
  /** Sources seen many times that never changed: candidates to mark static. */
  keepStatic: { code: string; source: string; observations: number; runs: number }[];
  /** Advice in the newer switches (static, per-dim, unbacked), each with the versions that read it. */
  switches?: (SwitchAdvice & { quoted: string })[];
  codes: ReportCode[];
  runs: string[];
  /** Issue 12.7: the changes of each run (runs in the order of their first change), each in position order. */
  runTimeline?: { run: string | null; changes: (Change & { code: string; source: string })[] }[];
}

/** Issue 12.7: a job on the report's index, with its recompile-storm figures (from `stats`). */
export interface ReportJob {
  job: string;
  /** Its profiles' cache keys (each a page of the report). */
  profiles: string[];
  records: number;
  /** Windows (per profile, run and time window) with records. */
  windows: number;
  windowLength: string;
  /** The window with the most records. */
  busiest: { cacheKey: string; run: string | null; start: string; records: number } | null;
  /** Each dim that turned dynamic, with the values seen there, rarest first. */
  dims: { cacheKey: string; code: string; source: string; dim: string; values: { value: string; count: number }[]; observations: number; via: string | null }[];
}

export interface ReportCode {
  code: string;
  sources: ReportSource[];
}

export interface ReportSource {
  source: string;
  /** The entry as PyTorch's render_code_state prints it. */
  rendered: string;
  kind: 'tensor' | 'scalar' | 'other';
  /** One cell per size dim (or the scalar): its static value, or '?' and when it turned dynamic. */
  dims: { label: string; value: string; since: Change | null }[];
  strides: string[];
  observations: number;
  timeline: Change[];
  /** The shapes each compile saw of this source (a trace's describe_tensor), in log order. */
  saw: { compileId: string | null; size: (number | string | null)[]; run: string | null }[];
}

export interface Change {
  position: number;
  time: string;
  run: string | null;
  compileId: string | null;
  dim: string;
  reason: string;
  cached: string;
  new: string;
  /** The compile's guard failures as one line (guardFailures): each cache entry's reason. */
  guard: string | null;
  origin: string | null;
  /** A change a merge brought: where it came in the profile it was joined from, as `why` tells it. */
  via?: Via;
}

/**
 * Where a merged dim came from in the profile a merge joined it from (why's DimStory.via): the
 * event there (where it turned dynamic, else its first evidence), and whether that event's
 * run was retracted there since (the merge keeps what it joined); `via` again where that
 * profile is itself a merge.
 */
export interface Via {
  cacheKey: string;
  position: number;
  time: string;
  run: string | null;
  compileId: string | null;
  reason: string;
  origin: string | null;
  retractedSince: boolean;
  via: Via | null;
}

const MANY = 3;

function atomText(a: Atom): string {
  if (a === DYNAMIC) return '?';
  if (a instanceof InferStride) return `S(${a.dim})`;
  return typeof a === 'symbol' ? 'unset' : numberRepr(a);
}

function change(h: HistoryRow): Change {
  return {
    position: h.position,
    time: new Date(h.time).toISOString(),
    run: h.run,
    compileId: h.compileId,
    dim: String(h.dim_changed),
    reason: h.reason,
    // as the CLI's history says them (json.ts): `?`, not Python's `AutoDynamic.token`
    cached: recordValue(h.cached),
    new: recordValue(h.new),
    guard: h.guard === null ? null : guardFailures(h.guard),
    origin: h.origin === null ? null : h.originLine === null ? h.origin : `${h.origin}:${h.originLine}`,
  };
}

type Evidence = NonNullable<DimStory['first']>;

const isMerge = (e: Evidence) => e.kind === 'entry.imported' && e.format === 'merge';
const originText = (e: Evidence) => (e.origin === null ? null : e.originLine === null ? e.origin : `${e.origin}:${e.originLine}`);
const changeReason = (st: DimStory, e: Evidence) => st.logged?.reason ?? (e.kind === 'entry.imported' ? `imported ${e.format ?? 'snapshot'}` : 'observation');

function viaOf(st: DimStory): Via | null {
  if (!st.via) return null;
  const inner = st.via.story;
  // static there (the join of two ranks' values made it dynamic): its first evidence
  const e = inner.becameDynamic ?? inner.first;
  if (!e) return null;
  return {
    cacheKey: st.via.cacheKey,
    position: e.position,
    time: new Date(e.time).toISOString(),
    run: e.run,
    compileId: e.compileId,
    reason: changeReason(inner, e),
    origin: originText(e),
    retractedSince: e.run !== null && st.via.retractedSince.includes(e.run),
    via: viaOf(inner),
  };
}

export function reportProfile(ledger: Ledger, p: ProfileRow, window: Window = {}): ReportProfile {
  const view = ledger.fold(p.id, window).profile;
  const history = historyAsOf(ledger, p.id, window);
  const byKey = new Map<string, Change[]>();
  for (const h of history) {
    const k = `${codeKey(h.code)}\u0000${h.name}`;
    let l = byKey.get(k);
    if (!l) byKey.set(k, (l = []));
    l.push(change(h));
  }
  const saw = new Map<string, ReportSource['saw']>();
  for (const d of describedShapes(ledger, p.id, window)) {
    const k = `${codeKey(d.code)}\u0000${d.source}`;
    let l = saw.get(k);
    if (!l) saw.set(k, (l = []));
    l.push({ compileId: d.compileId, size: d.size, run: d.run });
  }
  // observations per code and source, straight from the log (the window's events)
  const counts = new Map<string, { n: number; runs: number }>();
  // Grouped by the integer ids first (a million events group in a fraction of the time the
  // joined text columns take), then named through the dictionaries.
  const names = new Map<number, { file_hash: string; firstlineno: number; name: string; closure_hash: string }>();
  const sources = new Map<number, string>();
  // The window's events (those the answer folds), from the newest why-checkpoint's counts
  // within it plus its events since (log-counts.ts).
  const dict = dictionaries(ledger.sql);
  const logCounts = logCountSizes(ledger.sql, dict, p.id, window);
  for (const r of logCounts.sources.map((s) => ({ code_id: s.codeId, source_id: s.sourceId, n: s.n, runs: s.runs }))) {
    let c = names.get(r.code_id);
    if (!c) names.set(r.code_id, (c = ledger.sql.get<{ file_hash: string; firstlineno: number; name: string; closure_hash: string }>('select file_hash, firstlineno, name, closure_hash from codes where id = ?', r.code_id)!));
    let source = sources.get(r.source_id);
    if (source === undefined) sources.set(r.source_id, (source = ledger.sql.get<{ source: string }>('select source from sources where id = ?', r.source_id)!.source));
    // closures of one function are counted apart ('' and 'None' are one identity)
    const closure = c.closure_hash === 'None' ? '' : c.closure_hash;
    const k = `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}\u0000${closure}\u0000${source}`;
    const had = counts.get(k);
    counts.set(k, had ? { n: had.n + r.n, runs: Math.max(had.runs, r.runs) } : { n: r.n, runs: r.runs });
  }
  // A profile traces gave events to: what each compile saw, once, as why counts (a warm start's
  // loaded profile is no sighting: it counted one more per run, trial s25b); else the counts above
  const sightings = sourceSightings(ledger.sql, dict, p.id, window);
  // Where each dynamic dim turned dynamic: why's answer, the one history, diff and show --as-of
  // agree on (a first record is wrong after an overwrite, and a snapshot brings no record).
  const became = new Map<string, Change>();
  let stories = explain(ledger, p.id, { window, becameOnly: true });
  // A dim a merge brought: why's whole story, which follows it into the profile it came from
  // (only then: it folds that profile too).
  if (stories.some((st) => st.becameDynamic && isMerge(st.becameDynamic))) stories = explain(ledger, p.id, { window });
  for (const st of stories) {
    const b = st.becameDynamic;
    if (!b) continue;
    const c: Change = {
      position: b.position,
      time: new Date(b.time).toISOString(),
      run: b.run,
      compileId: b.compileId,
      dim: dimKey(st.dim),
      reason: changeReason(st, b),
      cached: st.logged ? recordValue(st.logged.cached) : b.before,
      new: st.logged ? recordValue(st.logged.new) : (b.brought ?? '?'),
      guard: st.logged?.guard ? guardFailures(st.logged.guard) : null,
      origin: originText(b),
    };
    const via = viaOf(st);
    if (via) c.via = via;
    became.set(`${codeKey(st.code)}\u0000${st.source}\u0000${dimKey(st.dim)}`, c);
  }
  // a record of the merge's own (PyTorch's rule, joining it) names the same change
  for (const [k, list] of byKey) {
    for (const c of list) {
      const dim = c.reason === 'scalar change' ? 'scalar' : c.reason === 'size change' ? `size[${c.dim}]` : c.reason === 'stride change' ? `stride[${c.dim}]` : null;
      const b = dim === null ? undefined : became.get(`${k}\u0000${dim}`);
      if (b?.via && b.position === c.position) c.via = b.via;
    }
  }
  const codes: ReportCode[] = [];
  const keepStatic: ReportProfile['keepStatic'] = [];
  // asked once (layoutOf may look through every code id)
  const layout = layoutOf(view);
  for (const [key, { id, state }] of view.codes) {
    const sources: ReportSource[] = [];
    for (const [source, e] of state.automaticDynamic) {
      const timeline = byKey.get(`${key}\u0000${source}`) ?? [];
      const since = (...dims: string[]) => dims.map((d) => became.get(`${key}\u0000${source}\u0000${d}`)).find((c) => c) ?? null;
      const dims: ReportSource['dims'] = [];
      let kind: ReportSource['kind'] = 'other';
      if (Array.isArray(e.size) && e.scalar === DYNAMIC) {
        kind = 'tensor';
        e.size.forEach((a, i) => dims.push({ label: `size[${i}]`, value: atomText(a), since: a === DYNAMIC ? since(`size[${i}]`) : null }));
      } else if (e.size === DYNAMIC && e.stride === DYNAMIC) {
        kind = 'scalar';
        // a fully dynamic entry: the int turned dynamic, or a tensor's rank changed
        dims.push({ label: 'value', value: e.scalar === DYNAMIC ? '?' : atomText(e.scalar), since: e.scalar === DYNAMIC ? since('scalar', 'size', 'stride') : null });
      }
      const c = (sightings ? sightings.get(`${key}\u0000${source}`) : counts.get(`${id.file_hash}\u0000${id.firstlineno}\u0000${id.name}\u0000${id.closure_hash == null ? '' : String(id.closure_hash)}\u0000${source}`)) ?? { n: 0, runs: 0 };
      sources.push({
        source,
        rendered: renderEntry(e, layout),
        kind,
        dims,
        strides: Array.isArray(e.stride) ? e.stride.map(atomText) : [],
        observations: c.n,
        timeline,
        saw: saw.get(`${key}\u0000${source}`) ?? [],
      });
      if (timeline.length === 0 && c.n >= MANY && !dims.some((d) => d.value === '?')) keepStatic.push({ code: codeIdLabel(id), source, observations: c.n, runs: c.runs });
    }
    codes.push({ code: codeIdLabel(id), sources });
  }
  const runs = [...new Set(history.map((h) => h.run).filter((r): r is string => r !== null))];
  // every run of the profile the window folds, in SQLite's order (the bytes of their UTF-8)
  const named = [...logCounts.runs].map((id) => ledger.sql.get<{ run: string }>('select run from runs where id = ?', id)!.run);
  for (const run of named.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    if (!runs.includes(run)) runs.push(run);
  }
  // facts for the newer switches: sources static over several runs; dims that took 0 or 1 while changing
  const facts = new Map<string, SourceFacts>();
  const fact = (s: string) => facts.get(s) ?? (facts.set(s, { source: s }), facts.get(s)!);
  for (const k of keepStatic) if (k.runs >= 2) fact(k.source).staticAcrossRuns = true;
  for (const h of history) {
    const zeroOne = ['0', '1'].includes(h.cached) || ['0', '1'].includes(h.new);
    if (!zeroOne) continue;
    const d = h.reason === 'size change' ? (h.dim_changed as number) : h.reason === 'scalar change' ? 'scalar' : null;
    if (d === null) continue;
    const f = fact(h.name);
    if (!(f.zeroOneDims ??= []).includes(d)) f.zeroOneDims.push(d);
  }
  const runTimeline = new Map<string | null, NonNullable<ReportProfile['runTimeline']>[number]>();
  for (const h of history) {
    let r = runTimeline.get(h.run);
    if (!r) runTimeline.set(h.run, (r = { run: h.run, changes: [] }));
    r.changes.push({ ...change(h), code: codeIdLabel(h.code), source: h.name });
  }
  const folded = windowEvents(ledger.sql, dict, p.id, window, { events: p.eventCount, lastTime: p.lastTime });
  return {
    cacheKey: p.cacheKey,
    runTimeline: [...runTimeline.values()],
    switches: switchAdvice(view, [...facts.values()]).map((a) => ({ ...a, quoted: shellQuoted(a.value) })),
    events: folded.events,
    lastTime: folded.lastTime === null ? null : new Date(folded.lastTime).toISOString(),
    dynamicSources: dynamicSources(view),
    keepStatic,
    codes,
    runs,
  };
}

/**
 * Issue 12.7: the report's index: each job of the given profiles with its storm figures, from
 * the library's `stats` answer (records per profile, run and time window).
 */
export function reportJobs(ledger: Ledger, profiles: ProfileRow[], window: Window = {}, windowMs = 3_600_000, windowLength = '1h'): ReportJob[] {
  const jobs = new Map<string, ReportJob>();
  for (const p of profiles) {
    let j = jobs.get(p.key.job);
    if (!j) jobs.set(p.key.job, (j = { job: p.key.job, profiles: [], records: 0, windows: 0, windowLength, busiest: null, dims: [] }));
    j.profiles.push(p.cacheKey);
  }
  const wanted = new Set(profiles.map((p) => p.cacheKey));
  for (const j of jobs.values()) {
    const seen = new Set<string>();
    for (const w of recompileStats(ledger, { job: j.job, windowMs, window })) {
      if (!wanted.has(w.cacheKey)) continue;
      j.records += w.records.length;
      j.windows++;
      if (!j.busiest || w.records.length > j.busiest.records) j.busiest = { cacheKey: w.cacheKey, run: w.run, start: new Date(w.start).toISOString(), records: w.records.length };
      for (const d of w.dims) {
        const k = `${w.cacheKey}\u0000${codeKey(d.code)}\u0000${d.source}\u0000${d.dim}`;
        if (seen.has(k)) continue;
        seen.add(k);
        j.dims.push({ cacheKey: w.cacheKey, code: codeIdLabel(d.code), source: d.source, dim: d.dim, values: d.values.slice(0, 5), observations: d.observations, via: d.via });
      }
    }
  }
  // the stormiest jobs first
  return [...jobs.values()].sort((a, b) => (b.busiest?.records ?? 0) - (a.busiest?.records ?? 0) || b.records - a.records || a.job.localeCompare(b.job));
}
