import { codeKey, type CodeId } from '../model/code-id.ts';
import type { Sql } from './database.ts';
import { checkpointAppended, checkpointDue, encodeView, lastCheckpointCount, viewEntries } from './checkpoints.ts';
import { fold, unchangedSince, type FoldStep, type StreamView } from './fold.ts';
import { hash53 } from './hash53.ts';
import { NOT_CACHED, type Interner } from './intern.ts';
import type { AppendMemo, PreparedEvent } from './prepare-event.ts';
import { replayProfile } from './replay.ts';
import { encodeWhyState, whyCheckpointAt, writeWhyCheckpointState } from './why-checkpoints.ts';
import { addToLogCounts, encodeLogCounts, sourceCounts, type LogCounts } from './log-counts.ts';
import { KEEP_ALL, moveEvidence, whyCount, whyCountingAcc, whyStep, type Acc, type Carried } from './why-fold.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import type { LeanEvent } from './log.ts';
import { codeStateRows, historyRows, writeCodeStates, type LiveView, type LiveViews } from './views.ts';
import type { CodeStateRow, EventRow, HistoryInsert } from './dialect/dialect.ts';

export interface AppendResult {
  appended: number;
  duplicates: number;
  records: number;
  firstPosition: number | null;
  lastPosition: number | null;
  /**
   * Of the events appended, those of a run their profile retracted, by run: stored (the log
   * keeps what came) but left out of every answer whose window holds the retraction.
   */
  leftOut?: Record<string, number>;
}

/** What the append path keeps between batches on one connection. */
export interface AppendState {
  sql: Sql;
  interner: Interner;
  live: LiveViews;
  /** Each profile's event count at its newest checkpoint, as read once. */
  checkpointCounts: Map<number, number>;
  /** The memos carried across batches (see carriedMemo), and the interner generation they were keyed in. */
  carried: { gen: number; memos: Map<string, AppendMemo> };
  /**
   * What this connection's appends left, as far as it knows without a read: the counters it
   * wrote for each profile, and the position after its last batch where that batch's events
   * took one block of positions, none skipped (else undefined). A batch folded from them
   * (foldAhead's `known`) is written only where its transaction finds them so (Pipeline).
   */
  after: { counters: Map<number, ProfileCounters>; next: number | undefined };
}

/**
 * Appending: one batch of prepared events, inside the caller's write transaction, in phases:
 * (a) the dictionary ids of every event, then the write lock on the profiles it touches;
 * (b) the dialect's bulk insert, skipping taken idempotency keys; (c) each skipped event
 * checked: a true duplicate is the whole event again, anything else a collision that moves to
 * the next key of a fixed chain; (d) in position order, each event folded into its profile's
 * live view with PyTorch's rules and its records written to the history (a retraction
 * rebuilds its profile's views instead), then the touched code states, checkpoints and
 * profile counters.
 */
export function appendBatch(st: AppendState, events: readonly PreparedEvent[], interned?: EventRow[], locked?: (sql: Sql) => void): AppendResult {
  const { sql } = st;
  // (a) ids (the caller may have interned them already: Dialect.internFirst)
  const rows = interned ?? internBatch(st, events, rowsOf(st));
  const pids = profilesOf(rows);
  const { dialect } = sql;
  dialect.lock(sql, pids);
  // what the caller reads in the batch's transaction once its locks are held (the live merges)
  locked?.(sql);
  // The counters are read under the lock; on PostgreSQL their answer comes back with the
  // insert's (Dialect.ask): one round trip less a batch. The insert changes no counter.
  const counters = countersReads(pids);
  if (dialect.ask) for (const [q, p] of counters) dialect.ask(sql, q, p);
  // (b) the bulk insert
  const positions = dialect.insertEvents(sql, rows);
  noteBlock(st, positions);
  const before = profileCounters(sql, counters);
  for (const id of pids) dropIfStale(st, id, before.get(id)?.last_position ?? null);
  return foldInserted(st, events, rows, positions, before);
}

/**
 * The profiles of a batch's rows, in the order first seen. A loop, not a Set of the rows
 * mapped to their profiles: this runs once a batch, mostly on V8's baseline tier, where the
 * map, its closure and the Set's 10,000 adds took ~60 ms of a 1M-line ingest (perf).
 */
