import { inputError } from '../errors.ts';
import { DYNAMIC, UNSET } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { atomStr } from '../model/python-repr.ts';
import type { ProfileKey } from '../model/cache-key.ts';
import type { HistoryRow, Ledger, ProfileRow } from './ledger.ts';
import { dimKey, explain } from './why.ts';
import { recordDimKey } from './why-fold.ts';
import { historyAsOf } from './history.ts';
import type { Window } from './window.ts';

/**
 * Recompile storms (issue 12.6): a profile's recompile records grouped by run and time window,
 * the dims they made dynamic, and the values seen at each such dim (the rare ones are what
 * made it dynamic).
 */

/** One dim that turned dynamic, in `diff`'s words (`size[0]`, `stride[1]`, `scalar`, `size` for the number of dims). */
export interface DynamicDim {
  code: CodeId;
  source: string;
  dim: string;
  /** The record that made it dynamic in this window. */
  position: number;
  time: number;
  /** Each value the profile's observations had at the dim, rarest first, and how often. */
  values: { value: string; count: number; runs: (string | null)[] }[];
  /** Observations of the source that have the dim (the values' counts add up to it). */
  observations: number;
  /**
   * The profile a merge brought the change from (followed to the last, as `why` follows it), whose
   * values these are; null where the change is the profile's own (trial s36a: a merge target's
   * stats listed the ranks' joined values alone, never the one that made the dim dynamic).
   */
  via: string | null;
}

export interface StormWindow {
  cacheKey: string;
  key: ProfileKey;
  run: string | null;
  /** The window, [start, end) in ms since the epoch, aligned to whole windows since the epoch (UTC). */
  start: number;
  end: number;
  /** The recompile records (history rows) in the window, in position order. */
  records: HistoryRow[];
  dims: DynamicDim[];
}

export interface StatsOptions {
  /** One job only. */
  job?: string;
  /** One rank only (null: PyTorch's None). */
  rank?: number | null;
  /** One cache_key_tag only. */
  tag?: string;
  /** Window length in ms (default an hour). */
  windowMs?: number;
  /** Which events count (`--as-of`, `--exclude-run`; the whole log by default). */
  window?: Window;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A window length `N[smhd]` (the command line's `--window`; any whole N: windows are aligned to
 * whole multiples since the epoch) to ms. `flag`: how the caller names it in an error.
 */
export function parseWindowLength(s: string, flag = 'window length'): number {
  const m = /^(\d+)\s*([smhd])$/.exec(s.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]] : NaN;
  if (!m || !Number.isSafeInteger(n) || n <= 0) throw inputError(`${flag} ${s}: want a whole number above 0 and s, m, h or d, such as 30s, 7m, 1h or 1d`);
  return n;
}


/**
 * Whether a record turned its dim dynamic. PyTorch logs, for an entry the observation changed,
 * every dim where the old entry differs from the *observation*, so a dim dynamic already
 * (cached `AutoDynamic.token`) gets a record too; an unset one (`AutoUnset.token`) only takes
 * a value. A record whose cached value was a static one is the join of two values: dynamic.
 */
function recordTurnsDynamic(r: Pick<HistoryRow, 'cached'>): boolean {
  return r.cached !== WAS_DYNAMIC && r.cached !== WAS_UNSET;
}
const WAS_DYNAMIC = atomStr(DYNAMIC);
const WAS_UNSET = atomStr(UNSET);

const dimId = (code: CodeId, source: string, dim: string) => `${codeKey(code)}\u0000${source}\u0000${dim}`;

/** Every storm window of the ledger's profiles (one job's with `job`), by profile, then time, then run. */
export function recompileStats(ledger: Ledger, o: StatsOptions = {}): StormWindow[] {
  const windowMs = o.windowMs ?? UNITS.h;
  // checked as the command line's --window is (trial s28b: -5 gave windows ending before they start, 0 and NaN null bounds)
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw inputError(`windowMs ${String(windowMs)}: want a whole number of milliseconds above 0`);
  const profiles = ledger.profiles().filter((p) => (o.job === undefined || p.key.job === o.job) && (o.rank === undefined || p.key.rank === o.rank) && (o.tag === undefined || p.key.tag === o.tag));
  const asked = [o.job !== undefined && `job ${o.job}`, o.rank !== undefined && `rank ${o.rank ?? 'None'}`, o.tag !== undefined && `tag ${JSON.stringify(o.tag)}`].filter(Boolean);
  if (asked.length && !profiles.length) {
    // as the other commands say it (cli/context.ts): what the ledger has
    const all = ledger.profiles();
    throw inputError(`no profile for ${asked.join(' ')}${all.length ? ` (it has: ${all.map((p) => p.cacheKey).join(', ')})` : ''}`);
  }
  const out: StormWindow[] = [];
  for (const p of profiles) out.push(...profileStorms(ledger, p, windowMs, o.window ?? {}));
  return out;
}

