import { deflateSync } from 'node:zlib';
import pako from 'pako';
import { parseCacheKey, type ProfileKey } from '../model/cache-key.ts';
import { classify, fullMessage, inputError, LedgerError } from '../errors.ts';
import { isLogTable, missingTables, tablesMissing } from './damage.ts';
import { appendAhead, appendBatch, appendFolded, foldAhead, holdsEvent, internBatch, type AppendResult, type AppendState } from './append.ts';
import { openDatabase, pathWords, type OpenedDatabase, type OpenOptions, type Sql } from './database.ts';
import { ledgerFileBefore } from './new-ledger-file.ts';
import { markSource } from './profile-source.ts';
import type { FoldStep, StreamView } from './fold.ts';
import { foldWindow } from './fold-window.ts';
import { createInterner } from './intern.ts';
import { readCursor, writeCursor, type WatchCursor } from './cursors.ts';
import type { LeanEvent } from './log.ts';
import { prepareEvent, type NewEvent, type PreparedEvent } from './prepare-event.ts';
import { replayAll } from './replay.ts';
import { liveViews, loadView, readHistory, type HistoryRow } from './views.ts';
import { askLiveMerges, followLiveMerges } from './live-merges.ts';
import { isWholeLog, type Window } from './window.ts';
import { knownProfile, knownRead } from './known.ts';
import { newestImport, type NewestImport } from './newest-import.ts';
import { codeOrigins } from './code-origins.ts';
import { excludedRunNotes } from './warm-starts.ts';
import type { CodeStrings } from '../codecs/pickle/index.ts';
import type { Selectable } from 'kysely';
import type { LedgerSchema } from './schema.ts';

export { prepareEvent, type NewEvent, type PreparedEvent, type AppendResult, type HistoryRow, type WatchCursor };

/**
 * The ledger: a thin front over the store's modules, one concept each: interning (intern.ts),
 * appending (append.ts), THE fold (fold.ts), which events a window folds (window.ts), a
 * window's fold from its checkpoint (fold-window.ts, checkpoints.ts), the stored views
 * (views.ts) and replay (replay.ts).
 */

export interface ProfileRow {
  id: number;
  cacheKey: string;
  key: ProfileKey;
  eventCount: number;
  lastPosition: number | null;
  lastTime: number | null;
}

export interface Ledger {
  readonly path: string;
  /** Things said on opening (a rebuilt database, say), for the caller to show. */
  readonly notes: string[];
  append(events: readonly NewEvent[]): AppendResult;
  appendPrepared(events: readonly PreparedEvent[]): AppendResult;
  /** Whether the log holds this event already, whole (an append would count it a duplicate); reads only. */
  holds(event: NewEvent): boolean;
  /**
   * appendPrepared whose commit may be waited for later: `done` gets the batch's result once
   * it has committed, during this call or a later one of this ledger (settle at the latest),
   * batches in order. Until then the caller keeps `events` as they are (a failed batch is
   * appended again from them). A batch that fails for good throws from the call that meets it,
   * with nothing of it or of the batches after it written, and their `done` never called.
   */
  appendPipelined(events: readonly PreparedEvent[], done: (r: AppendResult) => void): void;
  /** Waits for the batches of appendPipelined still under way (every other call of the ledger does first). */
  settle(): void;
  /**
   * Several appends in one write transaction (a folder's traces, a file each): all or none.
   * SQLite only: PostgreSQL commits an append's dictionary rows first (Dialect.internFirst).
   */
  appendEach(batches: readonly (readonly PreparedEvent[])[]): AppendResult[];
  /** Appends and writes followers' cursors in one transaction (exactly once across restarts). */
  appendWith(events: readonly NewEvent[], cursors: readonly WatchCursor[]): AppendResult;
  /** A follower's cursor for one input. */
  cursor(input: string): WatchCursor | undefined;
  profiles(): ProfileRow[];
  profileByKey(cacheKey: string): ProfileRow | undefined;
  /** The stored view: the whole log folded (what PyTorch would hold now). A profile id the ledger does not hold throws (known.ts). */
  view(profileId: number): StreamView;
  /** A fresh fold of the log for one profile over a window (see window.ts). An unknown profile id or run left out throws (known.ts). */
  fold(profileId: number, window?: Window, onStep?: (step: FoldStep, ev: LeanEvent) => void): StreamView;
  /** The stored history: the records of the whole log. A profile id the ledger does not hold throws (known.ts). */
  history(profileId: number): HistoryRow[];
  /** Rebuilds every live view from the whole log. */
  replay(onProgress?: (events: number) => void): { events: number; profiles: number; records: number };
  /** The newest entry.imported event the window folds for the profile (newest-import.ts), null where none. */
  newestImport(profileId: number, window?: Window): NewestImport | null;
  /**
   * What still carries what each run the window leaves out as a what-if brought, by profile (runs
   * that warm-started from it, later snapshots with no run): a note each, in retract's words.
   */
  /**
   * `retracted`: the note that the window's retraction of the run leaves it out already.
   * `profileId`: the profile an answer reads; only its notes, and one for a run it holds no event of.
   */
  excludedRunNotes(window: Window, profileId?: number): { cacheKey: string; run: string; note: string; retracted: boolean }[];
  /** Which string objects each code id's were in the process that wrote the newest trace snapshot the window folds (code-origins.ts), null where none. */
  codeOrigins(profileId: number, window?: Window): CodeStrings | null;
  /** The recorded snapshot of an import (format and raw bytes). */
  importSnapshot(id: number): { format: string; origin: string; bytes: Uint8Array } | undefined;
  recordImport(format: string, origin: string, bytes: Uint8Array, digest: string): number;
  readonly sql: Sql;
  close(): Promise<void>;
}

