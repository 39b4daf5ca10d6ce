import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSyncFn } from 'synckit';
import { inputError, LedgerError } from '../../errors.ts';
import { DatabaseVersionError, pathWords, type OpenedDatabase, type OpenOptions, type Sql } from '../database.ts';
import { missingPart, noLedgerToRead, notALedger, unrecordedLedger } from '../damage.ts';
import { CODE_STATE_COLUMNS, EVENT_COLUMNS, HISTORY_COLUMNS, redactUrl, type Dialect } from './dialect.ts';
import { packEvents, recordTransaction, repeatsKey, unpackRows, type PackedEvents } from './pg-rows.ts';
import { askKey, askPrefix } from './pg-ask.ts';
import { batchSpans, spansSelect, spanStart, upsertSpans } from '../profile-spans.ts';
import type { Answer, Call, Reply } from './pg-worker.ts';

/**
 * PostgreSQL through a synchronous bridge: a worker thread owns the pg clients and the store's
 * thread waits on each call (synckit: Atomics.wait on a shared buffer). The store, the fold
 * and every reader stay one synchronous module shared with SQLite; each call is a round trip,
 * so the append and the scans go in batches and pages.
 */

/** The connection and its handshake: a clear error within this, never a hang. */
const CONNECT_TIMEOUT_MS = 3000;
/**
 * The backstop of every call. A server that stops answering mid-session is found far sooner:
 * the worker probes it while a call waits (pg-worker.ts watchCall, every 10 s) and fails the
 * call where a new connection gets no answer either.
 */
const CALL_TIMEOUT_MS = Number(process.env.PGO_LEDGER_PG_TIMEOUT_MS) || 10 * 60_000;

let bridge: ((...c: Call) => Reply<unknown>) | undefined;

/** The worker: dist/pg-worker.mjs beside the bundle, or the TypeScript source through tsx. */
function workerPath(): string {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) {
    const bundled = ['./pg-worker.mjs', '../pg-worker.mjs'].map((p) => new URL(p, self)).find((u) => existsSync(u));
    if (bundled) return fileURLToPath(bundled);
  }
  return fileURLToPath(new URL('./pg-worker-bootstrap.mjs', self));
}

function callWorker(): (...c: Call) => Reply<unknown> {
  bridge ??= createSyncFn(workerPath(), { timeout: CALL_TIMEOUT_MS }) as (...c: Call) => Reply<unknown>;
  return bridge;
}

/**
 * Statements posted inside a transaction (post, postExec; its BEGIN included) and not sent
 * yet: each call is a round trip to the worker thread (a message and a wait), which cost more
 * than the statement itself for the append's many small posts. They go with the next call,
 * ahead of it and in order, so the connection runs them in the order they were posted; their
 * failure fails that call, as it would have failed the next call that waits. The transaction
 * ends with a call that waits (its commit or rollback), so none is left behind; copyEvents, whose
 * COPY must start at once, sends them too.
 */
let unsent: Call[] = [];
/** Tickets of posted statements (their row counts), given here since the worker sees them late. */
let tickets = 0;

/** The answers of reads asked for ahead (ask), by askKey, brought back by the worker's replies and not yet read. */
const answered = new Map<string, Answer>();

function send(bridge: (...c: Call) => Reply<unknown>, c: Call): Reply<unknown> {
  const before = unsent;
  unsent = [];
  let r = before.length ? bridge('after', before, c) : bridge(...c);
  // not answered within the worker's first slice (1 s): its answer comes to 'wait', while the
  // worker probes the server (pg-worker.ts watchCall)
  if (r.pending) r = bridge('wait');
  if (r.answers) for (const [k, a] of r.answers) answered.set(k, a);
  return r;
}

/** Connection-level failures (the server, the role, the rights) are the user's to fix: input errors. */
const INPUT_CLASSES = ['08', '28', '3D', '42501', '53', '57'];

/**
 * Said of a connection cut under a command: the server shut down or restarted, or an admin ended
 * it (57P0x), the socket's own error (a write to a socket the server closed: `write ECONNRESET`,
 * with its errno code), or node-postgres's words for a dead socket (no code).
 */