function profilesOf(rows: readonly EventRow[]): number[] {
  const pids: number[] = [];
  let seen: Set<number> | undefined;
  for (let i = 0; i < rows.length; i++) {
    const id = rows[i][0];
    if (pids.length !== 0 && id === pids[pids.length - 1]) continue;
    // a batch's rows name a handful of profiles as a rule: a Set only past that
    if (seen === undefined ? pids.includes(id) : seen.has(id)) continue;
    pids.push(id);
    if (seen !== undefined) seen.add(id);
    else if (pids.length > 16) seen = new Set(pids);
  }
  return pids;
}

/** Phases (c) and (d) of appendBatch, the batch's events inserted at `positions`. */
function foldInserted(st: AppendState, events: readonly PreparedEvent[], rows: EventRow[], positions: number[], before: Map<number, ProfileCounters>): AppendResult {
  // (c) duplicates and collisions
  const reordered = positions.includes(0) && placeSkipped(st.sql, events, rows, positions);
  // (d) the fold, in position order
  let order: number[] = [];
  for (let i = 0; i < positions.length; i++) if (positions[i] !== 0) order.push(i);
  if (reordered) order = order.sort((a, b) => positions[a] - positions[b]);
  const f = foldEvents(st, events, rows, positions, order, before, null);
  f.result.duplicates = events.length - order.length;
  finishBatch(st, f.history, f.counts, f.refolds, before);
  return f.result;
}

/** Whether a batch's events took one block of positions, none skipped; where so, the position after it is noted (AppendState.after). */
function noteBlock(st: AppendState, positions: readonly number[]): boolean {
  const first = positions[0];
  let block = positions.length > 0 && first !== 0;
  for (let i = 1; block && i < positions.length; i++) block = positions[i] === first + i;
  st.after.next = block ? first + positions.length : undefined;
  return block;
}

/** A batch's fold (phase d): what appendBatch writes after it. */
interface Folded {
  result: AppendResult;
  counts: Map<number, { n: number; last: number; time: number }>;
  refolds: Set<number>;
  history: HistoryInsert[];
}

/** What a fold ahead of the write lock keeps for appendAhead: the profile runs to note (profile, run, position each), the accs that took positions into evidence. */
interface FoldingAhead {
  runs: number[];
  accs: Set<Acc>;
}

