import { deflateSync, inflateSync } from 'node:zlib';
import { entryFromJson, entryToJson, type EntryJson } from '../codecs/entry-json.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { Sql } from './database.ts';
import { emptyStream, fold, type StreamView } from './fold.ts';
import { entryCount } from '../model/profile.ts';
import { codeRows, scanEvents, type Dictionaries } from './log.ts';
import { inWindow, leftOutRuns, windowFolds, type Window } from './window.ts';

/**
 * Checkpoints: a profile's fold state every N of its events, written as the log grows. An
 * answer as of a point (`show --as-of`, `diff`, `export --as-of`) reads the nearest checkpoint
 * at or before it and folds only the tail. They are derived data: `verify` checks them,
 * `replay` rebuilds them, and deleting them changes no answer (it only costs time).
 *
 * A checkpoint at position C is the fold of the window `{untilPosition: C}`: the retractions
 * at or before C applied, none after. So it serves a window only when that window folds the
 * same events up to C: no retraction after C inside the window, no excluded run with events
 * up to C, and (for a time) every event up to C no later than the time.
 */
/**
 * Every how many of a profile's events (PGO_LEDGER_CHECKPOINT_EVERY overrides, for tests and
 * tuning). A checkpoint of a 200-code profile is a few KiB deflated; an answer as of a point
 * then folds at most this many events past one.
 */
export function checkpointEvery(): number {
  return Number(process.env.PGO_LEDGER_CHECKPOINT_EVERY) || 25_000;
}

type Stored = [seq: number, codeRow: number, entries: [string, EntryJson][]][];

/**
 * Each code id's row as JSON text, kept between checkpoints of one view (replay's): only the
 * code ids whose state a fold step changed since (`dirty`, by key) are written anew.
 */
export interface ViewRows {
  text: Map<string, string>;
  dirty: Set<string>;
  /**
   * The last encoding, of this view with this many code ids and this codeRow: written again
   * while no row is dirty (32 of a 1M-event replay's 40 view checkpoints found their text as
   * the one before had written it, and deflated its ~110 KB anew).
   */
  bytes: Uint8Array | undefined;
  of: { view: StreamView; codes: number; codeRow: (c: CodeId) => number } | undefined;
}

export const emptyViewRows = (): ViewRows => ({ text: new Map(), dirty: new Set(), bytes: undefined, of: undefined });

export function encodeView(view: StreamView, codeRow: (c: CodeId) => number, kept?: ViewRows): Uint8Array {
  // nothing changed since: the same rows in the same order (a code id's row is written anew only when dirty)
  const of = kept?.of;
  if (kept?.bytes && kept.dirty.size === 0 && of!.view === view && of!.codes === view.profile.codes.size && of!.codeRow === codeRow) return kept.bytes;
  const rows: string[] = [];
  for (const [key, { id, state }] of view.profile.codes) {
    let text = kept?.dirty.has(key) === false ? kept.text.get(key) : undefined;
    if (text === undefined) {
      const row: Stored[number] = [view.codeSeq.get(key)!, codeRow(id), [...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])];
      text = JSON.stringify(row);
      kept?.text.set(key, text);
    }
    rows.push(text);
  }
  // zlib's own deflate at a light level: written every few thousand events, on append and by replay
  // (the rows joined as JSON.stringify would write the array of them)
  const bytes = deflateSync(`[${rows.join(',')}]`, { level: 1 });
  if (kept) {
    kept.dirty.clear();
    kept.bytes = bytes;
    kept.of = { view, codes: view.profile.codes.size, codeRow };
  }
  return bytes;
}

export function decodeView(bytes: Uint8Array, dict: Dictionaries): StreamView {
  const view = emptyStream();
  const rows = JSON.parse(inflateSync(bytes).toString()) as Stored;
  rows.sort((a, b) => a[0] - b[0]);
  // their code ids read in a few queries, not one each (a 50k-code profile's: 50,000)
  dict.load('codes', codeRows(rows, 1));
  for (const [seq, row, entries] of rows) {
    const id = dict.code(row);
    view.profile.codes.set(codeKey(id), { id, state: { automaticDynamic: new Map(entries.map(([s, e]) => [s, entryFromJson(e)])) } });
    view.codeSeq.set(codeKey(id), seq);
  }
  return view;
}

export function writeCheckpoint(sql: Sql, profileId: number, position: number, eventCount: number, maxTime: number, view: StreamView, codeRow: (c: CodeId) => number, kept?: ViewRows): void {
  writeCheckpointState(sql, profileId, position, eventCount, maxTime, encodeView(view, codeRow, kept));
}

/** A checkpoint whose view is encoded already (encodeView). */
export function writeCheckpointState(sql: Sql, profileId: number, position: number, eventCount: number, maxTime: number, state: Uint8Array): void {
  sql.run(
    'insert into checkpoints(profile_id, position, event_count, max_time, state) values (?, ?, ?, ?, ?) on conflict(profile_id, position) do update set event_count = excluded.event_count, max_time = excluded.max_time, state = excluded.state',
    profileId,
    position,
    eventCount,
    maxTime,
    state,
  );
}

/**
 * Whether a profile of `total` events, `at` of them at its newest checkpoint, is due another:
 * once checkpointEvery() events have come since, and at least as many as its fold holds entries
 * (`entries`, asked only then). A checkpoint costs its whole state, so a profile's checkpoints
 * then cost no more than its events do, however many code ids it holds: every 25,000 events, a
 * 50k-code profile's (250,000 entries) were 7.1 of its replay's 17.7 profiled seconds, and much of
 * its garbage. A read folds the tail past the nearest one: at most a checkpoint's worth.
 */
