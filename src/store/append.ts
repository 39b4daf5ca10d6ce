import type { CodeId } from '../model/code-id.ts';
import type { Sql } from './database.ts';
import { checkpointAppended } from './checkpoints.ts';
import { fold } from './fold.ts';
import { hash53 } from './hash53.ts';
import type { Interner } from './intern.ts';
import type { PreparedEvent } from './prepare-event.ts';
import { replayProfile } from './replay.ts';
import { whyCheckpointAt } from './why-checkpoints.ts';
import { addToLogCounts } from './log-counts.ts';
import { KEEP_ALL, whyStep } from './why-fold.ts';
import type { LeanEvent } from './log.ts';
import { insertHistory, writeCodeStates, type LiveViews } from './views.ts';

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
}

/**
 * Appending: one batch of prepared events, inside the caller's write transaction. Each event
 * is inserted once (its idempotency key decides; a true duplicate is the whole event again,
 * anything else a collision that moves to the next key of a fixed chain), folded into its
 * profile's live view with PyTorch's rules, and its records written to the history. A
 * retraction rebuilds its profile's views instead. Then the touched code states, checkpoints
 * and profile counters are written.
 */
export function appendBatch(st: AppendState, events: readonly PreparedEvent[]): AppendResult {
  const { sql, interner, live } = st;
  const result: AppendResult = { appended: 0, duplicates: 0, records: 0, firstPosition: null, lastPosition: null };
  const refolds = new Set<number>();
  const counts = new Map<number, { n: number; last: number; time: number }>();
  let lastKey = '';
  let pid = 0;
  let lastOrigin: string | null | undefined;
  let origin: number | null = null;
  const insert = sql.statement(
    `insert or ignore into events(profile_id, kind, code_id, source_id, body_id, time, run_id, origin_id, origin_line, compile_id, idempotency_key)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const idemCheck = (key: number) =>
    sql.get<{ profile_id: number; kind: string; body_id: number; run_id: number | null; origin_line: number | null; code_id: number | null; source_id: number | null; time: number }>(
      'select profile_id, kind, body_id, run_id, origin_line, code_id, source_id, time from events where idempotency_key = ?',
      key,
    );
  for (const ev of events) {
    if (ev.cacheKey !== lastKey) {
      pid = interner.profileId(ev.cacheKey);
      lastKey = ev.cacheKey;
    }
    const bid = interner.bodyId(ev.kind, ev.json);
    const sid = ev.source === null ? null : interner.sourceId(ev.source);
    const rid = ev.run === null ? null : interner.runId(ev.run);
    const cid = ev.code ? interner.codeId(ev.code) : null;
    if (ev.origin !== lastOrigin) origin = interner.originId((lastOrigin = ev.origin));
    let key = ev.idem;
    let position = 0;
    for (let seed = 1; ; seed++) {
      const r = insert.run(pid, ev.kind, cid, sid, bid, ev.time, rid, origin, ev.originLine, ev.compileId, key);
      if (r.changes === 1) {
        position = r.lastInsertRowid;
        break;
      }
      const prev = idemCheck(key)!;
      // Issue 9.1: a duplicate is the whole event again (time and line in its input
      // included), never a partial match; anything else is a collision.
      const same =
        prev.profile_id === pid && prev.kind === ev.kind && prev.run_id === rid && prev.code_id === cid && prev.source_id === sid && prev.body_id === bid && (prev.origin_line ?? null) === ev.originLine && (!ev.keyedTime || prev.time === ev.time);
      if (same) break; // ingested before: adds nothing
      key = hash53(String(key), seed); // a hash collision: the next key of a fixed chain
    }
    if (position === 0) {
      result.duplicates++;
      continue;
    }
    result.appended++;
    result.firstPosition ??= position;
    result.lastPosition = position;
    const counted = live.peek(pid)?.counts;
    if (counted) addToLogCounts(counted, cid, sid, rid, ev.kind);
    let c = counts.get(pid);
    if (!c) counts.set(pid, (c = { n: 0, last: 0, time: 0 }));
    c.n++;
    c.last = position;
    if (ev.time > c.time) c.time = ev.time;
    if (ev.kind === 'run.retracted') {
      refolds.add(pid);
      continue;
    }
    if (refolds.has(pid)) continue;
    const lv = live.get(pid);
    if (ev.run !== null && lv.retracted.has(ev.run)) continue;
    const step = fold(lv.view, ev as PreparedEvent & { code: CodeId; source: string });
    if (!step) continue; // evidence only (shape.described)
    lv.dirty.add(step.codeSeq);
    if (lv.why) whyStep(lv.why, step, whyEvent(interner, ev, position, pid, bid, cid!, sid, rid), KEEP_ALL, noDetails);
    if (step.records.length) {
      result.records += step.records.length;
      insertHistory(sql, interner, position, pid, step);
    }
  }
  for (const [id, lv] of live.entries()) {
    if (lv.dirty.size && !refolds.has(id)) writeCodeStates(sql, id, lv.view, lv.dirty);
    lv.dirty.clear();
  }
  checkpointAppended(sql, counts, (id) => (refolds.has(id) ? undefined : live.peek(id)?.view), st.checkpointCounts, interner.codeId, (id, position) =>
    whyCheckpointAt(sql, interner.dict, id, position, interner.codeId, live.peek(id)),
  );
  for (const id of refolds) {
    replayProfile(sql, interner, id);
    live.drop(id);
  }
  for (const [id, c] of counts) {
    sql.run('update profiles set event_count = event_count + ?, last_position = ?, last_time = max(coalesce(last_time, 0), ?) where id = ?', c.n, c.last, c.time, id);
  }
  return result;
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
  w.format = ev.kind === 'entry.imported' ? interner.dict.body(bid).format : null;
  return w;
}