/** @deprecated the old name of Window */
export type FoldFilter = Window;

/**
 * Opens a ledger; `readonly` for read commands (nothing created, migrated or rebuilt). A SQLite
 * ledger this open made and could not finish making (a full disk, a file-size limit) is taken
 * back, with its -wal and -shm, and the error says so (new-ledger-file.ts): a later command would
 * meet a file that is no ledger.
 */
export async function openLedger(path: string, options: OpenOptions = {}): Promise<Ledger> {
  // SQLite opens '' as a private temporary database, deleted at close: an ingest there said what it
  // appended and kept nothing (trial s28c: `--db ''`, an empty PGO_LEDGER_DB)
  if (path === '') throw inputError(`the ledger's path is empty: give ${pathWords(options).give} (SQLite would open a temporary database, and what is written there is gone at exit)`);
  const before = options.readonly ? undefined : ledgerFileBefore(path);
  try {
    const db = await openDatabase(path, options);
    const ledger = createLedger(db);
    try {
      // a table of the log dropped: no command answers from the views left (show did), nor writes
      const lost = missingTables(db.sql.dialect.tables(db.sql)).filter(isLogTable);
      if (lost.length) throw tablesMissing(db.path, lost);
      unpin(ledger, options.readonly === true);
    } catch (e) {
      await ledger.close();
      throw e;
    }
    return ledger;
  } catch (e) {
    const left = before?.isNew ? before.takeBack({ unlessLedger: true }) : null;
    if (left === null) throw e;
    throw new LedgerError(`${fullMessage(e)}; ${left}`, { kind: classify(e), cause: e });
  }
}

/**
 * Versions before 0.2 let `replay --until/--exclude-run` pin the live views to a what-if, so
 * later ingests never reached them. The live views now always fold the whole log: a pinned
 * database is rebuilt unpinned once, and says so.
 */