/** Phase (d)'s loop: the events of `order` folded, in that order, each at its position (`ahead`: foldAhead's fold, see FoldingAhead). */
function foldEvents(st: AppendState, events: readonly PreparedEvent[], rows: EventRow[], positions: number[], order: readonly number[], before: Map<number, ProfileCounters>, ahead: FoldingAhead | null): Folded {
  const { interner, live } = st;
  const result: AppendResult = { appended: 0, duplicates: 0, records: 0, firstPosition: null, lastPosition: null };
  const refolds = new Set<number>();
  const counts = new Map<number, { n: number; last: number; time: number }>();
  const history: HistoryInsert[] = [];
  // What the loop needs of each profile, looked up at its first event (each lookup gives the
  // same for the rest of the batch: the live views change after the loop).
  const ofProfile = new Map<number, BatchProfile>();
  for (const i of order) {
    const ev = events[i];
    const position = positions[i];
    const row = rows[i];
    const id = row[0];
    result.appended++;
    result.firstPosition ??= position;
    result.lastPosition = position;
    let p = ofProfile.get(id);
    if (!p) {
      const c = { n: 0, last: 0, time: 0 };
      counts.set(id, c);
      // A new profile's view is made at its first event, counts and all, so that the counts
      // count that event too (live.get makes a new profile's counts empty, to count along).
      const lv0 = live.peek(id) ?? (before.get(id)?.last_position == null ? live.get(id, null) : undefined);
      ofProfile.set(id, (p = { counted: lv0?.counts, c, run: null, lv: undefined }));
    }
    // profileRun adds a run's row once; later calls for it are no-ops, skipped here while the run stays
    if (row[6] !== null && row[6] !== p.run) {
      if (ahead === null) interner.profileRun(id, (p.run = row[6]), position);
      else ahead.runs.push(id, (p.run = row[6]), position);
    }
    const m = ev.memo;
    if (p.counted) {
      // what addToLogCounts does, with the counts of this code id and source (and its run noted) kept
      if (m && m.counted === p.counted) m.counts!.n++;
      else {
        addToLogCounts(p.counted, row[2], row[3], row[6], ev.kind);
        if (m && ev.kind === 'shape.observed') {
          m.counted = p.counted;
          m.counts = sourceCounts(p.counted, row[2]!, row[3]!);
        }
      }
    }
    const c = p.c;
    c.n++;
    c.last = position;
    if (ev.time > c.time) c.time = ev.time;
    if (ev.kind === 'run.retracted') {
      refolds.add(id);
      continue;
    }
    if (refolds.size !== 0 && refolds.has(id)) continue;
    const lv = (p.lv ??= live.get(id, before.get(id)?.last_position ?? null));
    if (ev.run !== null && lv.retracted.size !== 0 && lv.retracted.has(ev.run)) {
      // stored, and left out: the caller says so (a retract is for good)
      const leftOut = (result.leftOut ??= {});
      leftOut[ev.run] = (leftOut[ev.run] ?? 0) + 1;
      continue;
    }
    // An event like one the fold kept its entry for, the view unchanged since: kept again, and
    // why counts it where it counted that one (what fold and whyStep would do, lookups aside).
    // A memo new to this batch (or one a change let go of): the outcome an earlier batch's memo
    // of the same event but for its time kept, where it still holds (see carriedMemo).
    if (m && m.view === null && ev.kind === 'shape.observed') carriedMemo(st, m, lv, row);
    // Where why counts the event (a body its acc counted before, the entry kept as it was): the
    // memo's, or what the fold below finds. Each of the memo's fields is read on every event
    // that has one, and the count below is one site for both ways: reads and a count made only
    // after a match had no type feedback when the loop was first optimized, and the first match
    // threw that code away (twice on the 1M mix: four optimizing compiles of this function, now
    // three, and 198 ms of compile time where there were 478, as --trace-opt printed them).
    let acc: Acc | null = null;
    let slot: Carried | null = null;
    let kept: FrameStateSizeEntry | null = null;
    let hit = false;
    if (m) {
      const view = lv.view;
      const held = m.view === view;
      const changes = m.changes === view.changes;
      const why = m.why === lv.why;
      acc = m.acc;
      slot = m.slot;
      kept = m.kept;
      hit = held && why && (changes || keptSince(m, view));
    }
    if (!hit) {
      const step = fold(lv.view, ev as PreparedEvent & { code: CodeId; source: string });
      if (!step) continue; // evidence only (shape.described)
      // An entry the join kept as it was (the same object back) leaves its code state as stored.
      if (step.before !== step.after) {
        lv.dirty.add(step.codeSeq);
        lv.rows.dirty.add(codeKey(step.code));
      }
      const whyCode = lv.why ? interner.dict.code(row[2]!) : null;
      acc = lv.why ? whyCountingAcc(lv.why, whyCode!, step, ev.kind, row[4]) : null;
      slot = acc === null ? null : acc.carried.get(row[4])!;
      kept = step.after;
      if (lv.why && acc === null) {
        const d = detailed;
        whyStep(lv.why, step, whyEvent(interner, ev, position, id, row[4], row[2]!, row[3], row[6]), KEEP_ALL, noDetails);
        // evidence at a position folded ahead (moved should the events take others)
        if (ahead !== null && detailed !== d) ahead.accs.add(lv.why.byCode.get(WHY_EVENT.code)!.get(step.source)!);
      }
      if (m) {
        remember(m, lv, ev, step, whyCode, row[4]);
        if (m.view !== null) carryMemo(st, m, row);
      }
      if (step.records.length) {
        result.records += step.records.length;
        historyRows(history, interner, position, id, step);
      }
    }
    if (slot !== null) {
      acc!.last = kept!;
      whyCount(slot, ev.run);
    }
  }
  return { result, counts, refolds, history };
}

/**
 * Phase (c): each skipped event (its key taken) checked: a true duplicate is the whole event
 * again and keeps position 0; anything else is a collision, inserted under the next key of a
 * fixed chain. True when one was (its position then is out of the batch's order). Kept out of
 * appendBatch (it rarely runs), as the end of a batch is: the smaller the function of the
 * per-event loop, the less each of its compiles costs.
 */
