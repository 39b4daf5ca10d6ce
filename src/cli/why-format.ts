import { isAbsolute, relative } from 'node:path';
import { codeIdLabel } from '../model/code-id.ts';
import { guardFailures } from '../model/guard-failures.ts';
import { sawSentence } from '../store/described-shapes.ts';
import { dimLabel, mergeJoined, staticWords, type DimStory, type Evidence } from '../store/why.ts';
import { codeJson, historyJson, isoTime, originJson } from './json.ts';
import type { LoggedRecord } from '../store/logged-records.ts';
import { counted } from '../counted.ts';
import { runsOfValues } from '../model/switches.ts';
import { recordValue } from '../store/why-fold.ts';
import { coldPut } from '../store/cold-put.ts';
import { LISTED, listed } from '../store/known.ts';

// a record's `brought` is PyTorch's text of the new value (`(1, InferStride(dim=2))`): said as
// show says it, as the record itself is (recordValue leaves show's words as they are)
function evidenceJson(e: Evidence | null) {
  return e && { position: e.position, time: isoTime(e.time), run: e.run, compile_id: e.compileId, kind: e.kind, format: e.format, origin: originJson(e.origin, e.originLine), value: e.value, brought: e.brought === null ? null : recordValue(e.brought) };
}

/** A story as JSON; `records`: its logged records whole (loggedRecords), given as `history --json` gives them. */
export function storyJson(s: DimStory, records: ReadonlyMap<number, LoggedRecord>): unknown {
  return {
    code: codeJson(s.code),
    source: s.source,
    // index null for a scalar too: one shape of `dim` (README, JSON: one vocabulary)
    dim: { field: s.dim.field, index: s.dim.field === 'scalar' ? null : (s.dim.index ?? null) },
    scalar_kind: s.dim.field === 'scalar' ? (s.scalarKind ?? 'scalar') : null,
    dynamic: s.dynamic,
    current: s.current,
    first: evidenceJson(s.first),
    static_before: evidenceJson(s.staticBefore),
    // cold_put: joined from a run that had not loaded the profile (store/cold-put.ts), which PyTorch's own file does not join
    became_dynamic: s.becameDynamic && { ...evidenceJson(s.becameDynamic), before: s.becameDynamic.before, cold_put: coldPut(s.becameDynamic, s.logged) },
    static_since: evidenceJson(s.staticSince),
    static_again: s.staticAgain && { ...evidenceJson(s.staticAgain.at), dynamic_in: { ...evidenceJson(s.staticAgain.dynamicIn), before: s.staticAgain.dynamicIn.before, cold_put: s.staticAgain.dynamicInColdPut } },
    logged: s.logged && historyJson(records.get(s.logged.position)!),
    via: s.via && { cache_key: s.via.cacheKey, story: storyJson(s.via.story, records), retracted_since: s.via.retractedSince },
    saw: s.saw.map((x) => ({ position: x.position, compile_id: x.compileId, run: x.run, size: x.size })),
    values: s.values,
    advice: s.advice,
  };
}

/** A file under the working folder as a relative path (the JSON keeps it whole). */
function short(origin: string): string {
  let s = shortened.get(origin);
  if (s === undefined) {
    const r = isAbsolute(origin) ? relative(process.cwd(), origin) : '';
    shortened.set(origin, (s = isAbsolute(origin) && r && !r.startsWith('..') ? r : origin));
  }
  return s;
}
/** Each origin shortened once (an answer names a few origins many times). */
const shortened = new Map<string, string>();

/** `#12 (compile 1/0, put_local_code_state, run r, 2026-…, from file:904)` */
function where(e: Evidence): string {
  const bits = [
    e.compileId ? `compile ${e.compileId}` : null,
    e.kind === 'entry.imported' ? `imported ${e.format ?? 'snapshot'}` : e.kind === 'dynamic.logged' ? "PyTorch's record" : 'observation',
    e.run ? `run ${e.run}` : null,
    isoTime(e.time),
    e.origin ? `from ${short(e.origin)}${e.originLine !== null ? `:${e.originLine}` : ''}` : null,
  ].filter(Boolean);
  return `#${e.position} (${bits.join(', ')})`;
}