const LOST = /Connection terminated|not queryable|ECONNRESET|EPIPE|socket hang up/;
const LOST_CODES = /^(57P0[123]|ECONNRESET|EPIPE|ECONNABORTED)$/;

/** pg-worker.ts STALLED: a call failed because the server stopped answering (its probe got no answer either). */
const STALLED = 'PGO_STALLED';

/** A failure of a statement as the store tells it (exported for its test). */
export function pgError(where: string, e: { message: string; code?: string }): Error {
  const err = Object.assign(new Error(e.message), { code: e.code });
  if (e.code === STALLED) {
    err.name = 'PostgresRefusal'; // the ledger can take no more: a many-input command stops here
    return inputError(`${where}: the server stopped answering: ${e.message} (its connections are closed: the server rolls back what they had not committed)`, err);
  }
  // a table or column of the ledger gone (dropped by hand): damage, said as SQLite's is
  if (e.code === '42P01' || e.code === '42703') return missingPart(where, err);
  const lost = LOST_CODES.test(e.code ?? '') || (!e.code && LOST.test(e.message));
  if (!lost && !(e.code && INPUT_CLASSES.some((c) => e.code!.startsWith(c)))) return err;
  // the ledger can take no more input: a many-input command stops here (errors.ts isDatabaseFailure)
  err.name = 'PostgresRefusal';
  return inputError(lost ? `${where}: the connection to the server was lost (${e.message})` : `${where}: ${e.message}`, err);
}

/** Node's TLS codes for a certificate it does not trust or that names another host. */
const CERT_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

function connectError(url: string, e: { message: string; code?: string }): LedgerError {
  const where = redactUrl(url);
  const cause = Object.assign(new Error(e.message), { code: e.code });
  if (e.code === '3D000') return inputError(`${where}: ${e.message}: the database must exist (create it with createdb; pgo-ledger creates the tables, never the database)`, cause);
  if (e.code === '28P01' || e.code === '28000') return inputError(`${where}: ${e.message} (check the user and password of the URL)`, cause);
  if (e.code === 'ECONNREFUSED') return inputError(`cannot connect to ${where}: no server is listening there (${e.message})`, cause);
  if (/timeout/i.test(e.message)) return inputError(`cannot connect to ${where}: the server did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`, cause);
  // what managed PostgreSQL's guides give (sslmode=require) fails here with node-postgres, which checks the certificate
  if (CERT_CODES.test(e.code ?? '')) return inputError(`cannot connect to ${where}: ${e.message}: the server's TLS certificate is checked (node-postgres takes sslmode=require, prefer and verify-ca as verify-full): give its CA with sslrootcert=FILE, or add uselibpqcompat=true to the URL for libpq's sslmode`, cause);
  return inputError(`cannot connect to ${where}: ${e.message}`, cause);
}