function placeSkipped(sql: Sql, events: readonly PreparedEvent[], rows: EventRow[], positions: number[]): boolean {
  let reordered = false;
  for (let i = 0; i < rows.length; i++) {
    if (positions[i] !== 0) continue;
    const row = rows[i];
    const ev = events[i];
    for (let seed = 1; ; seed++) {
      if (sameEvent(idemCheck(sql, row[10])!, row, ev)) break; // ingested before: adds nothing
      row[10] = hash53(String(row[10]), seed); // a hash collision: the next key of a fixed chain
      const [p] = sql.dialect.insertEvents(sql, [row]);
      if (p !== 0) {
        positions[i] = p;
        reordered = true;
        break;
      }
    }
  }
  return reordered;
}

type Stored = { profile_id: number; kind: string; body_id: number; run_id: number | null; origin_line: number | null; code_id: number | null; source_id: number | null; time: number };

/** The event stored under an idempotency key, as a duplicate is told from a collision. */
const idemCheck = (sql: Sql, key: number) => sql.get<Stored>('select profile_id, kind, body_id, run_id, origin_line, code_id, source_id, time from events where idempotency_key = ?', key);

/**
 * Issue 9.1: a duplicate is the whole event again (time and line in its input included, where
 * they are part of it: keyedTime, keyedLine), never a partial match; anything else is a collision.
 */
function sameEvent(prev: Stored, row: EventRow, ev: PreparedEvent): boolean {
  return prev.profile_id === row[0] && prev.kind === ev.kind && prev.run_id === row[6] && prev.code_id === row[2] && prev.source_id === row[3] && prev.body_id === row[4] && (!ev.keyedLine || (prev.origin_line ?? null) === ev.originLine) && (!ev.keyedTime || prev.time === ev.time);
}

/**
 * Whether the log holds this event already, whole: an append would count it a duplicate
 * (placeSkipped's rule, its key's collision chain followed). Reads only: a dictionary row the
 * event would add means it is not there, and nothing is added.
 */
export function holdsEvent(st: Pick<AppendState, 'sql' | 'interner'>, ev: PreparedEvent): boolean {
  const { sql, interner } = st;
  const was = interner.cachedOnly;
  let row: EventRow;
  interner.cachedOnly = true;
  try {
    // where it was read from is no part of what makes a duplicate (sameEvent): a new origin is not asked
    row = internBatch(st, [{ ...ev, origin: null, memo: null }])[0];
  } catch (e) {
    if (e === NOT_CACHED) return false;
    throw e;
  } finally {
    interner.cachedOnly = was;
  }
  for (let seed = 1, key = row[10]; ; seed++) {
    const prev = idemCheck(sql, key);
    if (!prev) return false;
    if (sameEvent(prev, row, ev)) return true;
    key = hash53(String(key), seed);
  }
}

/** The end of phase (d): the history rows, the touched code states, checkpoints and profile counters. */
function finishBatch(st: AppendState, history: HistoryInsert[], counts: Map<number, { n: number; last: number; time: number }>, refolds: Set<number>, before: Map<number, ProfileCounters>): void {
  const { sql, interner, live } = st;
  sql.dialect.insertHistory(sql, history);
  for (const [id, lv] of live.entries()) {
    if (lv.dirty.size && !refolds.has(id)) writeCodeStates(sql, id, lv.view, lv.dirty);
    lv.dirty.clear();
    const c = counts.get(id);
    if (c) lv.lastPosition = c.last;
  }
  checkpointAppended(sql, counts, (id) => (refolds.has(id) ? undefined : live.peek(id)?.view), st.checkpointCounts, interner.codeId,
    (id, position) => whyCheckpointAt(sql, interner.dict, id, position, interner.codeId, live.peek(id)),
    before,
    (id) => live.peek(id)?.rows,
  );
  for (const id of refolds) {
    replayProfile(sql, interner, id);
    live.drop(id);
  }
  countAppended(st, counts, before);
}

/** The profile counters of an append, written, and kept as written (AppendState.after). */
function countAppended(st: AppendState, counts: Map<number, { n: number; last: number; time: number }>, before: Map<number, ProfileCounters>): void {
  const { sql } = st;
  for (const [id, c] of counts) {
    sql.run('update profiles set event_count = event_count + ?, last_position = ?, last_time = case when coalesce(last_time, 0) > ? then last_time else ? end where id = ?', c.n, c.last, c.time, c.time, id);
    const b = before.get(id);
    const lastTime = b?.last_time ?? null;
    st.after.counters.set(id, { event_count: (b?.event_count ?? 0) + c.n, last_position: c.last, last_time: (lastTime ?? 0) > c.time ? lastTime : c.time });
  }
}

