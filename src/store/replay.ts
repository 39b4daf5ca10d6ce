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
  // Where each query is a round trip (PostgreSQL), the scan reads every event's details at
  // once rather than one query for each step that gives evidence.
  const remote = sql.dialect.remote;
  const details = remote ? () => {} : eventDetails(sql, dict);
  const every = checkpointEvery();
  // each profile's part of the scan, found once an event (the log interleaves its profiles)
  const profiles: Scanned[] = [];
  // by id (rows: an array finds one fastest)
  const byId: (Scanned | undefined)[] = [];
  let p: Scanned | undefined;
  // history rows go in bulk (a round trip each on PostgreSQL)
  let pending: HistoryInsert[] = [];
  const flush = () => {
    sql.dialect.insertHistory(sql, pending);
    pending = [];
  };
  /** One event folded into its profile's view (and why's state): the records it logged. */
  const foldOne = (ev: LeanEvent, m: Unchanged | null): number => {
    const why = p!.why;
    // A body the fold found changes nothing, brought again with nothing folded in between:
    // it changes nothing again (the fold is a function of the entry and the body).
    if (m) {
      // most sources bring one body over and over: the last one found is asked first
      const known = m.lastBody === ev.bodyId ? m.lastSlot : m.bodies.get(ev.bodyId);
      if (known !== undefined) {
        m.lastBody = ev.bodyId;
        m.lastSlot = known;
        if (known) whyCount(known, ev.run);
        return 0;
      }
      m.lastBody = -1;
    }
    const step = fold(p!.view, ev);
    if (!step) return 0;
    if (why) whyStep(why.why, step, ev, KEEP_ALL, details);
    // before === after: the fold's own word that the entry stayed as it was (UpdateResult)
    const slot = why && step.before === step.after ? whySlot(why.why, step, ev.bodyId) : null;
    if (m && step.before === step.after && (slot || !why)) m.bodies.set(ev.bodyId, slot);
    else {
      const u = m ?? unchangedAt(p!, ev.codeRow!, ev.sourceRow!);
      u.bodies.clear();
      u.lastBody = -1;
    }
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
      if (p?.id !== ev.profileId) {
        p = byId[ev.profileId];
        if (!p) {
          const ex = excluded.get(ev.profileId)!;
          byId[ev.profileId] = p = { id: ev.profileId, view: emptyStream(), ex, why: ex.size === 0 ? { why: emptyWhyState(), counts: emptyLogCounts() } : undefined, n: 0, time: 0, runs: new Map(), lastRunRow: null, unchanged: [] };
          profiles.push(p);
        }
      }
      const why = p.why;
      // the run last met in the profile: its first position noted, and the report's count of runs
      if (ev.runRow !== null && ev.runRow !== p.lastRunRow) {
        p.lastRunRow = ev.runRow;
        if (!p.runs.has(ev.runRow)) p.runs.set(ev.runRow, ev.position);
        if (why) why.counts.runs.add(ev.runRow);
      }
      p.n++;
      if (ev.time > p.time) p.time = ev.time;
      const m = ev.kind === 'shape.observed' || ev.kind === 'entry.imported' ? unchangedAt(p, ev.codeRow!, ev.sourceRow!) : null;
      // addToLogCounts, with the counts of the code id and source kept (a set adds a run once)
      if (why && m) {
        const s = (m.counts ??= sourceCounts(why.counts, ev.codeRow!, ev.sourceRow!));
        s.n++;
        if (ev.runRow !== null && ev.runRow !== m.run) s.runs.add((m.run = ev.runRow));
      }
      if (ev.kind !== 'run.retracted' && !(ev.run !== null && p.ex.size !== 0 && p.ex.has(ev.run))) records += foldOne(ev, m);
      if (p.n % every === 0 && p.ex.size === 0) {
        writeCheckpoint(sql, ev.profileId, ev.position, p.n, p.time, p.view, interner.codeId);
        writeWhyCheckpoint(sql, ev.profileId, ev.position, why!.why, interner.codeId, why!.counts);
      }
    },
    dict,
  );
  flush();
  for (const q of profiles) writeCodeStates(sql, q.id, q.view, 'all');
  for (const q of profiles) for (const [rid, position] of q.runs) addProfileRun(sql, q.id, rid, position);
  return { events, profiles: profiles.length, records };
}

/** What replay keeps per profile, code id and source (their rows). */
interface Unchanged {
  /**
   * The bodies that changed nothing when last folded, since the last step that may have
   * changed the entry; each with why's count of it (null where why's state is not kept). Most
   * events of a long log are such.
   */
  bodies: Map<number, Carried | null>;
  /** The body last found in `bodies` (-1: none), and what `bodies` holds for it. */
  lastBody: number;
  lastSlot: Carried | null;
  /** The report's counts of the code id and source (log-counts.ts), and the run last added to them. */
  counts?: ReturnType<typeof sourceCounts>;
  run?: number;
}

/** What replay keeps per profile as it scans. */
interface Scanned {
  id: number;
  view: StreamView;
  /** The runs its window leaves out (a retraction); none: its checkpoints are rebuilt. */
  ex: Set<string>;
  /** why's state and the report's counts, where checkpoints are rebuilt. */
  why: { why: WhyState; counts: LogCounts } | undefined;
  /** Its events so far, and their latest time. */
  n: number;
  time: number;
  /** Its runs (rows) from their first position, and the run of its last event. */
  runs: Map<number, number>;
  lastRunRow: number | null;
  /** By code id, then source (rows: arrays find them fastest). */
  unchanged: Unchanged[][];
}

function unchangedAt(p: Scanned, codeRow: number, sourceRow: number): Unchanged {
  const bySource = (p.unchanged[codeRow] ??= []);
  return (bySource[sourceRow] ??= { bodies: new Map(), lastBody: -1, lastSlot: null });
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