export async function openPostgres(url: string, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const where = redactUrl(url);
  try {
    new URL(url);
  } catch (e) {
    throw inputError(`${where} is not a valid PostgreSQL URL (want postgres://user:password@host:5432/database)`, e);
  }
  const bridge = callWorker();
  // The worker answers every call with a Reply; a throw is the bridge's own backstop (no answer in time).
  const call = (...c: Call): Reply<unknown> => {
    try {
      return send(bridge, c);
    } catch (e) {
      throw inputError(`${where}: no answer from the server within ${CALL_TIMEOUT_MS / 1000} s (${(e as Error).message})`, e);
    }
  };
  const r = call('open', url, CONNECT_TIMEOUT_MS);
  if (!r.ok) throw connectError(url, r.error);
  const id = r.value as number;
  const unwrap = <T>(reply: Reply<unknown>): T => {
    if (!reply.ok) throw pgError(where, reply.error);
    return reply.value as T;
  };
  const closeConn = () => void call('close', id);
  try {
    const st = unwrap<{ state: string; unknown: string[]; tables?: string[]; recorded?: number }>(call('state', id));
    if (st.unknown.length) throw new DatabaseVersionError(where, st.unknown);
    // another program's tables, or a ledger's without its record of migrations: refused as SQLite refuses them
    const unrecorded = unrecordedLedger(where, st.tables ?? []);
    if (unrecorded) throw unrecorded;
    if (!options.readonly && st.state === 'new') {
      const foreign = notALedger(where, st.tables ?? [], pathWords(options).give, 'an empty database');
      if (foreign) throw foreign;
    }
    if (options.existing && st.state === 'new') throw inputError(`${where}: no ledger there (it holds no pgo-ledger tables; only ingest and pull create them)`);
    if (options.readonly && st.state === 'new') throw noLedgerToRead(where, st.tables ?? [], pathWords(options).check);
    if (options.readonly && st.state === 'behind') {
      // no migration recorded: no pgo-ledger wrote it, its making was cut off (trial s27a: the server stopped mid-migration)
      if (st.recorded === 0) throw inputError(`${where}: its tables are half made (its first migration was cut off: none is recorded), which a read command never finishes: run a write command on it once (e.g. pgo-ledger replay)`);
      throw inputError(`${where} was written by an older pgo-ledger and must be upgraded, which a read command never does: run a write command on it once (e.g. pgo-ledger replay)`);
    }
    if (!options.readonly && st.state !== 'current') {
      const m = call('migrate', id);
      if (!m.ok && m.error.kind === 'newer') throw new DatabaseVersionError(where, m.error.message.split(', '));
      // a writer role (README "One ledger for a team") may not create: the owner migrates
      const owner = m.ok || m.error.code !== '42501' ? '' : `; this role may not change the tables: the database's owner runs the migrations (one write command as the owner, e.g. pgo-ledger replay), then the others can write`;
      if (!m.ok) throw inputError(`cannot migrate ${where}: ${m.error.message}${owner}`, Object.assign(new Error(m.error.message), { code: m.error.code }));
    }
  } catch (e) {
    closeConn();
    throw e;
  }
  const sql = pgSql(url, id, call, unwrap);
  return { sql, path: where, close: async () => sql.close() };
}

/** The store's Sql over PostgreSQL, and what only PostgreSQL does. */
interface PgSql extends Sql {
  /** Starts a query whose rows a later allRaw of the same statement and parameters takes (pg-worker.ts prefetch). */
  prefetchRaw(statement: string, params: unknown[]): void;
  /**
   * COPY ... FROM STDIN of a batch of events: their positions, taken now, while the COPY runs
   * as the caller goes on (its failure fails the next call); null, nothing written, where the
   * batch holds a key twice or one already taken (pg-worker.ts copyEvents). `spans`: the
   * batch's (profile-spans.ts batchSpans) at positions 1 to n, written in the same statement
   * as the positions are taken, where they are.
   */
  copyEvents(statement: string, events: PackedEvents, spans: number[]): number[] | null;
  /** A statement whose answer nothing needs, run while the caller goes on; its failure fails the next call (pg-worker.ts post). */
  post(statement: string, params: unknown[]): void;
  /** Dialect.ask: a read started ahead, in a transaction, its answer kept for the same read. */
  ask(statement: string, params: unknown[]): void;
  /** COPY ... FROM STDIN of a batch of events at positions from `first` on, taken and checked already in this transaction: posted. */
  copyAt(statement: string, first: number, events: PackedEvents): void;
  /** A statement of no parameters (a DO block) posted in this transaction. */
  postExec(statement: string): void;
  /** Pipeline.transaction: fn in a transaction whose commit is posted; its ticket. */
  later(fn: () => void): number;
  /** Pipeline.settle. */
  settle(ticket: number): void;
  /** Pipeline.send. */
  send(): void;
  /**
   * Where dictionary rows are added (internRows): this connection, or while a pipelined
   * commit of it is under way, a second one of the same URL (opened on first need), since a
   * statement here would wait for that batch to be written.
   */
  dictionary(): Sql;
}

