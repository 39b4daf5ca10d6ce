import { entryToJson } from '../codecs/entry-json.ts';
import type { Ledger } from './ledger.ts';
import { emptyStream, fold, type StreamView } from './fold.ts';
import { checkpointPositions, decodeView } from './checkpoints.ts';
import { dictionaries, scanEvents } from './log.ts';
import { DamageError, missingTables, tablesMissing } from './damage.ts';
import { checkWhyCheckpoint, verifyWhyCheckpoints, whyCheckpointPositions, whyCountsDiffer } from './why-checkpoints.ts';
import { profileRunsDiffer, verifyProfileRuns } from './profile-runs.ts';
import { emptyWhyState, KEEP_ALL, whyCount, whySlot, whyStep, type Carried } from './why-fold.ts';
import { addToLogCounts, emptyLogCounts, logCountsText } from './log-counts.ts';
import type { FoldStep } from './fold.ts';
import type { LeanEvent } from './log.ts';
import { eventsOutsideSpans, spansWithoutEnds } from './profile-spans.ts';
import { counted } from '../counted.ts';
import { retractionsIn, windowFolds } from './window.ts';

export interface VerifyResult {
  profiles: number;
  /** Each difference as a line of text (a profile's starts with its cache key). */
  differences: string[];
  /** The same, by profile: `cacheKey` null for the file's own (damage, event rows amiss). */
  found: VerifyDifference[];
}

export interface VerifyDifference {
  cacheKey: string | null;
  /** What differs, without the cache key. */
  text: string;
}

/** A view as rows of JSON (code states in order), for comparing views. */
export function viewRows(v: StreamView): string[] {
  return [...v.profile.codes].map(([key, { id, state }]) =>
    JSON.stringify([v.codeSeq.get(key), id, [...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])], (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)),
  );
}

/** Folds the whole log afresh and lists every difference from the stored views. */
export function verifyLedger(ledger: Ledger): VerifyResult {
  const differences: string[] = [];
  // A table gone: said with what repairs it (the statements below would meet it one by one,
  // each pointing back at verify)
  const missing = missingTables(ledger.sql.dialect.tables(ledger.sql));
  if (missing.length) throw tablesMissing(ledger.path, missing);
  // The file itself first: damage a fold never meets (a free page, an index) is damage all the same.
  let check: string[];
  try {
    check = ledger.sql.dialect.integrityCheck(ledger.sql);
  } catch (e) {
    check = [e instanceof DamageError ? (e.cause as Error).message : (e as Error).message];
  }
  if (check.length !== 1 || check[0] !== 'ok') {
    for (const c of check) differences.push(`damaged: ${c}`);
    return { profiles: 0, differences, found: differences.map((text) => ({ cacheKey: null, text })) };
  }
  const found: VerifyDifference[] = [];
  // what was said since `from`, as of one profile's (its key taken off the text) or the file's
  const owned = (from: number, cacheKey: string | null) => {
    for (const text of differences.slice(from)) found.push({ cacheKey, text: cacheKey !== null && text.startsWith(`${cacheKey}: `) ? text.slice(cacheKey.length + 2) : text });
  };
  const amiss = eventRowsAmiss(ledger);
  for (const r of amiss) differences.push(r);
  owned(0, null);
  const profiles = ledger.profiles();
  // every event in a span of its profile, else the profile's reads (verify's own too) miss it
  const keys = new Map(profiles.map((p) => [p.id, p.cacheKey]));
  for (const o of eventsOutsideSpans(ledger.sql)) {
    const from = differences.length;
    differences.push(`${keys.get(o.profileId) ?? `profile ${o.profileId}`}: ${counted(o.n, 'event')} in no span of the profile (profile_spans), the first at position ${o.first}: its reads miss them (run pgo-ledger replay)`);
    owned(from, keys.get(o.profileId) ?? null);
  }
  for (const o of spansWithoutEnds(ledger.sql)) {
    const from = differences.length;
    differences.push(`${keys.get(o.profileId) ?? `profile ${o.profileId}`}: ${counted(o.n, 'span')} of the profile (profile_spans) begin or end at no event of it, the first from position ${o.first} (run pgo-ledger replay)`);
    owned(from, keys.get(o.profileId) ?? null);
  }
  for (const p of profiles) {
    const from = differences.length;
    try {
      // (an event row amiss: its `kind` column may say other than the fold reads, which the
      // counts and the retraction rule take from the column: each check then reads as its own)
      verifyProfile(ledger, p, differences, amiss.length === 0);
    } catch (e) {
      if (!(e instanceof DamageError)) throw e;
      differences.push(`${p.cacheKey}: ${e.message.replace(/; run `pgo-ledger verify.*$/s, '')}`);
    }
    owned(from, p.cacheKey);
  }
  return { profiles: profiles.length, differences, found };
}

/**
 * Event rows whose own columns a fold never reads, but SQL does: `kind` (the window rule finds
 * retractions by it; the fold takes the body's) and `time` (--as-of, windows). SQLite keeps
 * whatever a column is given: a time of text is no time (`time + 0` is 0 for text and blobs
 * there, and the time itself for any number, on both backends).
 */
function eventRowsAmiss(ledger: Ledger): string[] {
  // (an event whose body is missing is named by its profile's fold)
  const rows = ledger.sql.all<{ position: number; kind: string; body_kind: string; time: unknown }>(
    `select e.position, e.kind, b.kind as body_kind, e.time from events e join bodies b on b.id = e.body_id
     where e.kind <> b.kind or not (e.time = e.time + 0) order by e.position limit 6`,
  );
  const out = rows.slice(0, 5).map((r) =>
    r.kind !== r.body_kind ? `event at position ${r.position}: kind ${JSON.stringify(r.kind)}, but its body's kind is ${r.body_kind}`
    : `event at position ${r.position}: time ${JSON.stringify(String(r.time))} is not a number`,
  );
  if (rows.length > 5) out.push('(more event rows like these: only the first 5 are named)');
  return out;
}