/**
 * The runs that fed a value, in words between `open` and `close`: `runs r1, r2`, and `and some
 * with no run` where sightings without a run came too (null); nothing where no run fed it, or
 * `no run` where `others` (the dim's other values) name runs: beside them, a value with no
 * words read as one whose runs went unsaid (trial s35b F9).
 */
function runsWords(runs: readonly (string | null)[], open: string, close: string, others = false): string {
  const named = runs.filter((r): r is string => r !== null);
  if (!named.length) return others && runs.length ? `${open}no run${close}` : '';
  return `${open}runs ${listed(named)}${named.length < runs.length ? ', and some with no run' : ''}${close}`;
}

function storyLines(s: DimStory, indent: string): string[] {
  const lines: string[] = [];
  const label = dimLabel(s.dim, s.scalarKind);
  if (!s.dynamic) {
    const seen = s.values.reduce((n, v) => n + v.count, 0);
    const runs = runsOfValues(s.values);
    // the count is of every value the dim was seen at, not of the one it holds (trial s28c: "static at 32, seen 5 times" of a 32 seen once)
    lines.push(`${indent}${label}: ${staticWords(s.dim, s.current, 'at ')}, its values seen ${counted(seen, 'time')}${runsWords(runs, ' (', ')')}${s.first ? `; first in ${where(s.first)}` : ''}`);
    // another value this one took the place of: only an overwrite does that, never a join
    if (s.staticSince) lines.push(`${indent}  ${s.current} since ${where(s.staticSince)}, an overwrite (${s.first!.value === s.current ? 'it held another value in between' : `it held ${s.first!.value} first`}; PyTorch overwrites an entry instead of joining under automatic_dynamic_shapes off: torch.compile(dynamic=False), or a line's "automatic_dynamic": false)`);
    // a dynamic dim a value took the place of: only an overwrite does that, never a join
    if (s.staticAgain) {
      const d = s.staticAgain.dynamicIn;
      lines.push(`${indent}  static again: ${s.current} since ${where(s.staticAgain.at)}, an overwrite (PyTorch overwrites an entry instead of joining under automatic_dynamic_shapes off: torch.compile(dynamic=False), or a line's "automatic_dynamic": false); dynamic before in ${where(d)}${s.staticAgain.dynamicInColdPut ? `, by joining a put of run ${d.run ?? '-'}, which had not loaded the profile (it started cold, or from another copy): PyTorch's own profile kept ${d.brought} there` : ''}`);
    }
    const keep = s.advice.split('; ').find((x) => x.startsWith('TORCH_COMPILE_STATIC_SOURCES'));
    if (keep) lines.push(`${indent}  ${keep}`);
    return lines;
  }
  const b = s.becameDynamic;
  if (!b) {
    lines.push(`${indent}${label}: dynamic${s.first ? ` from its earliest evidence, ${where(s.first)}` : ''}`);
  } else if (!s.staticBefore && (b.before === 'absent' || b.before === 'unset')) {
    lines.push(`${indent}${label}: dynamic in ${where(b)}, its earliest evidence`);
  } else {
    const from = s.staticBefore ? `${staticWords(s.dim, s.staticBefore.value, '')} in ${where(s.staticBefore)}, ` : `it was ${b.before}, `;
    lines.push(`${indent}${label}: ${from}dynamic in ${where(b)}`);
  }
  if (s.logged) {
    lines.push(`${indent}  PyTorch logged at compile ${s.logged.compileId ?? '?'}: ${s.logged.reason} ${recordValue(s.logged.cached)} -> ${recordValue(s.logged.new)}`);
    // one reason per cache entry whose guards failed, whichever dim it names
    if (s.logged.guard) lines.push(`${indent}  compile ${s.logged.compileId ?? '?'} recompiled after: ${guardFailures(s.logged.guard)}`);
  } else if (b && b.kind === 'shape.observed') {
    lines.push(`${indent}  that observation had ${b.brought ?? '?'}`);
  } else if (coldPut(b, s.logged)) {
    lines.push(`${indent}  that put held ${b.brought}: run ${b.run ?? '-'} had not loaded the profile that held ${s.staticBefore?.value ?? b.before} (it started cold, or from another copy), so PyTorch logged no change and its own profile after that run keeps ${b.brought}; the ledger joins every run's puts, as a run warm-started from the first would have`);
  }
  if (s.via) {
    // static in that profile too: the join of two static values made it dynamic, not that profile
    const joined = mergeJoined(s);
    lines.push(joined ? `${indent}  the merge joined ${joined}, where:` : `${indent}  it came from ${s.via.cacheKey}, where:`);
    lines.push(...storyLines(s.via.story, `${indent}    `));
  }
  // at most LISTED values, each with at most LISTED runs (trial s32: 97 values on one line of 3 KB); --json has them all
  const more = s.values.length - LISTED;
  const named = s.values.some((v) => v.runs.some((r) => r !== null));
  if (s.values.length) lines.push(`${indent}  values seen: ${s.values.slice(0, LISTED).map((v) => `${v.value} (${v.count}x${runsWords(v.runs, ', ', '', named)})`).join('; ')}${more > 0 ? `; and ${more} more (--json lists them)` : ''}`);
  lines.push(`${indent}  ${s.advice}`);
  return lines;
}

/**
 * What each compile saw of the source. Every run numbers its compiles from 0/0, so where the
 * shapes come from several runs each run's compiles go under its name ("which compile").
 */
function sawText(s: DimStory, manyRuns: boolean): string {
  const byRun = new Map<string | null, DimStory['saw']>();
  for (const x of s.saw) {
    const list = byRun.get(x.run);
    if (list) list.push(x);
    else byRun.set(x.run, [x]);
  }
  const sentence = (saw: DimStory['saw']) => sawSentence(saw.map((x) => ({ compileId: x.compileId, source: s.source, size: x.size })));
  // one run's compiles go unnamed only where the answer holds one run (trial s25d: `compile
  // 0/0 (3rd) saw …` of a ledger of three runs said not which)
  if (byRun.size === 1 && !manyRuns) return sentence(s.saw);
  return [...byRun].map(([run, saw]) => `run ${run ?? '-'}: ${sentence(saw)}`).join('; ');
}

/**
 * The stories as text, each source's told once under its header: the list puts the latest
 * change first, so two sources' dims can interleave (L['a'] dim 1, L['b'] dim 0, L['a']
 * stride 1); a source is told where its first story comes, its dims in log order (the order
 * they turned dynamic, then those that did not, as listed).
 */
export function storyText(stories: DimStory[], o: { /** the profile holds several runs (else: those the stories name) */ manyRuns?: boolean } = {}): string[] {
  const bySource = new Map<string, DimStory[]>();
  for (const s of stories) {
    const head = `${s.source} in ${codeIdLabel(s.code)}:`;
    const list = bySource.get(head);
    if (list) list.push(s);
    else bySource.set(head, [s]);
  }
  const lines: string[] = [];
  const manyRuns = o.manyRuns ?? new Set(stories.flatMap((s) => s.saw.map((x) => x.run))).size > 1;
  for (const [head, list] of bySource) {
    lines.push(head);
    if (list[0].saw.length) lines.push(`  ${sawText(list[0], manyRuns)}`);
    // a stable sort: the dims that never turned dynamic keep the order they came in
    list.sort((x, y) => (x.becameDynamic?.position ?? Infinity) - (y.becameDynamic?.position ?? Infinity) || 0);
    for (const s of list) lines.push(...storyLines(s, '  '));
  }
  return lines;
}