/**
 * A batch folded ahead of the write lock (foldAhead), for appendAhead to write under it: the
 * fold of its events as though they took the positions from `base` on, one after another.
 */
export interface Ahead {
  rows: EventRow[];
  pids: number[];
  base: number;
  /** Each profile's last position, as its live view (folded ahead from) had it. */
  seen: Map<number, number | null>;
  /** The profiles' counters the batch was folded from. */
  before: Map<number, ProfileCounters>;
  folded: Folded;
  ahead: FoldingAhead;
  codeStates: CodeStateRow[];
  /** The checkpoint states of profiles due one, encoded; why's where its live state was at hand. */
  checkpoints: Map<number, { view: Uint8Array; why: Uint8Array | null; counts: Uint8Array | null }>;
}

/**
 * Issue 10.3: what an append computes from a batch, computed before the write lock, so that
 * writers of one database hold the lock only for what needs it (the insert, the writes of
 * what is computed here, the commit) and fold their batches at the same time. The batch is
 * folded into this connection's live views of its profiles as they were after its last
 * append, its events given positions from one past the log's last: appendAhead, under the
 * lock, writes it only where that still holds (nothing appended to those profiles since, no
 * event of the batch in the log, the positions one after another; from the one predicted
 * where why's state took positions in) and otherwise lets the live views go and appends the
 * batch as appendBatch does. Null where the batch is not folded ahead: a dictionary id not
 * cached (a row to add), a profile with no live view, a retraction (it rebuilds its profile).
 */
export function foldAhead(st: AppendState, events: readonly PreparedEvent[], known = false): Ahead | null {
  const { sql, interner, live } = st;
  for (const ev of events) if (ev.kind === 'run.retracted') return null;
  let pids: number[] = [];
  let interning = false;
  // `known`: folded from what this connection's appends left (AppendState.after), with no read
  // of the database but the dictionary rows it adds first (Dialect.internFirst): the batch's
  // transaction checks them (Pipeline.insertEventsAt)
  const from = known ? st.after : undefined;
  if (from && from.next === undefined) return null;
  interner.cachedOnly = !from;
  try {
    // a new profile is appended under the lock (its row never stands without its events)
    let key = '';
    if (!from) for (const ev of events) if (ev.cacheKey !== key) interner.profileId((key = ev.cacheKey));
    let rows: EventRow[];
    try {
      rows = internBatch(st, events, rowsOf(st));
    } catch (e) {
      if (e !== NOT_CACHED) throw e;
      // New dictionary rows (a body, a run, ...; rows another writer added were read, see
      // Interner.cachedOnly): added and committed in a short write transaction of their own, as
      // PostgreSQL does (Dialect.internFirst); should the batch then fail, they are rows no
      // event names, which change no answer.
      interner.cachedOnly = false;
      interning = true;
      rows = sql.immediate(() => internBatch(st, events, rowsOf(st)));
      interning = false;
      interner.cachedOnly = true;
    }
    pids = profilesOf(rows);
    const seen = new Map<number, number | null>();
    for (const id of pids) {
      const lv = live.peek(id);
      if (!lv || lv.lastPosition === null || (from && !st.checkpointCounts.has(id))) return null;
      seen.set(id, lv.lastPosition);
    }
    const before = from ? new Map(pids.map((id) => [id, from.counters.get(id)!])) : profileCounters(sql, countersReads(pids));
    for (const id of pids) if (before.get(id)?.last_position !== seen.get(id)) return null;
    const base = from ? from.next! : (sql.get<{ p: number | null }>('select max(position) p from events')?.p ?? 0) + 1;
    const positions = new Array<number>(rows.length);
    const order = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      positions[i] = base + i;
      order[i] = i;
    }
    const ahead: FoldingAhead = { runs: [], accs: new Set() };
    const folded = foldEvents(st, events, rows, positions, order, before, ahead);
    const codeStates: CodeStateRow[] = [];
    const checkpoints: Ahead['checkpoints'] = new Map();
    for (const id of pids) {
      const lv = live.peek(id)!;
      if (lv.dirty.size) codeStateRows(codeStates, id, lv.view, lv.dirty);
      lv.dirty.clear();
      const at = st.checkpointCounts.get(id) ?? lastCheckpointCount(sql, id);
      if (!checkpointDue(before.get(id)!.event_count + folded.counts.get(id)!.n, at, () => viewEntries(lv.view))) continue;
      // what checkpointAppended and whyCheckpointAt write, encoded here
      const view = encodeView(lv.view, interner.codeId, lv.rows);
      const why = lv.why && lv.counts ? encodeWhyState(lv.why, interner.codeId, true) : null;
      checkpoints.set(id, { view, why, counts: why && encodeLogCounts(lv.counts!) });
    }
    return { rows, pids, base, seen, before, folded, ahead, codeStates, checkpoints };
  } catch (e) {
    // the dictionary rows' transaction failed (rolled back): the caller forgets its ids
    if (interning) throw e;
    // The live views hold part of the batch: let them go. appendBatch, under the lock, loads
    // them again and appends the batch (any error is its to give, in its transaction).
    voidAhead(st, pids);
    return null;
  } finally {
    interner.cachedOnly = false;
  }
}

