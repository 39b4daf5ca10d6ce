import type { Sql } from '../database.ts';

/**
 * What differs between the store's two backends, and nothing else: the write lock, the bulk
 * inserts of the append, finding a body, and the integrity check. Every other SQL string of
 * the store is portable and shared.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * Whether an append writes its dictionary rows (profiles, bodies, sources, runs, codes,
   * origins) before its transaction, each committed at once. PostgreSQL: yes, so that
   * concurrent writers never wait on (or deadlock over) each other's uncommitted dictionary
   * rows; a rolled-back batch leaves rows no event names, which change no answer. SQLite: no,
   * one writer at a time, and one transaction is cheaper than many.
   */
  readonly internFirst: boolean;
  /** Each query is a round trip to a server: the log's scans read their dictionary rows a page at a time. */
  readonly remote: boolean;
  /**
   * Takes the write lock inside the current transaction (Sql.immediate): for the profiles a
   * batch touches (writers of different profiles may run at once, writers of one profile
   * queue, so a profile's fold follows position order), or for the whole ledger ('all', replay).
   */
  lock(sql: Sql, profiles: readonly number[] | 'all'): void;
  /**
   * Where each query is a round trip: the ids of many dictionary rows (each [kind, version,
   * payload] of bodies, [source] of sources, [run] of runs, [file_hash, firstlineno, name,
   * filename, closure_hash, extra] of codes, none repeated), added where new, in a few
   * statements. Absent: the interner adds them one by one.
   */
  internRows?(sql: Sql, table: 'bodies' | 'sources' | 'runs' | 'codes', rows: readonly unknown[][]): number[];
  /**
   * Where each query is a round trip: starts the query a reader will make next (the next page
   * of a scan) while it works on this one; Sql.allRaw of the same statement and parameters
   * then takes its rows. Absent: nothing to gain.
   */
  prefetchRaw?(sql: Sql, statement: string, params: unknown[]): void;
  /**
   * Where each query is a round trip: starts a read now, inside the current transaction and
   * after what it has sent so far, whose answer comes back with the next call that waits; the
   * same read later (Sql.all, get or allRaw, the same statement and parameters, in the same
   * transaction) then takes it without a round trip of its own. Only for a read whose rows
   * nothing in between changes. Absent: the read runs when made.
   */
  ask?(sql: Sql, statement: string, params: unknown[]): void;
  /**
   * Where each query is a round trip: batches whose commits are not waited for, so that the
   * server writes one batch while the store folds the next (ledger.ts appendPipelined).
   * Absent: each append waits for its commit.
   */
  pipeline?: Pipeline;
  /** Inserts events skipping known idempotency keys, and their spans (profile-spans.ts); the position of each row, 0 where its key was taken. */
  insertEvents(sql: Sql, rows: readonly EventRow[]): number[];
  insertHistory(sql: Sql, rows: readonly HistoryInsert[]): void;
  /** Writes code states, replacing the entries of those already stored (one statement on PostgreSQL). */
  upsertCodeStates(sql: Sql, rows: readonly CodeStateRow[]): void;
  /** A body's payload as its column takes it. */
  payload(p: string | Uint8Array): string | Uint8Array;
  /** The id of a stored body, found through its unique index. */
  findBody(sql: Sql, kind: string, version: number, payload: string | Uint8Array): number | undefined;
  /**
   * SQL that is true where `expr`, an event's time less a whole number, is a whole number from
   * 0 to `mask` (replay's packed scan): SQLite's times are integers, which a mask tells apart
   * with integer arithmetic; PostgreSQL's are doubles, which take no bitwise operator.
   */
  wholeUpTo(expr: string, mask: number): string;
  /**
   * The query of a number for each event `where` holds (`expr`: a time, or a whole number below 2**53), in
   * position order, as Sql.pluck reads it: SQLite, a row each; PostgreSQL, one float8 array
   * (a row would cross as a message of its own, which cost the server and the worker more than
   * the numbers did).
   */
  numbersByPosition(expr: string, where: string): string;
  /** The database's own check: ['ok'] when sound. */
  integrityCheck(sql: Sql): string[];
  /** The names of the tables the ledger's database (or schema) holds. */
  tables(sql: Sql): string[];
  /**
   * The follower's read rule (follow.ts): up to `limit` events after the cursor in commit
   * order, never one that a transaction still running could precede. Rows: [transaction,
   * position, ...columns].
   */
  readAfter(sql: Sql, columns: string, cursor: FollowCursor, limit: number): unknown[][];
}

