import { deflateSync, inflateSync } from 'node:zlib';
import type { Sql } from './database.ts';
import { jsonItem as json } from './json-text.ts';
import { checkEnds, FIRST, LAST, profileRanges } from './profile-spans.ts';
import type { Dictionaries } from './log.ts';
import { inWindowSql, isWholeLog, leftOutRuns, type Window } from './window.ts';

/**
 * What the report counts straight from the log, whatever the window (every event, retracted
 * runs included): per code id and source, its observations and imports and their runs; and
 * every run of the profile. Kept beside each why-checkpoint for the log up to it (derived
 * data: verify checks it, replay rebuilds it), so the report counts only the tail.
 */
export interface LogCounts {
  /** By code id, then source (the rows of the codes and sources tables). */
  sources: Map<number, Map<number, SourceCounts>>;
  /** Rows of the runs table. */
  runs: Set<number>;
  /**
   * logCountsText's sort of `sources`, kept while no source is added (written at every
   * checkpoint, where the counts have changed and the sources seldom), and `runs` as text
   * while its size stands (counts only grow).
   */
  sorted?: SourceCounts[];
  runsText?: string;
  runsSize?: number;
  /** Whether `runs` came in order when `runsText` was written, and the last of them (runsText). */
  runsInOrder?: boolean;
  runsLast?: number;
}

export interface SourceCounts {
  codeId: number;
  sourceId: number;
  n: number;
  /** Within the profile's runs (LogCounts.runs): an event's run is added to both. */
  runs: Set<number>;
  /** `[code,source,` as the stored text writes it (storedText), made once. */
  head?: string;
  /** Its runs as sorted text while their number stands (logCountsText), and as LogCounts keeps them. */
  runsText?: string;
  runsSize?: number;
  runsInOrder?: boolean;
  runsLast?: number;
}

// every field made at once: a field added later (at a checkpoint) would change the objects' shape
// under the replay's compiled hot path, which V8 then throws away and compiles again
export const emptyLogCounts = (): LogCounts => ({ sources: new Map(), runs: new Set(), sorted: undefined, runsText: undefined, runsSize: 0, runsInOrder: false, runsLast: 0 });
const newSourceCounts = (codeId: number, sourceId: number, n: number, runs: Set<number>): SourceCounts => ({ codeId, sourceId, n, runs, head: undefined, runsText: undefined, runsSize: 0, runsInOrder: false, runsLast: 0 });

/**
 * What a count keeps of the log beyond its positions: the events that pass an SQL test on the
 * events table (a window's point: inWindowSql, window.ts's rule) and are of none of the runs
 * left out (rows of the runs table: leftOutRuns').
 */
export interface CountOnly {
  keep: { test: string; args: number[] };
  leftOut: ReadonlySet<number>;
}

/** Adds the profile's events after position `after`, up to `until` (read within its spans, profile-spans.ts); with `only`, those it keeps. */
export function countLog(sql: Sql, profileId: number, into: LogCounts, after = 0, until = Number.MAX_SAFE_INTEGER, only?: CountOnly): LogCounts {
  const ranges = profileRanges(sql, profileId, after, until);
  const where = only ? ` and (${only.keep.test})` : '';
  for (let k = 0; k < ranges.length; k += 3) {
    const rows = sql.allRaw(
      `select code_id, source_id, run_id, kind, count(*), min(position), max(position) from events where profile_id = ? and position > ? and position <= ?${where} group by code_id, source_id, run_id, kind`,
      profileId,
      ranges[k],
      ranges[k + 1],
      ...(only ? only.keep.args : []),
    );
    let first: number | undefined;
    let last: number | undefined;
    for (const [codeId, sourceId, runId, kind, n, lo, hi] of rows as [number, number, number | null, string, number, number, number][]) {
      if (!only || runId === null || !only.leftOut.has(Number(runId))) addToLogCounts(into, codeId, sourceId, runId, kind, only ? Number(n) : n);
      if (first === undefined || lo < first) first = lo;
      if (last === undefined || hi > last) last = hi;
    }
    // the rows kept need not hold the span's ends: they are looked up (a row each, by position)
    if (only) {
      const there = (position: number) => (sql.get('select 1 from events where position = ? and profile_id = ?', position, profileId) ? position : undefined);
      first = ranges[k + 2] & FIRST ? there(ranges[k] + 1) : undefined;
      last = ranges[k + 2] & LAST ? there(ranges[k + 1]) : undefined;
    }
    checkEnds(sql, profileId, ranges[k], ranges[k + 1], ranges[k + 2], first, last);
  }
  return into;
}