/** The live views a batch folded ahead into, let go of. */
function voidAhead(st: AppendState, pids: readonly number[]): void {
  for (const id of pids) {
    st.live.drop(id);
    st.checkpointCounts.delete(id);
  }
}

/** Under the write lock: a batch folded ahead (foldAhead) written where its fold holds, else appended afresh (appendBatch). */
export function appendAhead(st: AppendState, events: readonly PreparedEvent[], a: Ahead, locked?: (sql: Sql) => void): AppendResult {
  const { sql } = st;
  sql.dialect.lock(sql, a.pids);
  locked?.(sql);
  const before = profileCounters(sql, countersReads(a.pids));
  for (const id of a.pids) {
    if (before.get(id)?.last_position !== a.seen.get(id)) {
      voidAhead(st, a.pids);
      return appendBatch(st, events, a.rows, locked);
    }
  }
  const positions = sql.dialect.insertEvents(sql, a.rows);
  if (!noteBlock(st, positions)) {
    voidAhead(st, a.pids);
    return foldInserted(st, events, a.rows, positions, before);
  }
  return writeAhead(st, a, positions[0], before);
}

/**
 * Issue 11.7: a batch folded ahead from what this connection's appends left (foldAhead's
 * `known`), written in a transaction of the Pipeline, whose commit the caller does not wait
 * for: its events at the positions it was folded at, which the transaction checks under its
 * locks (Pipeline.insertEventsAt).
 */
export function appendFolded(st: AppendState, a: Ahead): AppendResult {
  const { sql } = st;
  sql.dialect.lock(sql, a.pids);
  sql.dialect.pipeline!.insertEventsAt(sql, a.rows, a.base, a.before);
  st.after.next = a.base + a.rows.length;
  return writeAhead(st, a, a.base, a.before);
}

/** What appendAhead and appendFolded write of a batch folded ahead, its events at positions from `first` on. */
function writeAhead(st: AppendState, a: Ahead, first: number, before: Map<number, ProfileCounters>): AppendResult {
  const { sql, interner, live } = st;
  const delta = first - a.base;
  // the positions the events took
  const { result, counts, history } = a.folded;
  result.firstPosition = first;
  result.lastPosition = first + a.rows.length - 1;
  for (const c of counts.values()) c.last += delta;
  for (const h of history) h[0] += delta;
  const { runs, accs } = a.ahead;
  for (let i = 0; i < runs.length; i += 3) interner.profileRun(runs[i], runs[i + 1], runs[i + 2] + delta);
  // why's evidence at the positions folded ahead, and its states encoded ahead, are void where the events took others
  const moved = delta !== 0 && accs.size !== 0;
  if (moved) for (const acc of accs) moveEvidence(acc, a.base, delta);
  // what finishBatch writes
  sql.dialect.insertHistory(sql, history);
  sql.dialect.upsertCodeStates(sql, a.codeStates);
  for (const [id, c] of counts) live.peek(id)!.lastPosition = c.last;
  checkpointAppended(sql, counts, (id) => live.peek(id)?.view, st.checkpointCounts, interner.codeId,
    (id, position) => {
      const cp = a.checkpoints.get(id);
      if (cp?.why && !moved) writeWhyCheckpointState(sql, id, position, cp.why, cp.counts!);
      else whyCheckpointAt(sql, interner.dict, id, position, interner.codeId, live.peek(id));
    },
    before,
    (id) => live.peek(id)?.rows,
    (id) => a.checkpoints.get(id)?.view,
  );
  countAppended(st, counts, before);
  return result;
}

