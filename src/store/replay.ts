import type { Sql } from './database.ts';
import { checkpointEvery, writeCheckpoint } from './checkpoints.ts';
import { emptyStream, fold, type StreamView } from './fold.ts';
import { foldWindow } from './fold-window.ts';
import type { Interner } from './intern.ts';
import { scanEvents } from './log.ts';
import { historyRows, writeCodeStates } from './views.ts';
import type { HistoryInsert } from './dialect/dialect.ts';
import { leftOutRuns } from './window.ts';
import { writeWhyCheckpoint } from './why-checkpoints.ts';
import { emptyWhyState, eventDetails, KEEP_ALL, whyStep, type WhyState } from './why-fold.ts';
import { addToLogCounts, emptyLogCounts, type LogCounts } from './log-counts.ts';

/**
 * Replay: the stored views rebuilt from the log. Runs inside the caller's write transaction.
 * The whole log: every profile's code states, history and checkpoints.
 */
export function replayAll(sql: Sql, interner: Interner, onProgress?: (events: number) => void): { events: number; profiles: number; records: number } {
  const dict = interner.dict;
  let records = 0;
  const views = new Map<number, StreamView>();
  sql.run('delete from history');
  sql.run('delete from code_states');
  // Older versions could pin the live views to a what-if; the views now always fold the whole log.
  sql.run("delete from meta where key = 'views'");
  const excluded = new Map<number, Set<string>>();
  for (const r of sql.allRaw('select id from profiles')) excluded.set(r[0] as number, leftOutRuns(sql, r[0] as number, {}, dict));
  // Checkpoints are rebuilt for profiles whose whole-log fold equals every prefix's fold (no
  // retraction); the others fold from the start when asked as of a point.
  sql.run('delete from checkpoints');
  sql.run('delete from why_checkpoints');
  // why's state beside each checkpoint (why-checkpoints.ts), for the same profiles
  const whys = new Map<number, { why: WhyState; counts: LogCounts }>();
  let why: { why: WhyState; counts: LogCounts } | undefined;
  // Where each query is a round trip (PostgreSQL), the scan reads every event's details at
  // once rather than one query for each step that gives evidence.
  const remote = sql.dialect.remote;
  const details = remote ? () => {} : eventDetails(sql, dict);
  const seen = new Map<number, { n: number; time: number }>();
  const every = checkpointEvery();
  let lastPid = -1;
  let v: StreamView | undefined;
  let ex: Set<string> | undefined;
  let c: { n: number; time: number } | undefined;
  // history rows go in bulk (a round trip each on PostgreSQL)
  let pending: HistoryInsert[] = [];
  const flush = () => {
    sql.dialect.insertHistory(sql, pending);
    pending = [];
  };
  const events = scanEvents(
    sql,
    remote ? { details: true } : { withTime: true },
    (ev) => {
      if (onProgress && ev.position % 50000 === 0) onProgress(ev.position);
      if (ev.profileId !== lastPid) {
        lastPid = ev.profileId;
        v = views.get(lastPid);
        if (!v) views.set(lastPid, (v = emptyStream()));
        ex = excluded.get(lastPid);
        why = whys.get(lastPid);
        if (!why && ex!.size === 0) whys.set(lastPid, (why = { why: emptyWhyState(), counts: emptyLogCounts() }));
        c = seen.get(lastPid);
        if (!c) seen.set(lastPid, (c = { n: 0, time: 0 }));
      }
      c!.n++;
      if (ev.time > c!.time) c!.time = ev.time;
      if (why) addToLogCounts(why.counts, ev.codeRow, ev.sourceRow, ev.runRow, ev.kind);
      if (ev.kind !== 'run.retracted' && !(ev.run !== null && ex?.has(ev.run))) {
        const step = fold(v!, ev);
        if (step && why) whyStep(why.why, step, ev, KEEP_ALL, details);
        if (step?.records.length) {
          records += step.records.length;
          historyRows(pending, interner, ev.position, ev.profileId, step);
          if (pending.length >= 5000) flush();
        }
      }
      if (c!.n % every === 0 && ex!.size === 0) {
        writeCheckpoint(sql, ev.profileId, ev.position, c!.n, c!.time, v!, interner.codeId);
        writeWhyCheckpoint(sql, ev.profileId, ev.position, why!.why, interner.codeId, why!.counts);
      }
    },
    dict,
  );
  flush();
  for (const [pid, view] of views) writeCodeStates(sql, pid, view, 'all');
  return { events, profiles: views.size, records };
}

/** One profile's stored views rebuilt from its events (after a retraction). */
export function replayProfile(sql: Sql, interner: Interner, pid: number): void {
  sql.run('delete from history where profile_id = ?', pid);
  sql.run('delete from code_states where profile_id = ?', pid);
  const pending: HistoryInsert[] = [];
  const view = foldWindow(sql, interner.dict, pid, {}, (step, ev) => historyRows(pending, interner, ev.position, pid, step));
  sql.dialect.insertHistory(sql, pending);
  writeCodeStates(sql, pid, view, 'all');
}
