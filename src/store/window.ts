import { inputError } from '../errors.ts';
import { isIsoTime, parseUtcTime } from '../model/utc-time.ts';
import type { Sql } from './database.ts';
import type { Dictionaries } from './log.ts';

/**
 * Which events an answer folds: THE window rule. Every read (the live views, `show --as-of`,
 * `history`, `why`, `diff`, `export`, `publish`, `report`, `verify`, replay) asks this module.
 *
 * An event is in the window when its position is at most `untilPosition` and its time at most
 * `untilTime` (each when given). A `run.retracted` event is an event like any other: it counts
 * only when it is itself in the window, and then it leaves out every event of its run (a run is
 * retracted whole). `excludeRuns` leaves runs out as a what-if. So a time and a position that
 * name the same point fold the same events, retractions included.
 */
export interface Window {
  /** Last position included. */
  untilPosition?: number;
  /** Last event time (ms since the epoch) included. */
  untilTime?: number;
  /** Runs left out, as if never ingested. */
  excludeRuns?: readonly string[];
}

export const WHOLE_LOG: Window = Object.freeze({});

export function isWholeLog(w: Window): boolean {
  return w.untilPosition === undefined && w.untilTime === undefined && !(w.excludeRuns && w.excludeRuns.length);
}

/** The position and time part of the rule (runs are `leftOutRuns`). */
export function inWindow(w: Window, position: number, time: number): boolean {
  return (w.untilPosition === undefined || position <= w.untilPosition) && (w.untilTime === undefined || time <= w.untilTime);
}

/**
 * inWindow as an SQL test on the events table's `position` and `time`, with its arguments: for
 * counts the database makes (log-counts.ts). `1 = 1` for a window with no point.
 */
export function inWindowSql(w: Window): { test: string; args: number[] } {
  const test: string[] = [];
  const args: number[] = [];
  if (w.untilPosition !== undefined) {
    test.push('position <= ?');
    args.push(w.untilPosition);
  }
  if (w.untilTime !== undefined) {
    test.push('time <= ?');
    args.push(w.untilTime);
  }
  return { test: test.length ? test.join(' and ') : '1 = 1', args };
}

/** The runs whose events the window leaves out: its excluded runs and those retracted inside it. */
export function leftOutRuns(sql: Sql, profileId: number, w: Window, dict: Dictionaries): Set<string> {
  const out = new Set<string>(w.excludeRuns ?? []);
  for (const r of retractionsIn(sql, profileId, w, dict)) out.add(r.run);
  return out;
}

/** Whether a window's fold takes an event, given its leftOutRuns: a retraction folds nothing, and a run left out none of its events. */
export function windowFolds(ev: { kind: string; run: string | null }, leftOut: ReadonlySet<string>): boolean {
  return ev.kind !== 'run.retracted' && (ev.run === null || !leftOut.has(ev.run));
}

/** The profile's `run.retracted` events inside the window, in position order. */
export function retractionsIn(sql: Sql, profileId: number, w: Window, dict: Dictionaries): { run: string; position: number; time: number; reason: string | null }[] {
  const rows = sql.allRaw("select position, time, body_id from events where profile_id = ? and kind = 'run.retracted' order by position", profileId);
  const out: { run: string; position: number; time: number; reason: string | null }[] = [];
  for (const r of rows) {
    const position = Number(r[0]);
    const time = Number(r[1]);
    const body = dict.body(r[2] as number).stored as { run: string; reason?: string };
    if (inWindow(w, position, time)) out.push({ run: body.run, position, time, reason: body.reason ?? null });
  }
  return out;
}

/**
 * The first event of a profile (in position order) that window `a` folds and `b` does not, by
 * position and time (runs aside), or null when `a` lies within `b`. A position and a time need
 * not nest: events come out of time order (ranks, late files), so the window up to a time can
 * hold a position past another window's. Two points of one kind always nest.
 */
export function firstOutside(sql: Sql, profileId: number, a: Window, b: Window): { position: number; time: number } | null {
  const args: unknown[] = [profileId];
  const inA = ['profile_id = ?'];
  const outB: string[] = [];
  const bound = (into: string[], test: string, value: number | undefined) => {
    if (value === undefined) return;
    into.push(test);
    args.push(value);
  };
  bound(inA, 'position <= ?', a.untilPosition);
  bound(inA, 'time <= ?', a.untilTime);
  bound(outB, 'position > ?', b.untilPosition);
  bound(outB, 'time > ?', b.untilTime);
  if (!outB.length) return null;
  const row = sql.allRaw(`select position, time from events where ${inA.join(' and ')} and (${outB.join(' or ')}) order by position limit 1`, ...args)[0];
  return row ? { position: row[0] as number, time: row[1] as number } : null;
}

/** A point in the log: a position, or a time. */
export interface Point {
  position?: number;
  time?: number;
}

/** `--as-of`, `--from`, `--to`: a log position (a whole number) or an ISO 8601 time. */
export function parsePoint(s: string): Point {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw inputError(`${s}: a log position past 2**53`);
    return { position: n };
  }
  if (/^-\d+$/.test(s)) throw inputError(`${s}: a log position is 0 or more`);
  if (!isIsoTime(s)) {
    throw inputError(`${JSON.stringify(s)} is neither a log position nor an ISO 8601 time`);
  }
  const t = parseUtcTime(s);
  if (!Number.isFinite(t)) throw inputError(`${JSON.stringify(s)} is not a valid time`);
  return { time: t };
}
