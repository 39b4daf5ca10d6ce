import { parseCacheKey } from '../model/cache-key.ts';
import type { CodeId } from '../model/code-id.ts';
import { closureColumn, extraColumn } from './code-columns.ts';
import type { Sql } from './database.ts';
import { CURRENT_VERSION, encodePayload, type EventKind } from './events.ts';
import { dictionaries, type Dictionaries } from './log.ts';
import { addProfileRun } from './profile-runs.ts';

/**
 * Interning: the ids of the log's dictionary rows (profiles, origins, codes, sources, runs,
 * bodies), added when new, each looked up once and then served from memory, and the readers
 * of the same tables. An event row is these ids.
 */
export interface Interner {
  profileId(cacheKey: string): number;
  originId(origin: string | null | undefined): number | null;
  codeId(code: CodeId): number;
  sourceId(source: string): number;
  runId(run: string): number;
  bodyId(kind: string, json: string): number;
  /**
   * Notes that a profile holds a run from the given position on (profile_runs): called in
   * position order, the first call for a profile and run adds its row, the rest are known.
   */
  profileRun(profileId: number, runId: number, position: number): void;
  /** Where the dialect adds dictionary rows in bulk: those of a batch's events not cached yet, at once. */
  prime(events: readonly { kind: string; json: string; source: string | null; run: string | null; code?: CodeId | null; memo?: { gen: number } | null }[]): void;
  /** The readers of the same tables (rows read once). */
  readonly dict: Dictionaries;
  /** Ids handed out in a transaction that rolled back, or by another writer, are not to be trusted. */
  forget(): void;
  /**
   * A transaction rolled back on a backend that commits its dictionary rows first
   * (Dialect.internFirst): their ids hold; what the transaction itself wrote (the profiles'
   * runs noted) is forgotten. Elsewhere, forget().
   */
  rolledBack(): void;
  /** Counts the calls of forget(): ids kept from before another one are void. */
  readonly generation: number;
  /**
   * Ids from memory and reads only, as an append folding ahead of the write lock needs them
   * (append.ts foldAhead): while set, a row not cached is read (another writer may have added
   * it), and an id that would add a row throws NOT_CACHED instead.
   */
  cachedOnly: boolean;
}

/** Thrown by an Interner in cachedOnly mode for an id it would have to add. */
export const NOT_CACHED = new Error('bug: an interner id that is not cached, asked for outside the write lock');

const BOUND = 200_000;

/** A code id's row in the codes table, as a key (its unique columns). */
const codeRowKey = (c: CodeId) => `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}\u0000${c.filename}\u0000${closureColumn(c)}\u0000${extraColumn(c)}`;