/**
 * A batch's transaction whose commit is posted, not waited for. Its events' positions were
 * predicted when it was folded (append.ts foldAhead); under its locks the transaction checks
 * them and what the fold read, and fails as a serialization failure (40001), writing nothing,
 * where they do not hold.
 */
export interface Pipeline {
  /** Runs fn, which posts the batch's writes, in a transaction whose commit is posted: the ticket that settle takes. */
  transaction(sql: Sql, fn: () => void): number;
  /**
   * The batch's events (and spans, profile-spans.ts) at positions from `base` on, where these are the next positions taken
   * and `base - 1` the log's last, each profile's counters are as given, and no live merge is
   * defined (the batch would have to join its targets). Throws, posting nothing, where the
   * rows cannot go this way (the caller then appends the batch the usual way).
   */
  insertEventsAt(sql: Sql, rows: readonly EventRow[], base: number, counters: ReadonlyMap<number, { event_count: number; last_position: number | null }>): void;
  /** Waits for a transaction's commit (its ticket); throws its failure, where nothing of it was written. */
  settle(sql: Sql, ticket: number): void;
  /**
   * Sends the statements of the transactions posted so far to the server, waiting for nothing
   * (settle sends them too, first): each send is a round trip to the thread that sends them.
   */
  send(sql: Sql): void;
}

/** Where a follower is: the last event read, by its transaction (xid8 as text; '0' on SQLite) and position. */
export interface FollowCursor {
  transaction: string;
  position: number;
}

/** An event row: profile_id, kind, code_id, source_id, body_id, time, run_id, origin_id, origin_line, compile_id, idempotency_key. */
export type EventRow = [number, string, number | null, number | null, number, number, number | null, number | null, number | null, string | null, number];
/** A history row: position, profile_id, code_seq, code_id, source, dim_changed, reason, cached, new, guard. */
export type HistoryInsert = [number, number, number, number, string, string, string, string, string, string | null];

/** A code state row: profile_id, seq, filename, firstlineno, name, file_hash, closure_hash, extra, entries. */
export type CodeStateRow = [number, number, string, number, string, string, string, string, string];

export const EVENT_COLUMNS = 'profile_id, kind, code_id, source_id, body_id, time, run_id, origin_id, origin_line, compile_id, idempotency_key';
export const HISTORY_COLUMNS = 'position, profile_id, code_seq, code_id, source, dim_changed, reason, cached, new, guard';
export const CODE_STATE_COLUMNS = 'profile_id, seq, filename, firstlineno, name, file_hash, closure_hash, extra, entries';

/** postgres:// or postgresql:// selects PostgreSQL; anything else is a SQLite path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * The scheme of a URL we do not serve (`mysql://…`, SQLite's own `file:…` URIs, which
 * better-sqlite3 would take as a folder named `file:`), else undefined: taken as a path it
 * said only "no ledger at mysql://x", or made a file of that name.
 */
export function unservedScheme(db: string): string | undefined {
  if (isPostgresUrl(db)) return undefined;
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1] ?? /^(file):/i.exec(db)?.[1];
}

/** What --db takes, for the message that refuses another scheme. */
export const SERVED_DATABASES = 'a SQLite file path, or a postgres:// or postgresql:// URL';

/** The URL with its password left out, for messages. */
export function redactUrl(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