function unpin(ledger: Ledger, readonly: boolean): void {
  const row = ledger.sql.get<{ value: string }>("select value from meta where key = 'views'");
  if (!row) return;
  // Its stored views and history are a what-if: a read-only open cannot rebuild them and must not answer from them.
  if (readonly) throw inputError(`${ledger.path} had its views pinned by an older pgo-ledger; run \`pgo-ledger replay\` on it once to rebuild them from the whole log`);
  let pin: { untilPosition?: number; untilTime?: number; excludeRuns?: string[] } = {};
  try {
    pin = JSON.parse(row.value);
  } catch {
    /* unreadable: rebuilt all the same */
  }
  ledger.replay();
  const what = [
    pin.untilPosition !== undefined ? `until position ${pin.untilPosition}` : '',
    pin.untilTime !== undefined ? `until ${new Date(pin.untilTime).toISOString()}` : '',
    pin.excludeRuns?.length ? `without run ${pin.excludeRuns.join(', ')}` : '',
  ].filter(Boolean);
  if (what.length) {
    ledger.notes.push(
      `note: ${ledger.path} had its views pinned (${what.join(', ')}) by an older pgo-ledger; they were rebuilt from the whole log. ` +
        'Use --as-of and --exclude-run on read commands for what-ifs.',
    );
  }
}

