import type { Sql } from './database.ts';
import { checkpointEvery, writeCheckpoint } from './checkpoints.ts';
import { emptyStream, fold, type StreamView } from './fold.ts';
import { foldWindow } from './fold-window.ts';
import type { Interner } from './intern.ts';
import { scanEvents, type LeanEvent } from './log.ts';
import { historyRows, writeCodeStates } from './views.ts';
import type { HistoryInsert } from './dialect/dialect.ts';
import { leftOutRuns } from './window.ts';
import { writeWhyCheckpoint } from './why-checkpoints.ts';
import { emptyWhyState, eventDetails, KEEP_ALL, whyCount, whySlot, whyStep, type Carried, type WhyState } from './why-fold.ts';
import { emptyLogCounts, sourceCounts, type LogCounts } from './log-counts.ts';
import { addProfileRun } from './profile-runs.ts';

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
  // profile_runs is derived too: each profile's runs from their first position, noted as the scan meets them
  sql.run('delete from profile_runs');
  const runs = new Map<number, Map<number, number>>();
  let pidRuns: Map<number, number> | undefined;
  let lastRunRow: number | null = null;
  // why's state beside each checkpoint (why-checkpoints.ts), for the same profiles
  const whys = new Map<number, { why: WhyState; counts: LogCounts }>();
  let why: { why: WhyState; counts: LogCounts } | undefined;
  // Where each query is a round trip (PostgreSQL), the scan reads every event's details at
  // once rather than one query for each step that gives evidence.
  const remote = sql.dialect.remote;
  const details = remote ? () => {} : eventDetails(sql, dict);
  const seen = new Map<number, { n: number; time: number }>();
  const every = checkpointEvery();
  const unchanged = unchangedBodies();
  let lastPid = -1;
  let v: StreamView | undefined;
  let ex: Set<string> | undefined;
  let c: { n: number; time: number } | undefined;
  let lastRun: number | null = null;
  // history rows go in bulk (a round trip each on PostgreSQL)
  let pending: HistoryInsert[] = [];
  const flush = () => {
    sql.dialect.insertHistory(sql, pending);
    pending = [];
  };
  /** One event folded into its profile's view (and why's state): the records it logged. */
  const foldOne = (ev: LeanEvent, m: Unchanged | null): number => {
    // A body the fold found changes nothing, brought again with nothing folded in between:
    // it changes nothing again (the fold is a function of the entry and the body).
    const known = m?.bodies.get(ev.bodyId);
    if (known !== undefined) {
      if (known) whyCount(known, ev.run);
      return 0;
    }
    const step = fold(v!, ev);
    if (!step) return 0;
    if (why) whyStep(why.why, step, ev, KEEP_ALL, details);
    // before === after: the fold's own word that the entry stayed as it was (UpdateResult)
    const slot = why && step.before === step.after ? whySlot(why.why, step, ev.bodyId) : null;
    if (m && step.before === step.after && (slot || !why)) m.bodies.set(ev.bodyId, slot);
    else (m ?? unchanged.at(ev.profileId, ev.codeRow!, ev.sourceRow!)).bodies.clear();
    if (!step.records.length) return 0;
    historyRows(pending, interner, ev.position, ev.profileId, step);
    if (pending.length >= 5000) flush();
    return step.records.length;
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
        lastRun = null;
        pidRuns = runs.get(lastPid);
        if (!pidRuns) runs.set(lastPid, (pidRuns = new Map()));
        lastRunRow = null;
      }
      if (ev.runRow !== null && ev.runRow !== lastRunRow && !pidRuns!.has((lastRunRow = ev.runRow))) pidRuns!.set(ev.runRow, ev.position);
      c!.n++;
      if (ev.time > c!.time) c!.time = ev.time;
      const m = ev.kind === 'shape.observed' || ev.kind === 'entry.imported' ? unchanged.at(ev.profileId, ev.codeRow!, ev.sourceRow!) : null;
      if (why) {
        // addToLogCounts, with the counts of the code id and source kept (a set adds a run once)
        if (ev.runRow !== null && ev.runRow !== lastRun) why.counts.runs.add((lastRun = ev.runRow));
        if (m) {
          const s = (m.counts ??= sourceCounts(why.counts, ev.codeRow!, ev.sourceRow!));
          s.n++;
          if (ev.runRow !== null && ev.runRow !== m.run) s.runs.add((m.run = ev.runRow));
        }
      }
      if (ev.kind !== 'run.retracted' && !(ev.run !== null && ex?.has(ev.run))) records += foldOne(ev, m);
      if (c!.n % every === 0 && ex!.size === 0) {
        writeCheckpoint(sql, ev.profileId, ev.position, c!.n, c!.time, v!, interner.codeId);
        writeWhyCheckpoint(sql, ev.profileId, ev.position, why!.why, interner.codeId, why!.counts);
      }
    },
    dict,
  );
  flush();
  for (const [pid, view] of views) writeCodeStates(sql, pid, view, 'all');
  for (const [pid, m] of runs) for (const [rid, position] of m) addProfileRun(sql, pid, rid, position);
  return { events, profiles: views.size, records };
}

/** What replay keeps per profile, code id and source (their rows). */
interface Unchanged {
  /**
   * The bodies that changed nothing when last folded, since the last step that may have
   * changed the entry; each with why's count of it (null where why's state is not kept). Most
   * events of a long log are such.
   */
  bodies: Map<number, Carried | null>;
  /** The report's counts of the code id and source (log-counts.ts), and the run last added to them. */
  counts?: ReturnType<typeof sourceCounts>;
  run?: number;
}

function unchangedBodies() {
  const byProfile = new Map<number, Map<number, Map<number, Unchanged>>>();
  return {
    at(pid: number, codeRow: number, sourceRow: number): Unchanged {
      let byCode = byProfile.get(pid);
      if (!byCode) byProfile.set(pid, (byCode = new Map()));
      let bySource = byCode.get(codeRow);
      if (!bySource) byCode.set(codeRow, (bySource = new Map()));
      let m = bySource.get(sourceRow);
      if (!m) bySource.set(sourceRow, (m = { bodies: new Map() }));
      return m;
    },
  };
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
