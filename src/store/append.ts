import { codeKey, type CodeId } from '../model/code-id.ts';
import type { Sql } from './database.ts';
import { checkpointAppended } from './checkpoints.ts';
import { fold, type FoldStep } from './fold.ts';
import { hash53 } from './hash53.ts';
import type { Interner } from './intern.ts';
import type { AppendMemo, PreparedEvent } from './prepare-event.ts';
import { replayProfile } from './replay.ts';
import { whyCheckpointAt } from './why-checkpoints.ts';
import { addToLogCounts, sourceCounts, type LogCounts } from './log-counts.ts';
import { KEEP_ALL, whyCount, whyCountingAcc, whyStep, type Acc, type Carried } from './why-fold.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import type { LeanEvent } from './log.ts';
import { historyRows, writeCodeStates, type LiveView, type LiveViews } from './views.ts';
import type { EventRow, HistoryInsert } from './dialect/dialect.ts';

export interface AppendResult {
  appended: number;
  duplicates: number;
  records: number;
  firstPosition: number | null;
  lastPosition: number | null;
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
export function appendBatch(st: AppendState, events: readonly PreparedEvent[], interned?: EventRow[]): AppendResult {
  const { sql, interner, live } = st;
  const { dialect } = sql;
  const result: AppendResult = { appended: 0, duplicates: 0, records: 0, firstPosition: null, lastPosition: null };
  // (a) ids (the caller may have interned them already: Dialect.internFirst)
  const rows = interned ?? internBatch(st, events, rowsOf(st));
  const pids = [...new Set(rows.map((r) => r[0]))];
  dialect.lock(sql, pids);
  // The counters are read under the lock; on PostgreSQL their answer comes back with the
  // insert's (Dialect.ask): one round trip less a batch. The insert changes no counter.
  const counters = countersReads(pids);
  if (dialect.ask) for (const [q, p] of counters) dialect.ask(sql, q, p);
  // (b) the bulk insert
  const positions = dialect.insertEvents(sql, rows);
  const before = profileCounters(sql, counters);
  for (const id of pids) dropIfStale(st, id, before.get(id)?.last_position ?? null);
  // (c) duplicates and collisions
  const reordered = positions.includes(0) && placeSkipped(sql, events, rows, positions);
  // (d) the fold, in position order
  let order: number[] = [];
  for (let i = 0; i < positions.length; i++) if (positions[i] !== 0) order.push(i);
  if (reordered) order = order.sort((a, b) => positions[a] - positions[b]);
  result.duplicates = events.length - order.length;
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
    if (row[6] !== null && row[6] !== p.run) interner.profileRun(id, (p.run = row[6]), position);
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
    if (ev.run !== null && lv.retracted.size !== 0 && lv.retracted.has(ev.run)) continue;
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
      hit = held && changes && why;
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
      if (lv.why && acc === null) whyStep(lv.why, step, whyEvent(interner, ev, position, id, row[4], row[2]!, row[3], row[6]), KEEP_ALL, noDetails);
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
  finishBatch(st, history, counts, refolds, before);
  return result;
}

/**
 * Phase (c): each skipped event (its key taken) checked: a true duplicate is the whole event
 * again and keeps position 0; anything else is a collision, inserted under the next key of a
 * fixed chain. True when one was (its position then is out of the batch's order). Kept out of
 * appendBatch (it rarely runs), as the end of a batch is: the smaller the function of the
 * per-event loop, the less each of its compiles costs.
 */
function placeSkipped(sql: Sql, events: readonly PreparedEvent[], rows: EventRow[], positions: number[]): boolean {
  const idemCheck = (key: number) =>
    sql.get<{ profile_id: number; kind: string; body_id: number; run_id: number | null; origin_line: number | null; code_id: number | null; source_id: number | null; time: number }>(
      'select profile_id, kind, body_id, run_id, origin_line, code_id, source_id, time from events where idempotency_key = ?',
      key,
    );
  let reordered = false;
  for (let i = 0; i < rows.length; i++) {
    if (positions[i] !== 0) continue;
    const row = rows[i];
    const ev = events[i];
    for (let seed = 1; ; seed++) {
      const prev = idemCheck(row[10])!;
      // Issue 9.1: a duplicate is the whole event again (time and line in its input
      // included), never a partial match; anything else is a collision.
      const same =
        prev.profile_id === row[0] && prev.kind === ev.kind && prev.run_id === row[6] && prev.code_id === row[2] && prev.source_id === row[3] && prev.body_id === row[4] && (prev.origin_line ?? null) === ev.originLine && (!ev.keyedTime || prev.time === ev.time);
      if (same) break; // ingested before: adds nothing
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
  for (const [id, c] of counts) {
    sql.run('update profiles set event_count = event_count + ?, last_position = ?, last_time = case when coalesce(last_time, 0) > ? then last_time else ? end where id = ?', c.n, c.last, c.time, c.time, id);
  }
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
  if (prev === undefined || prev === m || prev.view !== lv.view || prev.changes !== lv.view.changes || prev.why !== lv.why) return;
  m.view = prev.view;
  m.changes = prev.changes;
  m.kept = prev.kept;
  m.why = prev.why;
  m.acc = prev.acc;
  m.slot = prev.slot;
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
const noDetails = () => {};
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