function verifyProfile(ledger: Ledger, p: ReturnType<Ledger['profiles']>[number], differences: string[], onePass: boolean): void {
  if (onePass) {
    if (!ledger.sql.get("select 1 from events where profile_id = ? and kind = 'run.retracted' limit 1", p.id)) verifyInOnePass(ledger, p, differences);
    else verifyByStretches(ledger, p, differences);
    return;
  }
  const fresh: string[] = [];
  const view = ledger.fold(p.id, {}, (step, ev) => fresh.push(...historyTexts(step, ev)));
  differences.push(...viewsDiffer(ledger, p, view, fresh));
  differences.push(...verifyCheckpoints(ledger, p.id, p.cacheKey));
  differences.push(...verifyWhyCheckpoints(ledger.sql, dictionaries(ledger.sql), p.id, p.cacheKey));
  differences.push(...verifyProfileRuns(ledger.sql, p.id, p.cacheKey));
}

/** A fold step's history records, as verify compares them. */
function historyTexts(step: FoldStep, ev: LeanEvent): string[] {
  return step.records.map((r) => JSON.stringify([ev.position, step.codeSeq, r.name, String(r.dim_changed), r.reason, r.cached, r.new]));
}

/** The profile's stored code states and history against the log's fold (`view`, and `fresh`: its records as historyTexts). */
function viewsDiffer(ledger: Ledger, p: ReturnType<Ledger['profiles']>[number], view: StreamView, fresh: string[]): string[] {
  const out: string[] = [];
  // by the code's sequence number, not the row's place: one row missing is one difference, not
  // one for every row after it (trial s24: a deleted row read as 7)
  const bySeq = (rows: string[]) => new Map(rows.map((r) => [Number(/^\[(\d+),/.exec(r)?.[1] ?? -1), r]));
  const want = bySeq(viewRows(view));
  const have = bySeq(viewRows(ledger.view(p.id)));
  for (const seq of [...new Set([...want.keys(), ...have.keys()])].sort((a, b) => a - b)) {
    if (want.get(seq) !== have.get(seq)) out.push(`${p.cacheKey}: code state ${seq}: stored ${have.get(seq) ?? '(none)'}, log folds to ${want.get(seq) ?? '(none)'}`);
  }
  const stored = ledger
    .history(p.id)
    .map((h) => JSON.stringify([h.position, h.codeSeq, h.name, String(h.dim_changed), h.reason, h.cached, h.new]));
  for (let i = 0; i < Math.max(fresh.length, stored.length); i++) {
    if (fresh[i] !== stored[i]) {
      out.push(`${p.cacheKey}: history record ${i}: stored ${stored[i] ?? '(none)'}, log folds to ${fresh[i] ?? '(none)'}`);
      break;
    }
  }
  return out;
}

/**
 * A profile with no retraction (every prefix folds alike) checked in one scan of its events:
 * the checks verifyProfile makes with a scan each (the fold and its history, the checkpoints,
 * why's state and the report's counts at each why-checkpoint, the runs' first positions), made
 * as the one fold passes each position, and said in the same words and order. Where an event
 * row is amiss (eventRowsAmiss) verifyProfile reads each as its own, as the counts and the
 * retraction rule read the rows' `kind`, which this scan takes from the body.
 */
function verifyInOnePass(ledger: Ledger, p: ReturnType<Ledger['profiles']>[number], differences: string[]): void {
  const sql = ledger.sql;
  const dict = dictionaries(sql);
  const cps = checkpointPositions(sql, p.id);
  const whys = whyCheckpointPositions(sql, p.id);
  const view = emptyStream();
  const fresh: string[] = [];
  const cpOut: string[] = [];
  const compareCp = checkpointCompare(ledger, p.id, p.cacheKey, dict, cpOut);
  const upTo = upToCounter();
  const st = emptyWhyState();
  const counts = emptyLogCounts();
  const countsOut: string[] = [];
  const whyOut: string[] = [];
  const firstOfRun = new Map<string, number>();
  const why = whys.length > 0;
  const foldOne = shortcutFold(view, st, why, fresh);
  let nextCp = 0;
  let nextWhy = 0;
  let nextCount = 0;
  const countsAt = (pos: number) => {
    const d = whyCountsDiffer(sql, p.id, p.cacheKey, pos, logCountsText(counts));
    if (d) countsOut.push(d);
  };
  scanEvents(
    sql,
    { profileId: p.id, details: true },
    (ev) => {
      // the counts at a why-checkpoint: the log up to it, whether or not an event is there
      while (nextCount < whys.length && whys[nextCount] < ev.position) countsAt(whys[nextCount++]);
      addToLogCounts(counts, ev.codeRow, ev.sourceRow, ev.runRow, ev.kind);
      if (ev.run !== null && !firstOfRun.has(ev.run)) firstOfRun.set(ev.run, ev.position);
      foldOne(ev);
      upTo.add(ev.time);
      if (ev.position === cps[nextCp]) compareCp(cps[nextCp++], view, upTo);
      if (ev.position === whys[nextWhy]) checkWhyCheckpoint(sql, dict, p.id, p.cacheKey, whys[nextWhy++], st, whyOut);
    },
    dict,
  );
  while (nextCount < whys.length) countsAt(whys[nextCount++]);
  for (; nextCp < cps.length; nextCp++) cpOut.push(`${p.cacheKey}: checkpoint at ${cps[nextCp]} names no event of the profile`);
  for (; nextWhy < whys.length; nextWhy++) whyOut.push(`${p.cacheKey}: why-checkpoint at ${whys[nextWhy]} names no event of the profile`);
  differences.push(...viewsDiffer(ledger, p, view, fresh));
  differences.push(...cpOut, ...countsOut, ...whyOut);
  differences.push(...profileRunsDiffer(sql, p.id, p.cacheKey, firstOfRun));
}

/**
 * A profile with retractions, checked as verifyProfile checks it a check a scan (the same
 * words, order and positions), in one scan for each stretch between two retractions that holds
 * a checkpoint or why-checkpoint, and one of the whole log: a retraction leaves its run out of
 * every answer whose window holds it, the run's events before it included, so the log folded
 * to a position is the fold without the runs retracted at or before it. Each stretch's scan
 * folds from the start without those runs and compares the checkpoints in the stretch as it
 * passes each one's position (the log folded to it, whether or not an event of the profile is
 * there, as ledger.fold and whyFold fold to it); the whole log's, without every retracted run,
 * gives the view and its history, and counts every event for the report's counts and the runs'
 * first positions. Before, each checkpoint and why-checkpoint folded the log afresh.
 */
function verifyByStretches(ledger: Ledger, p: ReturnType<Ledger['profiles']>[number], differences: string[]): void {
  const sql = ledger.sql;
  const dict = dictionaries(sql);
  const cps = checkpointPositions(sql, p.id);
  const whys = whyCheckpointPositions(sql, p.id);
  const retractions = retractionsIn(sql, p.id, {}, dict);
  const cpOut: string[] = [];
  const whyOut: string[] = [];
  const countsOut: string[] = [];
  const compareCp = checkpointCompare(ledger, p.id, p.cacheKey, dict, cpOut);
  const excluded = new Set<string>();
  let view = emptyStream();
  const fresh: string[] = [];
  const counts = emptyLogCounts();
  const firstOfRun = new Map<string, number>();
  let nextCount = 0;
  const countsAt = (pos: number) => {
    const d = whyCountsDiffer(sql, p.id, p.cacheKey, pos, logCountsText(counts));
    if (d) countsOut.push(d);
  };
  for (let k = 0; k <= retractions.length; k++) {
    if (k > 0) excluded.add(retractions[k - 1].run);
    // the checks at positions from this retraction (the first: from the start) to the next
    const from = k > 0 ? retractions[k - 1].position : -Infinity;
    const to = k < retractions.length ? retractions[k].position : Infinity;
    const whole = k === retractions.length;
    const cpHere = cps.filter((x) => x >= from && x < to);
    const whyHere = whys.filter((x) => x >= from && x < to);
    if (!whole && !cpHere.length && !whyHere.length) continue;
    view = emptyStream();
    const st = emptyWhyState();
    const why = whyHere.length > 0;
    const foldOne = shortcutFold(view, st, why, whole ? fresh : null);
    const upTo = upToCounter();
    let nextCp = 0;
    let nextWhy = 0;
    // the checks at positions before `pos`: the log folded to them is the fold so far
    const checkBefore = (pos: number) => {
      while (nextCp < cpHere.length && cpHere[nextCp] < pos) compareCp(cpHere[nextCp++], view, upTo);
      while (nextWhy < whyHere.length && whyHere[nextWhy] < pos) checkWhyCheckpoint(sql, dict, p.id, p.cacheKey, whyHere[nextWhy++], st, whyOut);
    };
    scanEvents(
      sql,
      { profileId: p.id, details: true, untilPosition: whole ? undefined : Math.max(cpHere[cpHere.length - 1] ?? -1, whyHere[whyHere.length - 1] ?? -1) },
      (ev) => {
        checkBefore(ev.position);
        if (whole) {
          while (nextCount < whys.length && whys[nextCount] < ev.position) countsAt(whys[nextCount++]);
          addToLogCounts(counts, ev.codeRow, ev.sourceRow, ev.runRow, ev.kind);
          if (ev.run !== null && !firstOfRun.has(ev.run)) firstOfRun.set(ev.run, ev.position);
        }
        if (windowFolds(ev, excluded)) foldOne(ev);
        upTo.add(ev.time);
        checkBefore(ev.position + 1);
      },
      dict,
    );
    checkBefore(Infinity);
  }
  while (nextCount < whys.length) countsAt(whys[nextCount++]);
  differences.push(...viewsDiffer(ledger, p, view, fresh));
  differences.push(...cpOut, ...countsOut, ...whyOut);
  differences.push(...profileRunsDiffer(sql, p.id, p.cacheKey, firstOfRun));
}

/**
 * The fold into `view` with replay's shortcut (replay.ts, foldOne): a body whose fold changed
 * nothing, brought again to its code id and source with nothing changed there since, changes
 * nothing again (the fold is a function of the entry and the body): counted in why's state
 * (`st`, where `why`), not folded. `history`: where the steps' history records go, if kept.
 */
function shortcutFold(view: StreamView, st: ReturnType<typeof emptyWhyState>, why: boolean, history: string[] | null): (ev: LeanEvent) => void {
  // by code id, then source (rows): the bodies that changed nothing since the last step that may have, with why's count of each
  const unchanged: Map<number, Carried | null>[][] = [];
  const unchangedAt = (codeRow: number, sourceRow: number) => ((unchanged[codeRow] ??= [])[sourceRow] ??= new Map());
  // the scan reads each event's details (as the fold for the history does): why's steps need no more
  const noDetails = () => {};
  return (ev) => {
    const m = ev.kind === 'shape.observed' || ev.kind === 'entry.imported' ? unchangedAt(ev.codeRow!, ev.sourceRow!) : null;
    const known = m?.get(ev.bodyId);
    if (known !== undefined) {
      if (known) whyCount(known, ev.run);
      return;
    }
    const step = fold(view, ev);
    if (!step) return;
    if (history) for (const r of historyTexts(step, ev)) history.push(r);
    if (why) whyStep(st, step, ev, KEEP_ALL, noDetails);
    const slot = why && step.before === step.after ? whySlot(st, step, ev.bodyId) : null;
    if (m && step.before === step.after && (slot || !why)) m.set(ev.bodyId, slot);
    else (m ?? unchangedAt(ev.codeRow!, ev.sourceRow!)).clear();
  };
}

/** The profile's events up to a checkpoint: how many, and the latest time (what `--as-of` a time and the report read of it). */
export interface EventsUpTo {
  n: number;
  maxTime: number;
}

/**
 * Compares a checkpoint with the log folded to it (`fresh`) and with the events up to it (its
 * event count and latest time, which the time-window rule and the report's counters read
 * without its state: trial s25a, a row's max_time changed by hand moved `show --as-of` a time
 * and passed verify): a difference in words into `out`.
 */
function checkpointCompare(ledger: Ledger, profileId: number, cacheKey: string, dict: ReturnType<typeof dictionaries>, out: string[]): (pos: number, fresh: StreamView, upTo: EventsUpTo) => void {
  return (pos, fresh, upTo) => {
    const row = ledger.sql.get<{ state: Uint8Array; event_count: number | string; max_time: number | string }>('select state, event_count, max_time from checkpoints where profile_id = ? and position = ?', profileId, pos)!;
    let have: unknown;
    try {
      have = viewRows(decodeView(row.state, dict));
    } catch (e) {
      out.push(`${cacheKey}: checkpoint at ${pos} is unreadable (${(e as Error).message}): delete it, or run pgo-ledger replay`);
      return;
    }
    if (JSON.stringify(viewRows(fresh)) !== JSON.stringify(have)) out.push(`${cacheKey}: checkpoint at ${pos} differs from the log folded to it (delete it, or run pgo-ledger replay)`);
    else if (Number(row.event_count) !== upTo.n || Number(row.max_time) !== upTo.maxTime) {
      out.push(`${cacheKey}: checkpoint at ${pos} says ${row.event_count} events up to it, the latest at ${timeText(Number(row.max_time))}; the log holds ${upTo.n}, the latest at ${timeText(upTo.maxTime)} (delete it, or run pgo-ledger replay)`);
    }
  };
}

const timeText = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));