export function createInterner(sql: Sql): Interner {
  const profileIds = new Map<string, number>();
  const originIds = new Map<string, number>();
  const codeIds = new Map<string, number>();
  let codeIdsByObject = new WeakMap<CodeId, number>();
  const sourceIds = new Map<string, number>();
  const runIds = new Map<string, number>();
  const bodyIds = new Map<string, Map<string, number>>();
  let bodyCount = 0;
  const runsOf = new Map<number, Set<number>>();
  let dict = dictionaries(sql);
  let generation = 0;
  let cachedOnly = false;
  const adding = () => {
    if (cachedOnly) throw NOT_CACHED;
  };
  /**
   * Outside the write lock (cachedOnly), the id of a row as read: another writer may have added
   * it (writers of one ledger add the same code ids, sources, runs and bodies), and a row is
   * never changed nor deleted once committed. Only a row not there yet needs the lock.
   */
  const known = (id: number | undefined): number => {
    if (id === undefined) throw NOT_CACHED;
    return id;
  };

  /** The id of a dictionary entry (sources, runs, origins), added if new. */
  const dictId = (cache: Map<string, number>, table: 'sources' | 'runs' | 'origins', column: 'source' | 'run' | 'origin', value: string): number => {
    let id = cache.get(value);
    if (id !== undefined) return id;
    if (cachedOnly) id = known(sql.get<{ id: number }>(`select id from ${table} where ${column} = ?`, value)?.id);
    else {
      sql.run(`insert into ${table}(${column}) values (?) on conflict do nothing`, value);
      id = sql.get<{ id: number }>(`select id from ${table} where ${column} = ?`, value)!.id;
    }
    if (cache.size > BOUND) cache.clear();
    cache.set(value, id);
    return id;
  };

  return {
    get dict() {
      return dict;
    },
    get generation() {
      return generation;
    },
    get cachedOnly() {
      return cachedOnly;
    },
    set cachedOnly(on: boolean) {
      cachedOnly = on;
    },
    prime(events) {
      const bulk = sql.dialect.internRows;
      // ids from memory and reads only: the single calls read, and throw NOT_CACHED, row by row
      if (!bulk || cachedOnly) return;
      const bodies = new Map<string, { kind: string; json: string }>();
      const sources = new Set<string>();
      const runs = new Set<string>();
      const codes = new Map<string, CodeId>();
      const seen = new Set<CodeId>();
      for (const ev of events) {
        // its ids worked out in this generation (append.ts internBatch takes them from the memo): its rows are there
        if (ev.memo && ev.memo.gen === generation) continue;
        if (ev.code && !seen.has(ev.code) && !codeIdsByObject.has(ev.code)) {
          seen.add(ev.code);
          const k = codeRowKey(ev.code);
          if (!codeIds.has(k)) codes.set(k, ev.code);
        }
        if (!bodyIds.get(ev.kind)?.has(ev.json)) bodies.set(`${ev.kind}\u0000${ev.json}`, ev);
        if (ev.source !== null && !sourceIds.has(ev.source)) sources.add(ev.source);
        if (ev.run !== null && !runIds.has(ev.run)) runs.add(ev.run);
      }
      if (bodies.size) {
        const want = [...bodies.values()];
        const ids = bulk(sql, 'bodies', want.map((b) => [b.kind, CURRENT_VERSION[b.kind as EventKind], sql.dialect.payload(encodePayload(b.json))]));
        if (bodyCount + want.length > BOUND) {
          bodyIds.clear();
          bodyCount = 0;
        }
        want.forEach((b, i) => {
          let byJson = bodyIds.get(b.kind);
          if (!byJson) bodyIds.set(b.kind, (byJson = new Map()));
          byJson.set(b.json, ids[i]);
          bodyCount++;
        });
      }
      if (codes.size) {
        const want = [...codes];
        const ids = bulk(sql, 'codes', want.map(([, c]) => [c.file_hash, c.firstlineno, c.name, c.filename, closureColumn(c), extraColumn(c)]));
        want.forEach(([k], i) => codeIds.set(k, ids[i]));
        dict.load('codes', ids); // the append's why fold reads each one's row
      }
      for (const [set, table, cache] of [[sources, 'sources', sourceIds], [runs, 'runs', runIds]] as const) {
        if (!set.size) continue;
        const want = [...set];
        const ids = bulk(sql, table, want.map((v) => [v]));
        if (cache.size + want.length > BOUND) cache.clear();
        want.forEach((v, i) => cache.set(v, ids[i]));
      }
    },
    profileId(key) {
      let id = profileIds.get(key);
      if (id !== undefined) return id;
      const row = sql.get<{ id: number }>('select id from profiles where cache_key = ?', key);
      if (row) id = row.id;
      else {
        adding();
        const k = parseCacheKey(key);
        // another writer may add it at the same time (PostgreSQL): then its row is the one
        id =
          sql.get<{ id: number }>('insert into profiles(cache_key, job, rank, tag) values (?, ?, ?, ?) on conflict do nothing returning id', key, k.job, k.rank, k.tag)?.id ??
          sql.get<{ id: number }>('select id from profiles where cache_key = ?', key)!.id;
      }
      profileIds.set(key, id);
      return id;
    },
    originId(origin) {
      return origin == null ? null : dictId(originIds, 'origins', 'origin', origin);
    },
    codeId(c) {
      // a code id the log's reader made (replay's, a window's fold) names its row: no query (a
      // round trip each on PostgreSQL)
      let id = codeIdsByObject.get(c) ?? dict.codeRow(c);
      if (id !== undefined) return id;
      const closure = closureColumn(c);
      const extra = extraColumn(c);
      const k = codeRowKey(c);
      id = codeIds.get(k);
      if (id === undefined) {
        if (!cachedOnly) sql.run('insert into codes(filename, firstlineno, name, file_hash, closure_hash, extra) values (?, ?, ?, ?, ?, ?) on conflict do nothing', c.filename, c.firstlineno, c.name, c.file_hash, closure, extra);
        id = known(sql.get<{ id: number }>(
          'select id from codes where file_hash = ? and firstlineno = ? and name = ? and filename = ? and closure_hash = ? and extra = ?',
          c.file_hash, c.firstlineno, c.name, c.filename, closure, extra,
        )?.id);
        codeIds.set(k, id);
      }
      codeIdsByObject.set(c, id);
      return id;
    },
    profileRun(pid, rid, position) {
      let runs = runsOf.get(pid);
      if (!runs) runsOf.set(pid, (runs = new Set()));
      if (runs.has(rid)) return;
      adding();
      addProfileRun(sql, pid, rid, position);
      runs.add(rid);
    },
    sourceId: (source) => dictId(sourceIds, 'sources', 'source', source),
    runId: (run) => dictId(runIds, 'runs', 'run', run),
    bodyId(kind, json) {
      let byJson = bodyIds.get(kind);
      if (!byJson) bodyIds.set(kind, (byJson = new Map()));
      let id = byJson.get(json);
      if (id !== undefined) return id;
      const payload = sql.dialect.payload(encodePayload(json));
      const version = CURRENT_VERSION[kind as EventKind];
      id = cachedOnly
        ? known(sql.dialect.findBody(sql, kind, version, payload))
        : (sql.get<{ id: number }>('insert into bodies(kind, version, payload) values (?, ?, ?) on conflict do nothing returning id', kind, version, payload)?.id ?? sql.dialect.findBody(sql, kind, version, payload)!);
      if (++bodyCount > BOUND) {
        bodyIds.clear();
        bodyCount = 0;
      }
      byJson.set(json, id);
      return id;
    },
    rolledBack() {
      if (sql.dialect.internFirst) runsOf.clear();
      else this.forget();
    },
    forget() {
      generation++;
      profileIds.clear();
      originIds.clear();
      codeIds.clear();
      codeIdsByObject = new WeakMap();
      sourceIds.clear();
      runIds.clear();
      runsOf.clear();
      bodyIds.clear();
      bodyCount = 0;
      dict = dictionaries(sql);
    },
  };
}