function pgSql(url: string, id: number, callAny: (...c: Call) => Reply<unknown>, unwrap: <T>(r: Reply<unknown>) => T): PgSql {
  const where = redactUrl(url);
  /**
   * A pipelined batch's COPY (copyAt), held back behind the statements posted after it that
   * name no events (its counters, code states, checkpoints: none reads or writes a row of the
   * batch), so that they go ahead of it in one query with its BEGIN, locks and check (the
   * worker's coalesce) and the COPY ends that query: the server runs the batch with no round
   * trip to the worker but its commit. Anything else posted, and every call, sends it first.
   */
  let held: Call | undefined;
  const release = () => {
    if (held) unsent.push(held);
    held = undefined;
  };
  const hold = (c: Call) => {
    if (held && !(c[0] === 'post' && !/events/i.test(c[2]))) release();
    unsent.push(c);
  };
  const call = (...c: Call): Reply<unknown> => {
    release();
    return callAny(...c);
  };
  const q = (s: string, p: unknown[], raw: boolean, packed = false) => {
    let a: Answer | undefined;
    if (answered.size) {
      // asked for ahead (ask), and its answer back: no round trip
      const key = askKey(id, s, p);
      a = answered.get(key);
      answered.delete(key);
    }
    a ??= unwrap<Answer>(call('query', id, s, p, raw));
    if (a.packed && !packed) a.rows = unpackRows(a.packed);
    // an asked read's rows are arrays: objects where the read wants them
    if (a.fields && !raw) a.rows = (a.rows as unknown[][]).map((r) => Object.fromEntries(a.fields!.map((f, j) => [f, r[j]])));
    return a;
  };
  /** The asked reads of this connection not read by the end of their transaction: void. */
  const dropAnswers = () => {
    const prefix = askPrefix(id);
    for (const k of answered.keys()) if (k.startsWith(prefix)) answered.delete(k);
  };
  // SQLite's rowid has no PostgreSQL counterpart: portable code says `returning id`.
  const ran = (rowCount: number) => ({
    changes: rowCount,
    get lastInsertRowid(): number {
      throw new Error('lastInsertRowid is SQLite only: use `insert ... returning id`');
    },
  });
  let depth = 0;
  let closed = false;
  /** Pipelined commits posted and not settled (later, settle). */
  let unsettled = 0;
  /** The second connection for dictionary rows (dictionary). */
  let side: PgSql | undefined;
  /**
   * In a transaction a write goes without waiting for the server (post): its count is read
   * only where a caller asks for it, and its failure fails the next call that waits (at the
   * latest the commit), which rolls the transaction back all the same.
   */
  const runInTransaction = (s: string, p: unknown[]) => {
    const ticket = ++tickets;
    hold(['post', id, s, p, ticket]);
    let changes: number | undefined;
    return {
      get changes(): number {
        return (changes ??= unwrap<number>(call('rowCount', id, ticket)));
      },
      get lastInsertRowid(): number {
        throw new Error('lastInsertRowid is SQLite only: use `insert ... returning id`');
      },
    };
  };
  const sql: PgSql = {
    path: where,
    dialect: postgresDialect,
    run: (s, ...p) => (depth > 0 ? runInTransaction(s, p) : ran(q(s, p, false).rowCount)),
    get: <T>(s: string, ...p: unknown[]) => q(s, p, false).rows[0] as T | undefined,
    all: <T>(s: string, ...p: unknown[]) => q(s, p, false).rows as T[],
    statement: (s) => ({ run: (p: readonly unknown[]) => ran(q(s, p as unknown[], false).rowCount) }),
    allRaw: (s, ...p) => q(s, p, true).rows as unknown[][],
    pluck(s, ...p) {
      const a = q(s, p, true, true);
      const k = a.packed;
      // a column of numbers: its values as they crossed (no array a row, no value copied)
      if (k && k.width === 1 && !k.texts && !k.nulls.includes(1)) return k.values as unknown as unknown[];
      return (k ? unpackRows(k) : (a.rows as unknown[][])).map((r) => r[0]);
    },
    exec: (s) => void unwrap(call('exec', id, s)),
    prefetchRaw: (s, p) => void unwrap(call('prefetch', id, s, p)),
    copyEvents(s, events, spans) {
      // the batch's range is recorded with its transaction (pg-worker.ts), which must be the COPY's too: none outside one
      if (depth === 0) return null;
      const first = unwrap<number | null>(call('copyEvents', id, s, events, spans));
      if (first === null) return null;
      // one block: the batch's positions run without a gap
      const positions = new Array<number>(events.kindOf.length);
      for (let i = 0; i < positions.length; i++) positions[i] = first + i;
      return positions;
    },
    post: (s, p) => void (depth > 0 ? hold(['post', id, s, p, 0]) : unwrap(call('post', id, s, p, 0))),
    copyAt(s, first, events) {
      if (depth === 0) throw new Error('bug: copyAt outside a transaction');
      release();
      held = ['copyAt', id, s, first, events];
    },
    postExec(s) {
      if (depth === 0) throw new Error('bug: postExec outside a transaction');
      hold(['postExec', id, s]);
    },
    later(fn) {
      if (depth !== 0) throw new Error('bug: a pipelined transaction inside another');
      hold(['postExec', id, 'begin']);
      depth++;
      try {
        fn();
      } catch (e) {
        held = undefined; // rolled back: not written
        try {
          sql.exec('rollback');
        } catch {
          /* the connection is gone: the server rolled back */
        }
        throw e;
      } finally {
        depth--;
        dropAnswers();
      }
      // sent with the next call (Pipeline.send, or the settle of the batch before), not waited for
      const ticket = ++tickets;
      hold(['postExec', id, 'commit', ticket]);
      unsettled++;
      return ticket;
    },
    settle(ticket) {
      unsettled--;
      unwrap(call('settle', id, ticket));
    },
    send: () => void unwrap(call('flush')),
    dictionary() {
      if (unsettled === 0 || depth !== 0) return sql;
      if (!side) {
        const r = call('open', url, CONNECT_TIMEOUT_MS);
        if (!r.ok) throw connectError(url, r.error);
        side = pgSql(url, r.value as number, callAny, unwrap);
      }
      return side;
    },
    // outside a transaction the read runs when made: there is no later call to bring it back sooner
    ask(s, p) {
      if (depth === 0) return;
      answered.delete(askKey(id, s, p)); // an earlier answer (of a batch run again) is not this one
      hold(['ask', id, s, p]);
    },
    immediate<T>(fn: () => T): T {
      // Nested calls (an import around its append) are savepoints, as better-sqlite3 makes them.
      const name = `s${depth}`;
      const outer = depth === 0;
      // not waited for (nor sent before the next call): a failure fails the transaction's next call, inside the try below
      hold(['postExec', id, outer ? 'begin' : `savepoint ${name}`]);
      depth++;
      try {
        const out = fn();
        // a posted write's failure fails this call: the catch below rolls back
        sql.exec(outer ? 'commit' : `release savepoint ${name}`);
        return out;
      } catch (e) {
        dropAnswers();
        try {
          sql.exec(outer ? 'rollback' : `rollback to savepoint ${name}`);
        } catch {
          /* the connection is gone: the server rolled back */
        }
        throw e;
      } finally {
        depth--;
        if (outer) dropAnswers();
      }
    },
    // Other writers are seen per profile under its lock (append.ts), not per connection.
    dataVersion: () => 0,
    close() {
      if (closed) return;
      closed = true;
      side?.close();
      call('close', id);
    },
  };
  return sql;
}