/**
 * Keeps in the memo a fold that kept its entry as it was, for an observation (what fold's own
 * shortcut keeps: its shape, automatic dynamic on), with where why counted it when it has a state.
 */
function remember(m: AppendMemo, lv: LiveView, ev: PreparedEvent, step: FoldStep, whyCode: CodeId | null, bodyId: number): void {
  if (step.before !== step.after || step.records.length || ev.kind !== 'shape.observed' || ev.shape === null || !ev.automaticDynamic) {
    m.view = null;
    return;
  }
  let acc: Acc | null = null;
  let slot: Carried | null = null;
  if (lv.why) {
    acc = lv.why.byCode.get(whyCode!)?.get(step.source) ?? null;
    slot = acc?.carried.get(bodyId) ?? null;
    if (!slot) {
      m.view = null;
      return;
    }
  }
  m.view = lv.view;
  m.changes = lv.view.changes;
  m.kept = step.after;
  m.why = lv.why;
  m.acc = acc;
  m.slot = slot;
}

/**
 * The memos that kept a fold's outcome, by the event they were made for but for its time and
 * run (profile, code id, source, body: what the fold and why's slot of an observation depend
 * on), kept across batches: a batch's memos are new (one per wire rest), and the first event
 * of each was folded again, ~80k of 1M lines. A carried outcome is used only under the same
 * conditions as a memo's own (the same live view, unchanged, and the same why state) and
 * within the interner generation it was keyed in (a rollback forgets ids and live views).
 */
const CARRIED_BOUND = 200_000;

const memoKey = (row: EventRow) => `${row[0]},${row[2]},${row[3]},${row[4]}`;

function carriedOf(st: AppendState): Map<string, AppendMemo> {
  const c = st.carried;
  if (c.gen !== st.interner.generation) {
    c.gen = st.interner.generation;
    c.memos.clear();
  }
  return c.memos;
}

/** Copies into `m` (new, or let go of) the outcome a memo of an earlier batch kept for the same event, where it holds. */
function carriedMemo(st: AppendState, m: AppendMemo, lv: LiveView, row: EventRow): void {
  const prev = carriedOf(st).get(memoKey(row));
  if (prev === undefined || prev === m || prev.view !== lv.view || prev.why !== lv.why || (prev.changes !== lv.view.changes && !keptSince(prev, lv.view))) return;
  m.view = prev.view;
  m.changes = prev.changes;
  m.kept = prev.kept;
  m.why = prev.why;
  m.acc = prev.acc;
  m.slot = prev.slot;
}

/**
 * A memo of the view as it is, made before the fold changed other entries of it: it holds
 * while its own entry is unchanged since (fold.ts unchangedSince), and then stands for the
 * view's changes now. Out of the per-event loop: it runs only on the events after a change.
 */
function keptSince(m: AppendMemo, view: StreamView): boolean {
  if (m.kept === null || !unchangedSince(m.kept, m.changes)) return false;
  m.changes = view.changes;
  return true;
}

/** Keeps a memo that holds a fold's outcome for the next batches' events like its own. */
function carryMemo(st: AppendState, m: AppendMemo, row: EventRow): void {
  const memos = carriedOf(st);
  if (memos.size >= CARRIED_BOUND) memos.clear();
  memos.set(memoKey(row), m);
}

/** One profile's part of a batch's fold: its report counts, event counters, last run noted, live view. */
interface BatchProfile {
  counted: LogCounts | undefined;
  c: { n: number; last: number; time: number };
  run: number | null;
  lv: LiveView | undefined;
}

/** What another writer appended since this connection folded a profile makes its live view (and checkpoint count) stale. */
export function dropIfStale(st: AppendState, id: number, lastPosition: number | null): void {
  const lv = st.live.peek(id);
  if (lv && lv.lastPosition !== lastPosition) {
    st.live.drop(id);
    st.checkpointCounts.delete(id);
  }
}

export interface ProfileCounters {
  event_count: number;
  last_position: number | null;
  last_time: number | null;
}

/** The reads of the given profiles' counters (statement, parameters), 500 profiles a read. */
function countersReads(pids: readonly number[]): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let i = 0; i < pids.length; i += 500) {
    const part = pids.slice(i, i + 500);
    out.push([`select id, event_count, last_position, last_time from profiles where id in (${part.map(() => '?').join(', ')})`, part]);
  }
  return out;
}