export const checkpointDue = (total: number, at: number, entries: () => number): boolean => total - at >= checkpointEvery() && total - at >= entries();

/** What checkpointDue weighs: the entries of a profile's fold. */
export const viewEntries = (view: StreamView): number => entryCount(view.profile);

/** The profile's event count at its newest checkpoint (0 when none). */
export function lastCheckpointCount(sql: Sql, profileId: number): number {
  return sql.get<{ n: number | null }>('select max(event_count) n from checkpoints where profile_id = ?', profileId)?.n ?? 0;
}

/** The nearest checkpoint that folds exactly what the window folds up to it, or null. */
export function checkpointFor(sql: Sql, profileId: number, w: Window, dict: Dictionaries): { position: number; view: StreamView } | null {
  const row = sql.get<{ position: number; state: Uint8Array }>(
    `select position, state from checkpoints where profile_id = ? and position <= ?${w.untilTime !== undefined ? ' and max_time <= ?' : ''} order by position desc limit 1`,
    profileId,
    w.untilPosition ?? Number.MAX_SAFE_INTEGER,
    ...(w.untilTime !== undefined ? [w.untilTime] : []),
  );
  if (!row) return null;
  // A retraction after it, inside the window, takes back events the checkpoint holds.
  for (const r of sql.allRaw("select position, time from events where profile_id = ? and kind = 'run.retracted' and position > ?", profileId, row.position)) {
    if (inWindow(w, r[0] as number, r[1] as number)) return null;
  }
  if (w.excludeRuns?.length) {
    const marks = w.excludeRuns.map(() => '?').join(', ');
    const hit = sql.get(`select 1 from profile_runs pr join runs r on r.id = pr.run_id where pr.profile_id = ? and pr.first_position <= ? and r.run in (${marks}) limit 1`, profileId, row.position, ...w.excludeRuns);
    if (hit) return null;
  }
  // decoded when first read: `why` from a why-checkpoint with no event of the window after it reads none
  let view: StreamView | undefined;
  return {
    position: row.position,
    get view() {
      return (view ??= readableView(sql, profileId, row.position, row.state, dict));
    },
  };
}

/**
 * A checkpoint's view; one that cannot be read (a damaged row) is the log folded to its
 * position, from the checkpoint before it: derived data costs time, not the answer, and never
 * stops an append (trial s25a: every ingest of the profile failed on zlib's "incorrect data
 * check"). `verify` names it.
 */
function readableView(sql: Sql, profileId: number, position: number, state: Uint8Array, dict: Dictionaries): StreamView {
  try {
    return decodeView(state, dict);
  } catch {
    const w = { untilPosition: position };
    const before = checkpointFor(sql, profileId, { untilPosition: position - 1 }, dict);
    const view = before?.view ?? emptyStream();
    const left = leftOutRuns(sql, profileId, w, dict);
    scanEvents(
      sql,
      { profileId, afterPosition: before?.position, untilPosition: position },
      (ev) => {
        if (windowFolds(ev, left)) fold(view, ev);
      },
      dict,
    );
    return view;
  }
}

/**
 * The profiles past a checkpoint's worth of events that hold none (deleted, or a ledger that
 * never had them): every read of them folds from the start, which costs time, not the answer
 * (`verify` says so: trial s25a, a ledger's reads got slow and nothing said why).
 */
export function profilesWithoutCheckpoints(sql: Sql): { cacheKey: string; events: number }[] {
  return sql
    .all<{ cache_key: string; event_count: number | string }>('select cache_key, event_count from profiles p where event_count >= ? and not exists (select 1 from checkpoints c where c.profile_id = p.id) order by cache_key', checkpointEvery())
    .map((r) => ({ cacheKey: r.cache_key, events: Number(r.event_count) }));
}

export function checkpointPositions(sql: Sql, profileId: number): number[] {
  return sql.allRaw('select position from checkpoints where profile_id = ? order by position', profileId).map((r) => r[0] as number);
}

/**
 * After an append: each profile past checkpointEvery() events since its last checkpoint gets
 * one of its live view, at the batch's last event of the profile. `since` caches, per profile,
 * the event count at its newest checkpoint; `written` hears of each one written.
 */
export function checkpointAppended(
  sql: Sql,
  counts: Map<number, { n: number; last: number; time: number }>,
  viewOf: (pid: number) => StreamView | undefined,
  since: Map<number, number>,
  codeRow: (c: CodeId) => number,
  written?: (pid: number, position: number) => void,
  /** The profiles' counters before the append, where the caller read them already. */
  counters?: Map<number, { event_count: number; last_time: number | null }>,
  /** Each view's rows kept between its checkpoints (the append's live views'), as replay keeps them. */
  rowsOf?: (pid: number) => ViewRows | undefined,
  /** A view's encoded state, where the caller encoded it already (append.ts foldAhead). */
  encoded?: (pid: number) => Uint8Array | undefined,
): void {
  for (const [pid, c] of counts) {
    const view = viewOf(pid);
    if (!view) continue;
    let at = since.get(pid);
    if (at === undefined) since.set(pid, (at = lastCheckpointCount(sql, pid)));
    const row = counters?.get(pid) ?? sql.get<{ event_count: number; last_time: number | null }>('select event_count, last_time from profiles where id = ?', pid)!;
    const total = row.event_count + c.n;
    if (!checkpointDue(total, at, () => viewEntries(view))) continue;
    const state = encoded?.(pid);
    if (state) writeCheckpointState(sql, pid, c.last, total, Math.max(row.last_time ?? 0, c.time), state);
    else writeCheckpoint(sql, pid, c.last, total, Math.max(row.last_time ?? 0, c.time), view, codeRow, rowsOf?.(pid));
    since.set(pid, total);
    written?.(pid, c.last);
  }
}
