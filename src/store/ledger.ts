import pako from 'pako';
import { entryFromJson, entryToJson, type EntryJson } from '../codecs/entry-json.ts';
import { cacheKey as formatCacheKey, parseCacheKey, type ProfileKey } from '../model/cache-key.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { DynamicRecord } from '../model/update.ts';
import { inputError } from '../errors.ts';
import { damaged } from './damage.ts';
import { closureColumn, codeFromColumns, extraColumn } from './code-columns.ts';
import { openDatabase, rows, type OpenedDatabase, type Sql } from './database.ts';
import { prepareEvent, type NewEvent, type PreparedEvent } from './prepare-event.ts';

export { prepareEvent, type NewEvent, type PreparedEvent };
import { CURRENT_VERSION, encodePayload, type EventKind } from './events.ts';
import { emptyStream, fold, type FoldStep, type StreamView } from './fold.ts';
import { hash53 } from './hash53.ts';
import { dictionaries, scanEvents, type LeanEvent } from './log.ts';
import { isWholeLog, leftOutRuns, type Window } from './window.ts';
import { checkpointEvery, checkpointFor, lastCheckpointCount, writeCheckpoint } from './checkpoints.ts';

export interface AppendResult {
  appended: number;
  duplicates: number;
  records: number;
  firstPosition: number | null;
  lastPosition: number | null;
}

export interface ProfileRow {
  id: number;
  cacheKey: string;
  key: ProfileKey;
  eventCount: number;
  lastPosition: number | null;
  lastTime: number | null;
}

export interface HistoryRow extends DynamicRecord {
  position: number;
  code: CodeId;
  codeSeq: number;
  run: string | null;
  time: number;
  compileId: string | null;
  origin: string | null;
  originLine: number | null;
  /** PyTorch's guard failure text, where a trace gave it. */
  guard: string | null;
}

interface CachedStream {
  view: StreamView;
  retracted: Set<string>;
  dirty: Set<number>;
}

export interface Ledger {
  readonly path: string;
  /** Things said on opening (a rebuilt database, say), for the caller to show. */
  readonly notes: string[];
  append(events: readonly NewEvent[]): AppendResult;
  appendPrepared(events: readonly PreparedEvent[]): AppendResult;
  profiles(): ProfileRow[];
  profileByKey(cacheKey: string): ProfileRow | undefined;
  /** The stored view: the whole log folded (what PyTorch would hold now). */
  view(profileId: number): StreamView;
  /** A fresh fold of the log for one profile over a window (see window.ts). */
  fold(profileId: number, window?: Window, onStep?: (step: FoldStep, ev: LeanEvent) => void): StreamView;
  /** The stored history: the records of the whole log. */
  history(profileId: number): HistoryRow[];
  /** Rebuilds every live view from the whole log. */
  replay(onProgress?: (events: number) => void): { events: number; profiles: number; records: number };
  /** The recorded snapshot of an import (format and raw bytes). */
  importSnapshot(id: number): { format: string; origin: string; bytes: Uint8Array } | undefined;
  recordImport(format: string, origin: string, bytes: Uint8Array, digest: string): number;
  readonly sql: Sql;
  close(): Promise<void>;
}

/** @deprecated the old name of Window */
export type FoldFilter = Window;