/** Counts the events up to each position as a scan passes them. */
const upToCounter = (): EventsUpTo & { add(time: number): void } => ({
  n: 0,
  maxTime: Number.NEGATIVE_INFINITY,
  add(time) {
    this.n++;
    if (time > this.maxTime) this.maxTime = time;
  },
});

/**
 * Each checkpoint against the log folded afresh up to its position. One pass for a profile with
 * no retraction (every prefix folds alike); one fold per checkpoint otherwise.
 */
function verifyCheckpoints(ledger: Ledger, profileId: number, cacheKey: string): string[] {
  const positions = checkpointPositions(ledger.sql, profileId);
  if (!positions.length) return [];
  const dict = dictionaries(ledger.sql);
  const out: string[] = [];
  const compare = checkpointCompare(ledger, profileId, cacheKey, dict, out);
  const retracted = ledger.sql.get("select 1 from events where profile_id = ? and kind = 'run.retracted' limit 1", profileId);
  if (retracted) {
    for (const pos of positions) {
      const c = ledger.sql.get<{ n: number | string; t: number | string | null }>('select count(*) n, max(time) t from events where profile_id = ? and position <= ?', profileId, pos)!;
      compare(pos, ledger.fold(profileId, { untilPosition: pos }, () => {}), { n: Number(c.n), maxTime: c.t === null ? Number.NEGATIVE_INFINITY : Number(c.t) });
    }
    return out;
  }
  const view = emptyStream();
  const upTo = upToCounter();
  let next = 0;
  scanEvents(
    ledger.sql,
    { profileId, untilPosition: positions[positions.length - 1], withTime: true },
    (ev) => {
      fold(view, ev);
      upTo.add(ev.time);
      if (ev.position === positions[next]) compare(positions[next++], view, upTo);
    },
    dict,
  );
  for (; next < positions.length; next++) out.push(`${cacheKey}: checkpoint at ${positions[next]} names no event of the profile`);
  return out;
}