/** Adds `n` events of one kind, code id, source and run (rows of their tables; the append path adds each event so). */
export function addToLogCounts(into: LogCounts, codeId: number | null, sourceId: number | null, runId: number | null, kind: string, n = 1): void {
  if (runId !== null) into.runs.add(runId);
  if (kind !== 'shape.observed' && kind !== 'entry.imported') return;
  const s = sourceCounts(into, codeId!, sourceId!);
  s.n += n;
  if (runId !== null) s.runs.add(runId);
}

/** The counts of one code id and source (rows), made empty if new: a caller may keep it and count into it. */
export function sourceCounts(into: LogCounts, codeId: number, sourceId: number): SourceCounts {
  let bySource = into.sources.get(codeId);
  if (!bySource) into.sources.set(codeId, (bySource = new Map()));
  let s = bySource.get(sourceId);
  if (!s) bySource.set(sourceId, (s = newSourceCounts(codeId, sourceId, 0, new Set())));
  return s;
}

type Stored = { runs: number[]; sources: [codeId: number, sourceId: number, n: number, runs: number[] | 0][] };

const byNumber = (a: number, b: number) => a - b;

/**
 * A set of run rows as sorted JSON, kept in `o` while the set's size stands (sets of counts only
 * grow). Runs mostly come in the order of their rows: sorted already; then the runs added since
 * (a set's last, in the order it was added to) are added to the text when they keep that order.
 */
function runsText(o: { runsText?: string; runsSize?: number; runsInOrder?: boolean; runsLast?: number }, runs: Set<number>): string {
  if (o.runsText !== undefined && o.runsSize === runs.size) return o.runsText;
  if (o.runsText !== undefined && o.runsInOrder && o.runsSize! > 0 && runs.size > o.runsSize!) {
    let i = 0;
    let last = o.runsLast!;
    let added = '';
    let inOrder = true;
    for (const r of runs) {
      if (i++ < o.runsSize!) continue;
      if (!(byNumber(last, r) <= 0)) {
        inOrder = false;
        break;
      }
      added += `,${json(r)}`;
      last = r;
    }
    if (inOrder) {
      // JSON.stringify of the list: its items as json() writes each within an array
      o.runsText = `${o.runsText.slice(0, -1)}${added}]`;
      o.runsSize = runs.size;
      o.runsLast = last;
      return o.runsText;
    }
  }
  const list = [...runs];
  let sorted = true;
  for (let i = 1; i < list.length && sorted; i++) sorted = byNumber(list[i - 1], list[i]) <= 0;
  o.runsText = JSON.stringify(sorted ? list : list.sort(byNumber));
  o.runsSize = runs.size;
  o.runsInOrder = sorted;
  o.runsLast = list[list.length - 1];
  return o.runsText;
}

/**
 * As JSON text, sorted: equal counts give equal text (`{"runs":[...],"sources":[[code,
 * source, n, runs], ...]}`, as JSON.stringify writes it).
 */
export function logCountsText(c: LogCounts): string {
  const sorted = sortedSources(c);
  let sources = '';
  for (const s of sorted) sources += `${sources ? ',' : ''}[${json(s.codeId)},${json(s.sourceId)},${json(s.n)},${runsText(s, s.runs)}]`;
  return `{"runs":${runsText(c, c.runs)},"sources":[${sources}]}`;
}

/** The sources in code id and source order, the sort kept while no source is added. */
function sortedSources(c: LogCounts): SourceCounts[] {
  let size = 0;
  for (const m of c.sources.values()) size += m.size;
  let sorted = c.sorted;
  if (sorted === undefined || sorted.length !== size) {
    sorted = c.sorted = [];
    for (const m of c.sources.values()) for (const s of m.values()) sorted.push(s);
    sorted.sort((a, b) => a.codeId - b.codeId || a.sourceId - b.sourceId);
  }
  return sorted;
}

/**
 * Whether the profile's runs are numbers, each greater than the one added before it: then a
 * source's runs of the same size (within them) are the same set and write the same sorted text.
 */
function runsIncreasing(runs: Set<number>): boolean {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of runs) {
    if (typeof r !== 'number' || !(r > last)) return false;
    last = r;
  }
  return true;
}

/**
 * The stored text, version 2: logCountsText's, but a source whose runs are all the profile's
 * runs writes `0` for them (in a 1M-event log every source runs in every run: its list was
 * written again for each of 1,000 sources at every checkpoint, growing with the runs). Only
 * where the profile's runs came in increasing order, so that its list is that source's sorted
 * list too. Version 1, every list written out, still reads (decodeLogCounts).
 */