/** Opens a ledger; `readonly` for read commands (nothing created, migrated or rebuilt). */
export async function openLedger(path: string, options: { readonly?: boolean } = {}): Promise<Ledger> {
  const db = await openDatabase(path, options);
  const ledger = createLedger(db);
  try {
    unpin(ledger, options.readonly === true);
  } catch (e) {
    await ledger.close();
    throw e;
  }
  return ledger;
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
  const streams = new Map<number, CachedStream>();
  const profileIds = new Map<string, number>();
  const originIds = new Map<string, number>();
  const codeIds = new Map<string, number>();
  let dict = dictionaries(sql);
  const sourceIds = new Map<string, number>();
  const runIds = new Map<string, number>();
  const bodyIds = new Map<string, Map<string, number>>();
  let seenVersion = -1;
  /** Each profile's event count at its newest checkpoint, as read once. */
  const checkpointCounts = new Map<number, number>();

  /** Another connection committed: drop every cached view (they are reloaded from the tables). */
  const syncCache = () => {
    const v = sql.dataVersion();
    if (v !== seenVersion) {
      streams.clear();
      profileIds.clear();
      originIds.clear();
      forgetIds();
      seenVersion = v;
    }
  };

  const profileId = (key: string): number => {
    let id = profileIds.get(key);
    if (id !== undefined) return id;
    const row = sql.get<{ id: number }>('select id from profiles where cache_key = ?', key);
    if (row) id = row.id;
    else {
      const k = parseCacheKey(key);
      formatCacheKey(k); // refuses mast: job ids as PyTorch does
      id = sql.run('insert into profiles(cache_key, job, rank, tag) values (?, ?, ?, ?)', key, k.job, k.rank, k.tag).lastInsertRowid;
    }
    profileIds.set(key, id);
    return id;
  };

  const originId = (origin: string | null | undefined): number | null => {
    if (origin == null) return null;
    let id = originIds.get(origin);
    if (id !== undefined) return id;
    sql.run('insert or ignore into origins(origin) values (?)', origin);
    id = sql.get<{ id: number }>('select id from origins where origin = ?', origin)!.id;
    originIds.set(origin, id);
    return id;
  };

  let codeIdsByObject = new WeakMap<CodeId, number>();
  const codeId = (c: CodeId): number => {
    let id = codeIdsByObject.get(c);
    if (id !== undefined) return id;
    const closure = closureColumn(c);
    const extra = extraColumn(c);
    const k = `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}\u0000${c.filename}\u0000${closure}\u0000${extra}`;
    id = codeIds.get(k);
    if (id !== undefined) {
      codeIdsByObject.set(c, id);
      return id;
    }
    sql.run('insert or ignore into codes(filename, firstlineno, name, file_hash, closure_hash, extra) values (?, ?, ?, ?, ?, ?)', c.filename, c.firstlineno, c.name, c.file_hash, closure, extra);
    id = sql.get<{ id: number }>(
      'select id from codes where file_hash = ? and firstlineno = ? and name = ? and filename = ? and closure_hash = ? and extra = ?',
      c.file_hash, c.firstlineno, c.name, c.filename, closure, extra,
    )!.id;
    codeIds.set(k, id);
    codeIdsByObject.set(c, id);
    return id;
  };

  /** Ids handed out in a transaction that rolled back (or by another writer) are not to be trusted. */
  const forgetIds = () => {
    checkpointCounts.clear();
    codeIds.clear();
    codeIdsByObject = new WeakMap();
    sourceIds.clear();
    runIds.clear();
    bodyIds.clear();
    dict = dictionaries(sql);
  };

  /** The id of a dictionary entry (sources, runs), added if new. */
  const dictId = (cache: Map<string, number>, table: 'sources' | 'runs', column: 'source' | 'run', value: string): number => {
    let id = cache.get(value);
    if (id !== undefined) return id;
    sql.run(`insert or ignore into ${table}(${column}) values (?)`, value);
    id = sql.get<{ id: number }>(`select id from ${table} where ${column} = ?`, value)!.id;
    if (cache.size > 200_000) cache.clear();
    cache.set(value, id);
    return id;
  };
  let bodyCount = 0;
  const bodyId = (kind: string, json: string): number => {
    let byJson = bodyIds.get(kind);
    if (!byJson) bodyIds.set(kind, (byJson = new Map()));
    let id = byJson.get(json);
    if (id !== undefined) return id;
    const payload = encodePayload(json);
    const version = CURRENT_VERSION[kind as EventKind];
    sql.run('insert or ignore into bodies(kind, version, payload) values (?, ?, ?)', kind, version, payload);
    id = sql.get<{ id: number }>('select id from bodies where kind = ? and version = ? and payload = ?', kind, version, payload)!.id;
    if (++bodyCount > 200_000) {
      bodyIds.clear();
      bodyCount = 0;
    }
    byJson.set(json, id);
    return id;
  };

  const loadView = (pid: number): StreamView => {
    const view = emptyStream();
    for (const r of sql.all<{ seq: number; filename: string; firstlineno: number; name: string; file_hash: string; closure_hash: string; extra: string; entries: string }>(
      'select seq, filename, firstlineno, name, file_hash, closure_hash, extra, entries from code_states where profile_id = ? order by seq',
      pid,
    )) {
      const id = codeFromColumns(r);
      let entries: Map<string, ReturnType<typeof entryFromJson>>;
      try {
        entries = new Map((JSON.parse(r.entries) as [string, EntryJson][]).map(([s, e]) => [s, entryFromJson(e)]));
      } catch (e) {
        throw damaged(sql.path, `the stored view of profile ${pid}, code state ${r.seq}, cannot be read`, e);
      }
      view.profile.codes.set(codeKey(id), { id, state: { automaticDynamic: entries } });
      view.codeSeq.set(codeKey(id), r.seq);
    }
    return view;
  };

  const stream = (pid: number): CachedStream => {
    let s = streams.get(pid);
    if (!s) {
      s = { view: loadView(pid), retracted: leftOutRuns(sql, pid, {}, dict), dirty: new Set() };
      streams.set(pid, s);
    }
    return s;
  };

  const insertHistory = (position: number, pid: number, step: FoldStep) => {
    const cid = codeId(step.code);
    for (const r of step.records) {
      sql.run(
        'insert into history(position, profile_id, code_seq, code_id, source, dim_changed, reason, cached, new, guard) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        position,
        pid,
        step.codeSeq,
        cid,
        r.name,
        String(r.dim_changed),
        r.reason,
        r.cached,
        r.new,
        step.guard,
      );
    }
  };

  const writeCodeStates = (pid: number, view: StreamView, seqs: Iterable<number> | 'all') => {
    const bySeq = new Map<number, { id: CodeId; entries: string }>();
    const want = seqs === 'all' ? null : new Set(seqs);
    for (const [key, { id, state }] of view.profile.codes) {
      const seq = view.codeSeq.get(key)!;
      if (want && !want.has(seq)) continue;
      bySeq.set(seq, { id, entries: JSON.stringify([...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])) });
    }
    for (const [seq, { id, entries }] of bySeq) {
      sql.run(
        `insert into code_states(profile_id, seq, filename, firstlineno, name, file_hash, closure_hash, extra, entries) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict(profile_id, seq) do update set entries = excluded.entries`,
        pid,
        seq,
        id.filename,
        id.firstlineno,
        id.name,
        id.file_hash,
        closureColumn(id),
        extraColumn(id),
        entries,
      );
    }
  };

  const foldFresh = (pid: number, filter: Window, onStep?: (step: FoldStep, ev: LeanEvent) => void): StreamView => {
    const excluded = leftOutRuns(sql, pid, filter, dict);
    if (!onStep) {
      // From the nearest checkpoint that folds what this window folds, then the tail.
      const cp = checkpointFor(sql, pid, filter, dict);
      const view = cp?.view ?? emptyStream();
      scanEvents(
        sql,
        { ...filter, profileId: pid, afterPosition: cp?.position },
        (ev) => {
          if (ev.kind === 'run.retracted' || (ev.run !== null && excluded.has(ev.run))) return;
          fold(view, ev);
        },
        dict,
      );
      return view;
    }
    // Steps an answer reports need each event's details (origin, compile): the lean scan with them.
    const view = emptyStream();
    scanEvents(
      sql,
      { ...filter, profileId: pid, details: true },
      (ev) => {
        if (ev.kind === 'run.retracted' || (ev.run !== null && excluded.has(ev.run))) return;
        const step = fold(view, ev);
        if (step) onStep(step, ev);
      },
      dict,
    );
    return view;
  };

  /** Rebuilds one profile's views from its events (after a retraction). */
  const refold = (pid: number) => {
    sql.run('delete from history where profile_id = ?', pid);
    sql.run('delete from code_states where profile_id = ?', pid);
    const view = foldFresh(pid, {}, (step, ev) =>
      insertHistory(ev.position, pid, step),
    );
    writeCodeStates(pid, view, 'all');
    streams.delete(pid);
  };

  const idemCheck = (key: number) =>
    sql.get<{ profile_id: number; kind: string; body_id: number; run_id: number | null; origin_line: number | null; code_id: number | null; source_id: number | null; time: number }>(
      'select profile_id, kind, body_id, run_id, origin_line, code_id, source_id, time from events where idempotency_key = ?',
      key,
    );

  /** Profiles past checkpointEvery() events since their last checkpoint get one at this batch's end. */
  const checkpointAfterAppend = (counts: Map<number, { n: number; last: number; time: number }>, refolds: Set<number>) => {
    for (const [pid, c] of counts) {
      const st = streams.get(pid);
      if (!st || refolds.has(pid)) continue;
      let since = checkpointCounts.get(pid);
      if (since === undefined) checkpointCounts.set(pid, (since = lastCheckpointCount(sql, pid)));
      const row = sql.get<{ event_count: number; last_time: number | null }>('select event_count, last_time from profiles where id = ?', pid)!;
      const total = row.event_count + c.n;
      if (total - since < checkpointEvery()) continue;
      writeCheckpoint(sql, pid, c.last, total, Math.max(row.last_time ?? 0, c.time), st.view, codeId);
      checkpointCounts.set(pid, total);
    }
  };

  const ledger: Ledger = {
    path: db.path,
    notes: [],
    sql,
    append(events) {
      return ledger.appendPrepared(events.map((e) => prepareEvent(e)));
    },
    appendPrepared(events) {
      const result: AppendResult = { appended: 0, duplicates: 0, records: 0, firstPosition: null, lastPosition: null };
      if (events.length === 0) return result;
      try {
        sql.immediate(() => {
          syncCache();
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
          for (const ev of events) {
            if (ev.cacheKey !== lastKey) {
              pid = profileId(ev.cacheKey);
              lastKey = ev.cacheKey;
            }
            const bid = bodyId(ev.kind, ev.json);
            const sid = ev.source === null ? null : dictId(sourceIds, 'sources', 'source', ev.source);
            const rid = ev.run === null ? null : dictId(runIds, 'runs', 'run', ev.run);
            const cid = ev.code ? codeId(ev.code) : null;
            if (ev.origin !== lastOrigin) origin = originId((lastOrigin = ev.origin));
            let key = ev.idem;
            let position = 0;
            for (let seed = 1; ; seed++) {
              const r = insert.run(
                pid,
                ev.kind,
                cid,
                sid,
                bid,
                ev.time,
                rid,
                origin,
                ev.originLine,
                ev.compileId,
                key,
              );
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
            const st = stream(pid);
            if (ev.run !== null && st.retracted.has(ev.run)) continue;
            const step = fold(st.view, ev as PreparedEvent & { code: CodeId; source: string });
            if (!step) continue; // evidence only (shape.described)
            st.dirty.add(step.codeSeq);
            if (step.records.length) {
              result.records += step.records.length;
              insertHistory(position, pid, step);
            }
          }
          for (const [id, st] of streams) {
            if (st.dirty.size && !refolds.has(id)) writeCodeStates(id, st.view, st.dirty);
            st.dirty.clear();
          }
          checkpointAfterAppend(counts, refolds);
          for (const id of refolds) refold(id);
          for (const [id, c] of counts) {
            sql.run(
              'update profiles set event_count = event_count + ?, last_position = ?, last_time = max(coalesce(last_time, 0), ?) where id = ?',
              c.n,
              c.last,
              c.time,
              id,
            );
          }
        });
        seenVersion = sql.dataVersion();
      } catch (e) {
        // The transaction rolled back: whatever was folded in memory for it is void.
        streams.clear();
        profileIds.clear();
        originIds.clear();
        forgetIds();
        throw e;
      }
      return result;
    },
    profiles() {
      return rows(sql, db.kysely.selectFrom('profiles').select(['id', 'cache_key', 'event_count', 'last_position', 'last_time']).orderBy('cache_key')).map((r) => ({
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
      syncCache();
      return loadView(pid);
    },
    fold(pid, window = {}, onStep) {
      if (!onStep && isWholeLog(window)) return ledger.view(pid);
      return foldFresh(pid, window, onStep);
    },
    history(pid) {
      const k = db.kysely;
      const found = rows(
        sql,
        k
          .selectFrom('history as h')
          .innerJoin('events as e', 'e.position', 'h.position')
          .innerJoin('codes as c', 'c.id', 'h.code_id')
          .leftJoin('origins as o', 'o.id', 'e.origin_id')
          .leftJoin('runs as r', 'r.id', 'e.run_id')
          .select(['h.position', 'h.code_seq', 'h.source', 'h.dim_changed', 'h.reason', 'h.cached', 'h.new', 'h.guard', 'r.run', 'e.time', 'e.compile_id', 'o.origin', 'e.origin_line'])
          .select(['c.filename', 'c.firstlineno', 'c.name', 'c.file_hash', 'c.closure_hash', 'c.extra'])
          .where('h.profile_id', '=', pid)
          .orderBy('h.id'),
      );
      return found.map((r) => ({
        position: r.position,
        code: codeFromColumns(r),
        codeSeq: r.code_seq,
        name: r.source,
        dim_changed: /^\d+$/.test(r.dim_changed) ? Number(r.dim_changed) : (r.dim_changed as 'all' | 'scalar'),
        reason: r.reason as DynamicRecord['reason'],
        cached: r.cached,
        new: r.new,
        run: r.run,
        time: r.time,
        compileId: r.compile_id,
        origin: r.origin,
        originLine: r.origin_line,
        guard: r.guard,
      }));
    },
    replay(onProgress) {
      let events = 0;
      let records = 0;
      const views = new Map<number, StreamView>();
      sql.immediate(() => {
        syncCache();
        sql.run('delete from history');
        sql.run('delete from code_states');
        // Older versions could pin the live views to a what-if; the views now always fold the whole log.
        sql.run("delete from meta where key = 'views'");
        const excluded = new Map<number, Set<string>>();
        for (const p of ledger.profiles()) excluded.set(p.id, leftOutRuns(sql, p.id, {}, dict));
        // Checkpoints are rebuilt too, for profiles the whole-log fold equals every prefix's fold
        // of (no retraction); the others fold from the start when asked as of a point.
        sql.run('delete from checkpoints');
        const seen = new Map<number, { n: number; time: number }>();
        const every = checkpointEvery();
        let lastPid = -1;
        let v: StreamView | undefined;
        let ex: Set<string> | undefined;
        let c: { n: number; time: number } | undefined;
        events = scanEvents(
          sql,
          { withTime: true },
          (ev) => {
            if (onProgress && ev.position % 50000 === 0) onProgress(ev.position);
            if (ev.profileId !== lastPid) {
              lastPid = ev.profileId;
              v = views.get(lastPid);
              if (!v) views.set(lastPid, (v = emptyStream()));
              ex = excluded.get(lastPid);
              c = seen.get(lastPid);
              if (!c) seen.set(lastPid, (c = { n: 0, time: 0 }));
            }
            c!.n++;
            if (ev.time > c!.time) c!.time = ev.time;
            if (ev.kind !== 'run.retracted' && !(ev.run !== null && ex?.has(ev.run))) {
              const step = fold(v!, ev);
              if (step?.records.length) {
                records += step.records.length;
                insertHistory(ev.position, ev.profileId, step);
              }
            }
            if (c!.n % every === 0 && ex!.size === 0) writeCheckpoint(sql, ev.profileId, ev.position, c!.n, c!.time, v!, codeId);
          },
          dict,
        );
        for (const [pid, v] of views) writeCodeStates(pid, v, 'all');
        streams.clear();
      });
      seenVersion = sql.dataVersion();
      return { events, profiles: views.size, records };
    },
    importSnapshot(id) {
      const r = sql.get<{ format: string; origin: string; bytes: Uint8Array }>('select format, origin, bytes from imports where id = ?', id);
      return r && { ...r, bytes: pako.inflate(r.bytes) };
    },
    recordImport(format, origin, bytes, digest) {
      // Snapshots are kept deflated: profiles are repetitive and compress well.
      sql.run('insert or ignore into imports(digest, format, origin, bytes, recorded_at) values (?, ?, ?, ?, ?)', digest, format, origin, pako.deflate(bytes), Date.now());
      return sql.get<{ id: number }>('select id from imports where digest = ?', digest)!.id;
    },
    async close() {
      await db.kysely.destroy();
    },
  };
  return ledger;
}