/** Namespaces of the advisory locks: the whole ledger (replay) and one profile (an append). */
const LOCK_ALL = 0x70676f61;
export const LOCK_PROFILE = 0x70676f70;

const EVENT_TYPES = ['bigint', 'text', 'bigint', 'bigint', 'bigint', 'float8', 'bigint', 'bigint', 'bigint', 'text', 'bigint'];
const HISTORY_TYPES = ['bigint', 'bigint', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text'];

/** `insert ... select from unnest($1::t1[], ...)`: a whole batch in one statement and one round trip. */
function unnestInsert(table: string, columns: string, types: string[], tail: string): string {
  const names = columns.split(', ');
  return `insert into ${table}(${columns}) select ${names.join(', ')} from unnest(${types.map((t) => `?::${t}[]`).join(', ')}) with ordinality as u(${names.join(', ')}, ord) order by ord ${tail}`;
}
/**
 * The events that take their keys, at a block of positions (take_positions: every taker of
 * positions takes a block, see its migration; a row that skips its key leaves its position
 * unused, as the column's default did), and their transaction's range (readAfter) recorded in
 * the same statement. Its parameters: the batch's size, then the columns.
 */
const INSERT_EVENTS = `with p as materialized (select take_positions(?::int8) lo),
    i as (insert into events(position, ${EVENT_COLUMNS}) select p.lo + u.ord - 1, ${EVENT_COLUMNS}
      from p, unnest(${EVENT_TYPES.map((t) => `?::${t}[]`).join(', ')}) with ordinality as u(${EVENT_COLUMNS}, ord) order by u.ord
      on conflict (idempotency_key) do nothing returning position, idempotency_key, profile_id),
    x as (${recordTransaction('select pg_current_xact_id(), min(position), max(position) from i having count(*) > 0')}),
    y as (${upsertSpans(`select g.profile_id, ${spanStart('g.profile_id', 'g.first_position')}, g.last_position from (${spansSelect('i')}) g`)})
  select position, idempotency_key from i`;
const INSERT_HISTORY = unnestInsert('history', HISTORY_COLUMNS, HISTORY_TYPES, '');
const CODE_STATE_TYPES = ['bigint', 'bigint', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text'];
const UPSERT_CODE_STATES = unnestInsert('code_states', CODE_STATE_COLUMNS, CODE_STATE_TYPES, 'on conflict (profile_id, seq) do update set entries = excluded.entries');

/** Batches from this size go by COPY (far less work for the server than the insert); a smaller one is one insert, no key lookup. */
const COPY_MIN = 256;

const COPY_EVENTS = `copy events(position, ${EVENT_COLUMNS}) from stdin with (format binary)`;

function columnsOf(rows: readonly unknown[][], n: number): unknown[][] {
  const cols: unknown[][] = Array.from({ length: n }, () => new Array(rows.length));
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < n; j++) cols[j][i] = rows[i][j];
  return cols;
}

const encoder = new TextEncoder();

const DICTIONARIES = {
  bodies: { columns: ['kind', 'version', 'payload'], types: ['text', 'bigint', 'bytea'], match: 't.kind = u.kind and t.version = u.version and md5(t.payload) = md5(u.payload) and t.payload = u.payload' },
  sources: { columns: ['source'], types: ['text'], match: 't.source = u.source' },
  runs: { columns: ['run'], types: ['text'], match: 't.run = u.run' },
  codes: {
    columns: ['file_hash', 'firstlineno', 'name', 'filename', 'closure_hash', 'extra'],
    types: ['text', 'bigint', 'text', 'text', 'text', 'text'],
    match: 't.file_hash = u.file_hash and t.firstlineno = u.firstlineno and t.name = u.name and t.filename = u.filename and t.closure_hash = u.closure_hash and t.extra = u.extra',
  },
};

/** Numbers written into a statement's text (a DO block takes no parameters): integers only. */
function int(n: number | null): string {
  if (n === null) return 'null';
  if (!Number.isSafeInteger(n)) throw new Error(`bug: ${n} is no integer`);
  return String(n);
}

/** Flat triples of integers (batchSpans') as the rows of a VALUES list. */
function triples(t: readonly number[]): string {
  const out: string[] = [];
  for (let k = 0; k < t.length; k += 3) out.push(`(${int(t[k])}::int8, ${int(t[k + 1])}::int8, ${int(t[k + 2])}::int8)`);
  return out.join(', ');
}

/**
 * Pipeline.insertEventsAt's check, under the batch's locks, and its positions taken: the
 * failure of either is a serialization failure (the batch is appended again, the usual way).
 * The positions are taken only once the rest holds, so a failed check takes none.
 */
function pipelineCheck(base: number, n: number, counters: ReadonlyMap<number, { event_count: number; last_position: number | null }>, spans: readonly number[]): string {
  const expect = [...counters].map(([id, c]) => `(${int(id)}, ${int(c.event_count)}, ${int(c.last_position)})`).join(', ');
  const fail = `raise exception 'pgo-ledger: the batch was folded at positions from ${int(base)} on, which no longer hold' using errcode = '40001'`;
  return `do $$ begin
    if coalesce((select max(position) from events), 0) <> ${int(base - 1)} or exists (select 1 from live_merges)
      or (select count(*) from profiles p join (values ${expect}) as v(id, n, last) on p.id = v.id and p.event_count = v.n and p.last_position = v.last) <> ${int(counters.size)}
    then ${fail}; end if;
    if take_positions(${int(n)}) <> ${int(base)} then ${fail}; end if;
    ${recordTransaction(`select pg_current_xact_id(), ${int(base)}, ${int(base + n - 1)}`)};
    ${upsertSpans(`select u.p, ${spanStart('u.p', 'u.a')}, u.b from (values ${triples(spans)}) as u(p, a, b)`)};
  end $$`;
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  internFirst: true,
  remote: true,
  pipeline: {
    transaction: (sql, fn) => (sql as PgSql).later(fn),
    insertEventsAt(sql, rows, base, counters) {
      const packed = rows.length && counters.size ? packEvents(rows) : undefined;
      // a key twice in the batch: only the insert that skips taken keys keeps the first
      if (!packed || repeatsKey(packed)) throw new Error('this batch goes by the insert that skips taken keys');
      const pg = sql as PgSql;
      pg.postExec(pipelineCheck(base, rows.length, counters, batchSpans(rows.length, (k) => rows[k][0], (k) => base + k)));
      pg.copyAt(COPY_EVENTS, base, packed);
    },
    settle: (sql, ticket) => (sql as PgSql).settle(ticket),
    send: (sql) => (sql as PgSql).send(),
  },
  lock(sql, profiles) {
    if (profiles === 'all') {
      sql.get('select pg_advisory_xact_lock(?::bigint)', LOCK_ALL);
      return;
    }
    // Writers share the ledger's lock (replay takes it alone) and take their profiles' in one order: no deadlock.
    // Both are posted: the connection runs the batch's next statements after them, and the
    // next call that waits (the profiles' counters) waits for the locks too, or fails with
    // them (a deadlock's 40P01: the batch runs again).
    const pg = sql as PgSql;
    pg.post('select pg_advisory_xact_lock_shared(?::bigint)', [LOCK_ALL]);
    const ids = [...new Set(profiles)].sort((a, b) => a - b);
    if (ids.length) pg.post('select pg_advisory_xact_lock(?::int4, id) from unnest(?::int4[]) as u(id)', [LOCK_PROFILE, ids]);
  },
  prefetchRaw: (sql, statement, params) => (sql as PgSql).prefetchRaw(statement, params),
  ask: (sql, statement, params) => (sql as PgSql).ask(statement, params),
  insertEvents(sql, rows) {
    if (!rows.length) return [];
    // packed, the batch crosses to the worker at little cost, and the worker writes its COPY data
    const packed = rows.length >= COPY_MIN ? packEvents(rows) : undefined;
    if (packed) {
      const positions = (sql as PgSql).copyEvents(COPY_EVENTS, packed, batchSpans(rows.length, (k) => rows[k][0], (k) => k + 1));
      if (positions) return positions;
      // a key repeated or taken: nothing was written; the insert below skips taken keys (and keeps a repeated key's first row)
    }
    const got = sql.allRaw(INSERT_EVENTS, rows.length, ...columnsOf(rows, 11));
    const byKey = new Map<number, number>();
    for (const r of got) byKey.set(r[1] as number, r[0] as number);
    // Two rows of one key in a batch: the first took it.
    return rows.map((r) => {
      const p = byKey.get(r[10]);
      if (p === undefined) return 0;
      byKey.delete(r[10]);
      return p;
    });
  },
  internRows(on, table, rows) {
    if (!rows.length) return [];
    // committed at once, as every dictionary row on PostgreSQL (internFirst)
    const sql = (on as PgSql).dictionary();
    const d = DICTIONARIES[table];
    const cols = d.columns.join(', ');
    const arrays = d.types.map((t) => `?::${t}[]`).join(', ');
    const params = columnsOf(rows, d.columns.length);
    // One statement: the rows it adds (in key order: concurrent writers adding overlapping rows
    // wait on each other in one order, never in a cycle) and those it found. A row another
    // writer committed after the statement began is in neither (its insert skipped, its
    // snapshot older): then the rows are looked up again.
    const added = d.match.replace(/\bt\./g, 'a.');
    let ids = sql
      .allRaw(
        `with u as (select * from unnest(${arrays}) with ordinality as u(${cols}, ord)),
          a as (insert into ${table}(${cols}) select ${cols} from u order by ${cols} on conflict do nothing returning id, ${cols})
        select coalesce(a.id, t.id) from u left join a on ${added} left join ${table} t on ${d.match} order by u.ord`,
        ...params,
      )
      .map((r) => r[0] as number | null);
    if (ids.includes(null)) ids = sql.allRaw(`select t.id from unnest(${arrays}) with ordinality as u(${cols}, ord) join ${table} t on ${d.match} order by u.ord`, ...params).map((r) => r[0] as number);
    if (ids.length !== rows.length) throw new Error(`${table}: ${rows.length} rows interned, ${ids.length} found`);
    return ids as number[];
  },
  insertHistory(sql, rows) {
    if (rows.length) (sql as PgSql).post(INSERT_HISTORY, columnsOf(rows, 10));
  },
  upsertCodeStates(sql, rows) {
    if (rows.length) (sql as PgSql).post(UPSERT_CODE_STATES, columnsOf(rows, 9));
  },
  payload: (p) => (typeof p === 'string' ? encoder.encode(p) : p),
  // a fraction, NaN (above every number here) or an infinity fails it
  wholeUpTo: (expr, mask) => `(${expr} between 0 and ${mask} and ${expr} = trunc(${expr}))`,
  // a float8 holds each whole number below 2**53 exactly; a raw read gives the array's elements, one a row (pg-rows.ts FLOAT8_ARRAY)
  numbersByPosition: (expr, where) => `select array_agg((${expr})::float8 order by position) from events where ${where}`,
  findBody: (sql, kind, version, payload) =>
    sql.get<{ id: number }>('select id from bodies where kind = ? and version = ? and md5(payload) = md5(?::bytea) and payload = ?', kind, version, payload, payload)?.id,
  // The server keeps its own files whole; what it cannot know is that event_transactions, the
  // follower's index of the log (readAfter), covers every event: one it misses, a follower never reads.
  tables: (sql) => sql.all<{ name: string }>('select tablename as name from pg_tables where schemaname = current_schema()').map((r) => r.name),
  integrityCheck: (sql) => {
    const missed = sql.allRaw(
      `select e.transaction_id::text, count(*)::int from events e where not exists (select 1 from event_transactions t
         where t.transaction_id = e.transaction_id and e.position between t.first_position and t.last_position)
       group by e.transaction_id order by e.transaction_id limit 5`,
    ) as [string, number][];
    return missed.length ? missed.map(([tx, n]) => `event_transactions does not cover ${n} event(s) of transaction ${tx}: a follower would not read them`) : ['ok'];
  },
  // Positions come from a sequence, taken before commit: a transaction that commits late holds
  // lower positions than events already read. Only transactions below the oldest one still
  // running are final, read in (transaction, position) order: the rule of Emmett's PostgreSQL
  // store (event-driven-io/emmett, src/packages/emmett-postgresql/src/eventStore/schema/
  // readMessagesBatch.ts), with the (transaction, position) cursor of Beckett's read_global_stream.
  // The transactions come from event_transactions (one row each, with the range of positions it
  // wrote), the events of each by position in that range (the primary key), keeping the
  // transaction's own (others' may lie between). The transactions read are those whose ranges,
  // before each, span fewer positions than the limit (the first always): a page reads about
  // `limit` positions however large the log or a transaction. The limit + 1 transactions
  // include one with events past the cursor if any is final (every transaction recorded
  // wrote some; only the cursor's own may have none left).
  readAfter: (sql, columns, cursor, limit) =>
    sql.allRaw(
      // a select (not a with) once its types are known runs as a binary COPY (pg-worker.ts rawQuery)
      `select e.transaction_id::text, e.position, ${columns} from (
         select tx, lo, hi from (
           select tx, lo, hi, coalesce(sum(greatest(hi - lo, 0)) over (order by tx rows between unbounded preceding and 1 preceding), 0) spanned from (
             select transaction_id tx, case when transaction_id = ?::xid8 then greatest(first_position - 1, ?) else first_position - 1 end lo, last_position hi
             from event_transactions where transaction_id >= ?::xid8 and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
             order by transaction_id limit ${limit + 1}) w) s
         where spanned < ${limit}) c
       cross join lateral (
         select * from events e where e.position > c.lo and e.position <= c.hi and e.transaction_id = c.tx order by e.position limit ${limit}) e
       order by e.transaction_id, e.position limit ${limit}`,
      cursor.transaction,
      cursor.position,
      cursor.transaction,
    ),
};