function storedText(c: LogCounts): string {
  const sorted = sortedSources(c);
  const all = runsIncreasing(c.runs) ? c.runs.size : -1;
  let sources = '';
  for (const s of sorted) {
    const head = (s.head ??= `[${json(s.codeId)},${json(s.sourceId)},`);
    sources += `${sources ? ',' : ''}${head}${json(s.n)},${s.runs.size === all ? '0' : runsText(s, s.runs)}]`;
  }
  return `{"runs":${runsText(c, c.runs)},"sources":[${sources}]}`;
}

export const encodeLogCounts = (c: LogCounts): Uint8Array => deflateSync(storedText(c), { level: 1 });

/** A stored form read (either version, storedText): each source's own runs, null for `0` (the profile's); a source's runs outside the profile's, damage. */
function readStored(bytes: Uint8Array): { runs: Set<number>; sources: Map<number, Map<number, { n: number; runs: Set<number> | null }>> } {
  const j = JSON.parse(inflateSync(bytes).toString()) as Stored;
  const all = new Set<number>();
  for (const r of j.runs) all.add(r);
  const sources = new Map<number, Map<number, { n: number; runs: Set<number> | null }>>();
  for (const [codeId, sourceId, n, runs] of j.sources) {
    let bySource = sources.get(codeId);
    if (!bySource) sources.set(codeId, (bySource = new Map()));
    if (runs === 0) {
      bySource.set(sourceId, { n, runs: null });
      continue;
    }
    const own = new Set(runs);
    for (const r of own) if (!all.has(r)) throw new Error(`the log counts name run ${JSON.stringify(r)} of a source, not among the profile's runs`);
    bySource.set(sourceId, { n, runs: own });
  }
  return { runs: all, sources };
}

/** Either version (storedText): a source's runs `0` are the profile's; a source's runs outside the profile's, damage. */
export function decodeLogCounts(bytes: Uint8Array): LogCounts {
  const stored = readStored(bytes);
  const c = emptyLogCounts();
  for (const r of stored.runs) c.runs.add(r);
  for (const [codeId, m] of stored.sources) {
    const bySource = new Map<number, SourceCounts>();
    c.sources.set(codeId, bySource);
    for (const [sourceId, s] of m) bySource.set(sourceId, newSourceCounts(codeId, sourceId, s.n, s.runs ?? new Set(c.runs)));
  }
  return c;
}

/** A source's counts as the report reads them: its events, and the number of its runs. */
export interface SourceSizes {
  codeId: number;
  sourceId: number;
  n: number;
  runs: number;
}

/**
 * The counts of the events a window folds (window.ts's rule: up to its point, without the runs
 * it leaves out or retracts in it), as the report reads them: each source's events and number
 * of runs, and the profile's runs. From the newest why-checkpoint whose events up to it all lie
 * within the window's point (its counts hold every event up to it, retracted runs included),
 * less the left-out runs' events up to it, plus the window's events since. A source in every
 * run of the profile is not given a set of them (logCountsUntil copies the profile's for each,
 * to count into: a 5M-event log's 1,000 sources each copied 50); its runs are the profile's.
 */