function profileStorms(ledger: Ledger, p: ProfileRow, windowMs: number, window: Window): StormWindow[] {
  const history = historyAsOf(ledger, p.id, window);
  if (!history.length) return [];
  const values = dimValues(ledger, p.id, window, new Set(history.map((h) => h.name)));
  const windows = new Map<string, StormWindow>();
  let prev: { record: HistoryRow; dim: string } | undefined;
  const dims: { record: HistoryRow; dim: string }[] = [];
  for (const h of history) {
    const start = Math.floor(h.time / windowMs) * windowMs;
    const wk = `${start}\u0000${h.run ?? ''}`;
    let w = windows.get(wk);
    if (!w) windows.set(wk, (w = { cacheKey: p.cacheKey, key: p.key, run: h.run, start, end: start + windowMs, records: [], dims: [] }));
    w.records.push(h);
    const dim = recordDimKey(h, prev);
    prev = { record: h, dim };
    dims.push(prev);
    if (!recordTurnsDynamic(h)) continue;
    const id = dimId(h.code, h.name, dim);
    if (!w.dims.some((d) => dimId(d.code, d.source, d.dim) === id)) w.dims.push({ code: h.code, source: h.name, dim, position: h.position, time: h.time, values: [], observations: 0, via: null });
  }
  for (const w of windows.values()) {
    for (const d of w.dims) {
      const told = values.get(dimId(d.code, d.source, d.dim));
      const v = told?.values ?? foldedValues(ledger, p.id, window, d, dims) ?? staticAgainValues(ledger, p.id, window, d);
      d.via = told?.via ?? null;
      d.values = [...v].sort((a, b) => a.count - b.count);
      d.observations = v.reduce((n, x) => n + x.count, 0);
    }
  }
  return [...windows.values()].sort((a, b) => a.start - b.start || (a.records[0].position - b.records[0].position));
}

/**
 * The values seen at a dim that a later record folded into its whole field (a change of the
 * number of dims: the field is dynamic whole, and the profile has no dim of it since, so the
 * window's `why` tells none): as `why` counts them just before that record.
 */
function foldedValues(ledger: Ledger, pid: number, window: Window, d: DynamicDim, dims: { record: HistoryRow; dim: string }[]): DynamicDim['values'] | undefined {
  const field = /^(size|stride)\[\d+\]$/.exec(d.dim)?.[1];
  if (!field) return undefined;
  const ck = codeKey(d.code);
  const whole = dims.find(({ record: h, dim }) => h.position > d.position && dim === field && h.name === d.source && codeKey(h.code) === ck);
  if (!whole) return undefined;
  const until = Math.min(whole.record.position - 1, window.untilPosition ?? Infinity);
  const story = explain(ledger, pid, { source: d.source, window: { ...window, untilPosition: until } }).find((s) => codeKey(s.code) === ck && dimKey(s.dim) === d.dim);
  return story ? story.values.map(({ value, count, runs }) => ({ value, count, runs })) : [];
}

/**
 * The values seen at a dim that turned dynamic and is static again in the window's profile (an
 * overwrite: a compile under automatic_dynamic_shapes off), which the profile's `why` of its
 * dynamic dims does not tell: the source's own, static dims and all (trial s27c: "no
 * observations of it" where five compiles fed it).
 */
function staticAgainValues(ledger: Ledger, pid: number, window: Window, d: DynamicDim): DynamicDim['values'] {
  const ck = codeKey(d.code);
  const story = explain(ledger, pid, { source: d.source, window }).find((s) => codeKey(s.code) === ck && dimKey(s.dim) === d.dim);
  return story ? story.values.map(({ value, count, runs }) => ({ value, count, runs })) : [];
}

/**
 * The values seen at each wanted dim, exactly as `why` counts them (explain in why.ts: the
 * values events carried and the values PyTorch's own records logged), so the two never disagree.
 */
function dimValues(ledger: Ledger, pid: number, window: Window, sources: Set<string>): Map<string, { values: DynamicDim['values']; via: string | null }> {
  const out = new Map<string, { values: DynamicDim['values']; via: string | null }>();
  if (sources.size === 0) return out;
  // One `why` of the profile, not one a source: a trace's values are read from the log once a
  // `why` (compile-values.ts), which a source at a time read again for each.
  const one = sources.size === 1 ? [...sources][0] : undefined;
  for (const s of explain(ledger, pid, { source: one, window })) {
    if (!sources.has(s.source)) continue;
    // a change a merge brought dynamic from a profile: that profile's values (where the merge
    // joined two static values, the target's own sightings of them are the story)
    let story = s;
    let via: string | null = null;
    while (story.via && story.via.story.dynamic) {
      via = story.via.cacheKey;
      story = story.via.story;
    }
    out.set(dimId(s.code, s.source, dimKey(s.dim)), { values: story.values.map(({ value, count, runs }) => ({ value, count, runs })), via });
  }
  return out;
}