/** The counters of the given profiles (countersReads), read under their lock. */
function profileCounters(sql: Sql, reads: readonly [string, number[]][]): Map<number, ProfileCounters> {
  const out = new Map<number, ProfileCounters>();
  for (const [q, p] of reads) for (const r of sql.all<ProfileCounters & { id: number }>(q, ...p)) out.set(r.id, r);
  return out;
}

/**
 * The event rows an append state refills batch after batch (its appends run one after
 * another, each done with its rows when it returns): a row array per event per batch was
 * most of what the append allocated.
 */
const rowPools = new WeakMap<object, EventRow[]>();
function rowsOf(st: AppendState): EventRow[] {
  let rows = rowPools.get(st);
  if (!rows) rowPools.set(st, (rows = []));
  return rows;
}

/** Phase (a): the dictionary ids of each event of a batch, as an event row (its key the event's own); into `reuse`'s arrays when given. */
export function internBatch(st: Pick<AppendState, 'interner'>, events: readonly PreparedEvent[], reuse?: EventRow[]): EventRow[] {
  const { interner } = st;
  interner.prime(events);
  const rows: EventRow[] = reuse ?? new Array(events.length);
  if (rows.length > events.length) rows.length = events.length;
  let lastKey = '';
  let pid = 0;
  let lastOrigin: string | null | undefined;
  let origin: number | null = null;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    if (ev.cacheKey !== lastKey) {
      pid = interner.profileId(ev.cacheKey);
      lastKey = ev.cacheKey;
    }
    let bid: number, sid: number | null, rid: number | null, cid: number | null;
    const m = ev.memo;
    if (m && m.gen === interner.generation) {
      bid = m.bodyId;
      sid = m.sourceId;
      rid = m.runId;
      cid = m.codeId;
    } else {
      bid = interner.bodyId(ev.kind, ev.json);
      sid = ev.source === null ? null : interner.sourceId(ev.source);
      rid = ev.run === null ? null : interner.runId(ev.run);
      cid = ev.code ? interner.codeId(ev.code) : null;
      // a memo's events are observations (a code id each): the ids hold until the interner forgets
      if (m && cid !== null) {
        m.gen = interner.generation;
        m.bodyId = bid;
        m.sourceId = sid;
        m.runId = rid;
        m.codeId = cid;
      }
    }
    if (ev.origin !== lastOrigin) origin = interner.originId((lastOrigin = ev.origin));
    const r = rows[i];
    if (r === undefined) {
      rows[i] = [pid, ev.kind, cid, sid, bid, ev.time, rid, origin, ev.originLine, ev.compileId, ev.idem];
      continue;
    }
    r[0] = pid;
    r[1] = ev.kind;
    r[2] = cid;
    r[3] = sid;
    r[4] = bid;
    r[5] = ev.time;
    r[6] = rid;
    r[7] = origin;
    r[8] = ev.originLine;
    r[9] = ev.compileId;
    r[10] = ev.idem;
  }
  return rows;
}
/** Events whose details why's fold took (counted: an event's position taken into evidence, see FoldingAhead). */
let detailed = 0;
const noDetails = () => {
  detailed++;
};
const WHY_EVENT = {} as LeanEvent;

/** An appended event as `why`'s fold reads it (one object, refilled; the code id the dictionaries' own). */
function whyEvent(interner: Interner, ev: PreparedEvent, position: number, pid: number, bid: number, cid: number, sid: number | null, rid: number | null): LeanEvent {
  const w = WHY_EVENT;
  w.position = position;
  w.profileId = pid;
  w.bodyId = bid;
  w.codeRow = cid;
  w.sourceRow = sid;
  w.runRow = rid;
  w.kind = ev.kind;
  w.code = interner.dict.code(cid);
  w.source = ev.source!;
  w.shape = ev.shape;
  w.automaticDynamic = ev.automaticDynamic;
  w.entry = ev.entry;
  w.quiet = ev.quiet;
  w.record = ev.record;
  w.guard = ev.guard;
  w.time = ev.time;
  w.run = ev.run;
  w.origin = ev.origin;
  w.originLine = ev.originLine;
  w.compileId = ev.compileId;
  w.format = ev.format; // the body just stored holds the same: no read back, no zod
  return w;
}