export function logCountSizes(sql: Sql, dict: Dictionaries, profileId: number, w: Window = {}): { runs: Set<number>; sources: SourceSizes[] } {
  const leftOut = new Set<number>();
  const names = [...leftOutRuns(sql, profileId, w, dict)];
  if (names.length) {
    for (const r of sql.allRaw(`select id from runs where run in (${names.map(() => '?').join(', ')})`, ...names)) leftOut.add(Number(r[0]));
  }
  // A checkpoint at C holds the events up to C: usable where all of them are within the point.
  // For a time, the view checkpoint at the same position says their latest (checkpoints.ts
  // max_time; both are written at once): one with none is passed over, which costs time only.
  const row = sql.get<{ position: number; counts: Uint8Array }>(
    w.untilTime === undefined
      ? 'select position, counts from why_checkpoints where profile_id = ? and position <= ? order by position desc limit 1'
      : 'select w.position, w.counts from why_checkpoints w join checkpoints c on c.profile_id = w.profile_id and c.position = w.position where w.profile_id = ? and w.position <= ? and c.max_time <= ? order by w.position desc limit 1',
    profileId,
    w.untilPosition ?? Number.MAX_SAFE_INTEGER,
    ...(w.untilTime === undefined ? [] : [w.untilTime]),
  );
  let from: ReturnType<typeof readStored> | null = null;
  try {
    from = row ? readStored(row.counts) : null;
  } catch {
    // Derived data: an unreadable one costs time, not the answer (verify names it).
  }
  const at = from ? Number(row!.position) : 0;
  const only: CountOnly | undefined = isWholeLog(w) && !leftOut.size ? undefined : { keep: inWindowSql(w), leftOut };
  const tail = countLog(sql, profileId, emptyLogCounts(), at, w.untilPosition ?? Number.MAX_SAFE_INTEGER, only);
  // the left-out runs' events the checkpoint holds, from the first of them in the profile
  const out = emptyLogCounts();
  if (from && leftOut.size) {
    const marks = [...leftOut].map(() => '?').join(', ');
    const first = sql.get<{ p: number | string | null }>(`select min(first_position) p from profile_runs where profile_id = ? and run_id in (${marks})`, profileId, ...leftOut)?.p;
    if (first != null && Number(first) <= at) countLog(sql, profileId, out, Number(first) - 1, at, { keep: { test: `run_id in (${marks})`, args: [...leftOut] }, leftOut: new Set() });
  }
  const sources: SourceSizes[] = [];
  const runs = new Set<number>();
  for (const r of from?.runs ?? []) if (!leftOut.has(r)) runs.add(r);
  for (const r of tail.runs) runs.add(r);
  for (const [codeId, m] of from?.sources ?? []) {
    for (const [sourceId, s] of m) {
      const base = s.runs ?? from!.runs;
      const t = tail.sources.get(codeId)?.get(sourceId);
      const o = out.sources.get(codeId)?.get(sourceId);
      let size = base.size - (o?.runs.size ?? 0);
      if (t) for (const r of t.runs) if (!base.has(r)) size++;
      const n = s.n - (o?.n ?? 0) + (t?.n ?? 0);
      if (n > 0) sources.push({ codeId, sourceId, n, runs: size });
    }
  }
  for (const [codeId, m] of tail.sources) for (const [sourceId, t] of m) if (!from?.sources.get(codeId)?.has(sourceId)) sources.push({ codeId, sourceId, n: t.n, runs: t.runs.size });
  return { runs, sources };
}

/**
 * How many events a window folds of a profile (window.ts's rule; a `run.retracted` event is
 * folded by none), and the latest time of them: the profile's counters for the whole log. With
 * no run left out, the newest view checkpoint within the point (checkpoints.ts: its event
 * count and latest time; none with a retraction up to it, which would leave a run out) plus
 * the events since; else the window's events counted.
 */
export function windowEvents(sql: Sql, dict: Dictionaries, profileId: number, w: Window, whole: { events: number; lastTime: number | null }): { events: number; lastTime: number | null } {
  const leftOut = leftOutRuns(sql, profileId, w, dict);
  if (isWholeLog(w) && !leftOut.size) return whole;
  let after = 0;
  let events = 0;
  let lastTime: number | null = null;
  if (!leftOut.size) {
    const cp = sql.get<{ position: number | string; event_count: number | string; max_time: number | string }>(
      `select position, event_count, max_time from checkpoints where profile_id = ? and position <= ?${w.untilTime !== undefined ? ' and max_time <= ?' : ''} order by position desc limit 1`,
      profileId,
      w.untilPosition ?? Number.MAX_SAFE_INTEGER,
      ...(w.untilTime !== undefined ? [w.untilTime] : []),
    );
    if (cp) {
      after = Number(cp.position);
      events = Number(cp.event_count);
      lastTime = Number(cp.max_time);
    }
  }
  const { test, args } = inWindowSql(w);
  for (const [runId, n, time] of sql.allRaw(`select run_id, count(*), max(time) from events where profile_id = ? and position > ? and kind <> 'run.retracted' and ${test} group by run_id`, profileId, after, ...args)) {
    if (runId !== null && leftOut.has(dict.run(Number(runId)))) continue;
    events += Number(n);
    lastTime = Math.max(lastTime ?? -Infinity, Number(time));
  }
  return { events, lastTime };
}

/** The counts of the log up to `until`: from the newest why-checkpoint before it that holds them, plus the events since. */
export function logCountsUntil(sql: Sql, profileId: number, until = Number.MAX_SAFE_INTEGER): LogCounts {
  const row = sql.get<{ position: number; counts: Uint8Array }>('select position, counts from why_checkpoints where profile_id = ? and position <= ? order by position desc limit 1', profileId, until);
  let from: LogCounts | null = null;
  try {
    from = row ? decodeLogCounts(row.counts) : null;
  } catch {
    // Derived data: an unreadable one costs time, not the answer (verify names it).
  }
  return from ? countLog(sql, profileId, from, row!.position, until) : countLog(sql, profileId, emptyLogCounts(), 0, until);
}