function createLedger(db: OpenedDatabase): Ledger {
  const { sql } = db;
  const interner = createInterner(sql);
  const live = liveViews(sql, interner);
  const state: AppendState = { sql, interner, live, checkpointCounts: new Map(), carried: { gen: interner.generation, memos: new Map() }, after: { counters: new Map(), next: undefined } };
  let seenVersion = -1;
  // Appends in a row whose transactions met no other writer (SQLite: Sql.writersMet), from
  // this connection's first: a batch is folded ahead of the lock while one of the last two met
  // one (alone, as a fleet's last writer is, folding ahead buys nothing: no one waits).
  let quiet = Infinity;
  // PGO_LEDGER_FOLD_AHEAD=1 folds ahead always, 0 never (tests, measuring)
  const aheadEnv = process.env.PGO_LEDGER_FOLD_AHEAD;
  const foldsAhead = () => (aheadEnv === '1' ? true : aheadEnv === '0' ? false : quiet < 2);

  /**
   * What was cached of the tables is void: another connection committed, or a transaction
   * rolled back. `rolledBack`: a pipelined batch's, whose dictionary rows were committed first
   * (Dialect.internFirst), so the interner keeps their ids.
   */
  const forget = (rolledBack = false) => {
    live.clear();
    if (rolledBack) interner.rolledBack();
    else interner.forget();
    state.checkpointCounts.clear();
    state.after.counters.clear();
    state.after.next = undefined;
  };

  // Issue 11.7, PostgreSQL (Dialect.pipeline): a batch's commit is not waited for, so the
  // server writes it while the next batch is folded, from what this one left (foldAhead's
  // `known`); the next batch's transaction checks that under its locks. Batches go this way
  // once `streak` batches in a row took the positions right after the one before (no other
  // writer took positions in between, as a lone writer's do), and no live merge was defined.
  /** Batches whose commit is posted, oldest first (two at most: one settles as the next is posted). */
  const pending: { events: readonly PreparedEvent[]; ticket: number; result: AppendResult; done: (r: AppendResult) => void }[] = [];
  let streak = 0;
  /** Batches in a row needed: doubled by each pipelined batch that failed (other writers about). */
  let needed = 2;
  /** Where the last batch's events ended, as AppendState.after has it. */
  let expected: number | undefined;
  const note = (r: AppendResult, merges: boolean) => {
    streak = !merges && r.firstPosition !== null && r.firstPosition === expected ? streak + 1 : 0;
    expected = state.after.next;
  };
  /** The oldest pending batch settled: done where it committed; else it and those after it appended again, the usual way. */
  const settleOldest = () => {
    const p = pending.shift()!;
    try {
      sql.dialect.pipeline!.settle(sql, p.ticket);
    } catch {
      // Nothing of it was written; the batches after it were folded from it, and their
      // transactions' checks fail (the log's last position is not the one they were folded after).
      const after = pending.splice(0);
      const again = [p];
      for (const q of after) {
        try {
          sql.dialect.pipeline!.settle(sql, q.ticket);
          q.done(q.result);
        } catch {
          again.push(q);
        }
      }
      forget(true);
      streak = 0;
      needed = Math.min(needed * 2, 64);
      // appended again in order: a failure that holds (not another writer's or a key taken) throws here
      for (const q of again) q.done(ledger.appendPrepared(q.events));
      return;
    }
    p.done(p.result);
  };
  const settle = () => {
    while (pending.length) settleOldest();
  };
  const syncCache = () => {
    const v = sql.dataVersion();
    if (v !== seenVersion) {
      forget();
      seenVersion = v;
    }
  };

  let closed = false;
  const isOpen = () => !closed;
  const ledger: Ledger = {
    path: db.path,
    notes: [],
    sql,
    append(events) {
      return ledger.appendPrepared(events.map((e) => prepareEvent(e)));
    },
    holds(event) {
      settle();
      return holdsEvent(state, prepareEvent(event));
    },
    appendPrepared(events) {
      settle();
      if (events.length === 0) return { appended: 0, duplicates: 0, records: 0, firstPosition: null, lastPosition: null };
      for (let attempt = 1; ; attempt++) {
        try {
          const met = sql.writersMet?.();
          // PostgreSQL: the dictionary rows first, committed on their own (see Dialect.internFirst)
          const rows = sql.dialect.internFirst ? internBatch(state, events) : undefined;
          // SQLite, while this connection's appends meet other writers: the batch folded before
          // the lock (foldAhead), so that the lock is held for little more than the insert.
          const ahead = rows === undefined && foldsAhead() ? foldAhead(state, events) : null;
          const result = sql.immediate(() => {
            // Another writer's commit leaves the dictionary ids true (rows are never changed
            // nor deleted) and each profile's live view is checked under the lock against the
            // profile's last position (dropIfStale); dropping them all at every commit made 4
            // concurrent writers reload and refold them every batch. Only the checkpoint
            // counts are read again: a replay rewrites the checkpoints.
            const v = sql.dataVersion();
            if (v !== seenVersion) state.checkpointCounts.clear();
            seenVersion = v;
            // the live merges are read once the batch's locks are held: a `merge --live` that
            // commits first is seen, one that waits for this batch (defineLiveMerge) joins it
            const r = ahead ? appendAhead(state, events, ahead, askLiveMerges) : appendBatch(state, events, rows, askLiveMerges);
            // issue 12.5: `merge --live` targets join what this batch changed, in the same transaction
            const merges = r.appended !== 0 && followLiveMerges(state, events);
            note(r, merges);
            return r;
          });
          seenVersion = sql.dataVersion();
          if (met !== undefined) quiet = sql.writersMet!() !== met ? 0 : quiet + 1;
          return result;
        } catch (e) {
          // The transaction rolled back: whatever was folded in memory for it is void.
          forget();
          // PostgreSQL chose this batch to break a deadlock with another writer, or another
          // writer took a key as the batch's COPY ran (serialization failure): the batch again.
          const code = (e as { code?: unknown }).code;
          if ((code === '40P01' || code === '40001') && attempt < 5) continue;
          throw e;
        }
      }
    },
    appendPipelined(events, done) {
      const pipeline = sql.dialect.pipeline;
      let ticket = 0;
      let result: AppendResult | undefined;
      if (pipeline && events.length !== 0 && streak >= needed) {
        try {
          const a = foldAhead(state, events, true);
          if (a) ticket = pipeline.transaction(sql, () => void (result = appendFolded(state, a)));
        } catch {
          // folded, and not written (the transaction rolled back): appended the usual way below
          forget(true);
          ticket = 0;
        }
      }
      if (!ticket) {
        done(ledger.appendPrepared(events));
        return;
      }
      expected = state.after.next;
      pending.push({ events, ticket, result: result!, done });
      // the settle of the batch before sends this one's statements ahead of it
      if (pending.length === 1) pipeline!.send(sql);
      while (pending.length > 1) settleOldest();
    },
    settle,
    appendEach(batches) {
      settle();
      try {
        return sql.immediate(() => batches.map((b) => ledger.appendPrepared(b)));
      } catch (e) {
        // the rollback voids what the appends before the failing one held in memory
        forget();
        throw e;
      }
    },
    appendWith(events, cursors) {
      settle();
      return sql.immediate(() => {
        const r = ledger.append(events);
        for (const c of cursors) writeCursor(sql, c);
        return r;
      });
    },
    cursor(input) {
      settle();
      return readCursor(sql, input);
    },
    profiles() {
      settle();
      type Row = Pick<Selectable<LedgerSchema['profiles']>, 'id' | 'cache_key' | 'event_count' | 'last_position' | 'last_time'>;
      // A profile is one with events. PostgreSQL commits an append's dictionary rows first
      // (Dialect.internFirst): a first batch that then failed leaves its profile's row with none,
      // which no command is to list or answer from.
      return sql.all<Row>('select id, cache_key, event_count, last_position, last_time from profiles where event_count > 0 order by cache_key').map((r) => ({
        id: r.id,
        cacheKey: r.cache_key,
        key: parseCacheKey(r.cache_key),
        eventCount: r.event_count,
        lastPosition: r.last_position,
        lastTime: r.last_time,
      }));
    },
    profileByKey(key) {
      return ledger.profiles().find((p) => p.cacheKey === key);
    },
    view(pid) {
      settle();
      knownProfile(ledger, pid);
      syncCache();
      const v = loadView(sql, pid);
      // Built fresh from the stored JSON: no tuple or automatic_dynamic object occurs twice, so
      // the pickle writer may skip its identity memo (Profile.unshared; a later fold clears it).
      v.profile.unshared = true;
      // an export of it writes its source names as its writer did (sourceNamesFor), unless told
      markSource(v.profile, { ledger, profileId: pid, window: {}, open: isOpen });
      return v;
    },
    fold(pid, window = {}, onStep) {
      if (!onStep && isWholeLog(window)) return ledger.view(pid);
      settle();
      knownRead(ledger, pid, window);
      syncCache();
      const v = foldWindow(sql, interner.dict, pid, window, onStep);
      markSource(v.profile, { ledger, profileId: pid, window, open: isOpen });
      return v;
    },
    history(pid) {
      settle();
      knownProfile(ledger, pid);
      return readHistory(db, pid);
    },
    replay(onProgress) {
      settle();
      const r = sql.immediate(() => {
        sql.dialect.lock(sql, 'all');
        syncCache();
        const out = replayAll(sql, interner, onProgress);
        live.clear();
        return out;
      });
      seenVersion = sql.dataVersion();
      return r;
    },
    newestImport(pid, window = {}) {
      settle();
      knownRead(ledger, pid, window);
      syncCache();
      return newestImport(sql, interner.dict, pid, window);
    },
    excludedRunNotes(window, profileId) {
      settle();
      syncCache();
      return excludedRunNotes(sql, interner.dict, window, profileId);
    },
    codeOrigins(pid, window = {}) {
      settle();
      knownRead(ledger, pid, window);
      syncCache();
      return codeOrigins(sql, interner.dict, pid, window);
    },
    importSnapshot(id) {
      settle();
      const r = sql.get<{ format: string; origin: string; bytes: Uint8Array }>('select format, origin, bytes from imports where id = ?', id);
      return r && { ...r, bytes: pako.inflate(r.bytes) };
    },
    recordImport(format, origin, bytes, digest) {
      settle();
      // A snapshot read before is kept already: not deflated again (a fleet's 13 MB pickle, read
      // again after each run: 0.6 of its ingest's CPU-s)
      const known = sql.get<{ id: number }>('select id from imports where digest = ?', digest);
      if (known) return known.id;
      // Snapshots are kept deflated: profiles are repetitive and compress well (zlib's own
      // deflate, pako's format: importSnapshot reads either)
      sql.run('insert into imports(digest, format, origin, bytes, recorded_at) values (?, ?, ?, ?, ?) on conflict do nothing', digest, format, origin, deflateSync(bytes), Date.now());
      return sql.get<{ id: number }>('select id from imports where digest = ?', digest)!.id;
    },
    async close() {
      closed = true;
      try {
        settle();
      } finally {
        await db.close();
      }
    },
  };
  return ledger;
}
