import type { Migration, MigrationProvider, sql as Sql } from 'kysely';
import pg from 'pg';
import { runAsWorker } from 'synckit';
import { migrations } from '../../../migrations/index.ts';
import { askKey } from './pg-ask.ts';
import { spanStart, upsertSpans } from '../profile-spans.ts';
import { copyBinary, copyReads, copyRows, FLOAT8_ARRAY, KEY_AT, packRows, recordTransaction, repeatsKey, type PackedEvents, type PackedRows } from './pg-rows.ts';

/**
 * PostgreSQL's side of the synchronous bridge (see postgres.ts): a worker thread owning the
 * pg clients; the store's thread calls it through synckit and waits (Atomics.wait), so the
 * store stays one synchronous module for both backends. One call = one round trip, but for
 * writes whose answer nothing needs yet (post, copyEvents' COPY) and a scan's next page
 * (prefetch), which run while the store goes on: the server works as the store folds.
 */

// Every integer pgo-ledger stores fits 53 bits (positions, ms times, ids, 53-bit keys).
pg.types.setTypeParser(20, (v: string) => Number(v)); // int8
pg.types.setTypeParser(1700, (v: string) => Number(v)); // numeric (sum of bigints)
pg.types.setTypeParser(5069 as never, (v: string) => Number(v)); // xid8

interface Conn {
  client: pg.Client;
  /** The URL it was opened with: a stalled call probes the server there (probe). */
  url: string;
  /** Why its server was found to have stopped answering (stall): its client is destroyed, and every later call on it fails so. */
  stalled?: string;
  /** statement text (with ? marks) -> prepared statement name and $n text */
  prepared: Map<string, { name: string; text: string }>;
  /** The end of the statements started so far (inOrder). */
  tail: Promise<void>;
  /** Statements started without waiting (post, copyEvents' COPY), not yet checked. */
  posted: Promise<unknown>[];
  /** A raw query started ahead of its call (prefetch). */
  ahead?: { text: string; params: unknown[]; result: Promise<Answer> };
  /** The column types of each raw query read so far: where copyRows reads them all, its next pages come by COPY (rawQuery). */
  types: Map<string, number[]>;
  /** The row counts of posted statements, by ticket (postgres.ts gives them), until read (rowCount) or the transaction ends. */
  counts: Map<number, Promise<number>>;
  /** Whether copyEvents looks the keys up first: from the first COPY that met a taken key on. */
  lookUp: boolean;
  /** Reads asked for ahead (ask), by askKey, until they have run. */
  asked: Map<string, Promise<Answer>>;
  /** Reads asked for ahead that have run: their answers go back with the next reply (handle), or to the query that makes them. */
  ready: Map<string, Answer>;
  /** The statements of the transaction begun by postExec and not yet ended by a posted commit (see commits). */
  tx?: Promise<unknown>[];
  /** Posted commits by ticket (postgres.ts later), until settled: the first failure among their transaction's statements, and those statements. */
  commits: Map<number, Promise<{ failure?: unknown; statements: Promise<unknown>[] }>>;
}
const conns = new Map<number, Conn>();
let nextId = 1;

/** A fixed key for the session advisory lock around check-and-migrate. */
const MIGRATION_LOCK = 0x70676f6c; // 'pgol'

export type Reply<T> = ({ ok: true; value: T } | { ok: false; error: { message: string; code?: string; kind: 'connect' | 'query' | 'newer' } }) & {
  /** The answers of reads asked for ahead (ask) that have run, by askKey: whatever the call, its reply brings them. */
  answers?: [string, Answer][];
  /** Not answered within SLICE_MS: the answer comes to the call `wait` that follows (postgres.ts send). */
  pending?: true;
};

/** The error code of a call failed because its server stopped answering (watchCall): postgres.ts says it (its own copy: it never loads this module). */
const STALLED = 'PGO_STALLED';

/**
 * While a call has waited this long, and again each time as long after, the server is probed
 * with a new connection (watchCall): a statement that is slow on a live server (a big COPY, a
 * long scan, a lock another writer holds) is waited for, one on a server that answers no one
 * fails. PGO_LEDGER_PG_PROBE_MS sets it (tests).
 */
const PROBE_MS = Number(process.env.PGO_LEDGER_PG_PROBE_MS) || 10_000;
/** The probe's connection and its `select 1`, as the store's own connection's handshake (postgres.ts CONNECT_TIMEOUT_MS). */
const PROBE_TIMEOUT_MS = 3000;
/** A call not answered within this is answered `pending`: the store's thread waits on with `wait` while watchCall probes the server. */
const SLICE_MS = 1000;


/**
 * The statement with its n-th `?` mark replaced by `mark(n)` (undefined: give up); marks
 * inside quoted literals and identifiers are left alone. Also gives how many marks it met.
 */
function replaceMarks(text: string, mark: (n: number) => string | undefined): { out: string; marks: number } | undefined {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      const m = mark(n++);
      if (m === undefined) return undefined;
      out += m;
      continue;
    }
    out += ch;
  }
  return { out, marks: n };
}

/** `?` marks to $1, $2...; marks inside quoted literals and identifiers are left alone. */
export function numbered(text: string): string {
  return replaceMarks(text, (n) => `$${n + 1}`)!.out;
}

// Buffers arrive as Uint8Arrays (structured clone): pg binds Buffers as bytea, in arrays too.
const param = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Array.isArray(v) ? v.map(param) : v);

function fail(kind: 'connect' | 'query' | 'newer', e: unknown): Reply<never> {
  const err = e as { message?: string; code?: string };
  return { ok: false, error: { kind, message: String(err?.message ?? e), code: typeof err?.code === 'string' ? err.code : undefined } };
}

/** Ends a client's socket now: end() waits for the server's goodbye, which a stopped server never sends; its queries fail at once. */
function destroy(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

async function open(url: string, timeoutMs: number): Promise<Reply<number>> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    // a server that answers the handshake and then hangs is caught by the backstop in postgres.ts
    application_name: 'pgo-ledger',
  });
  client.on('error', () => {}); // a dropped connection fails the next query instead
  try {
    await client.connect();
  } catch (e) {
    client.end().catch(() => {});
    return fail('connect', e);
  }
  const id = nextId++;
  conns.set(id, { client, url, prepared: new Map(), posted: [], tail: Promise.resolve(), lookUp: false, counts: new Map(), types: new Map(), asked: new Map(), ready: new Map(), commits: new Map() });
  return { ok: true, value: id };
}

/** A query's answer: raw rows of numbers and nulls as PackedRows (pg-rows.ts), far cheaper across the bridge. */
export interface Answer {
  rows: unknown[];
  rowCount: number;
  packed?: PackedRows;
  /** A read asked for ahead (ask): its rows are arrays, these their columns' names (postgres.ts makes objects of them where the read wants). */
  fields?: string[];
}

function answer(r: pg.QueryResult, raw: boolean): Answer {
  // a lone float8[] column: its elements, one a row, as copyRows gives them on the later runs
  if (raw && r.fields.length === 1 && r.fields[0].dataTypeID === FLOAT8_ARRAY) {
    const rows = (r.rows as unknown[][]).flatMap((row) => ((row[0] as unknown[] | null) ?? []).map((x) => [x]));
    const packed = packRows(rows, 1);
    return packed ? { rows: [], rowCount: rows.length, packed } : { rows, rowCount: rows.length };
  }
  const packed = raw && r.rows.length ? packRows(r.rows as unknown[][], r.fields.length) : undefined;
  return packed ? { rows: [], rowCount: r.rowCount ?? 0, packed } : { rows: r.rows, rowCount: r.rowCount ?? 0 };
}

/**
 * Whether a statement leaves the rows of a prefetched page as they were (the page is then kept
 * for its call): a read, or a statement naming no events table or view (the schema has no
 * triggers). Transaction control (exec) and the events' own writes drop the page.
 */
const keepsPage = (text: string) => /^\s*select\b/i.test(text) || !/events/i.test(text);

async function query(id: number, text: string, params: unknown[], raw: boolean): Promise<Reply<Answer>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  const ahead = c.ahead;
  try {
    // asked for ahead (ask) and not yet taken back with a reply: its answer
    if (c.asked.size || c.ready.size) {
      const key = askKey(id, text, params);
      const asked = c.asked.get(key);
      c.asked.delete(key);
      const ready = c.ready.get(key) ?? (asked && (await asked));
      c.ready.delete(key);
      if (ready) return { ok: true, value: ready };
    }
    if (ahead) {
      // the prefetched query, if this is it
      if (raw && ahead.text === text && sameParams(ahead.params, params)) {
        c.ahead = undefined;
        return { ok: true, value: await ahead.result };
      }
      // else it stays for its call where this changes none of its rows, or goes unread (the connection runs it first all the same)
      if (!keepsPage(text)) {
        c.ahead = undefined;
        await ahead.result.catch(() => {});
      }
    }
    if (raw) return { ok: true, value: await rawQuery(c, text, params) };
    return { ok: true, value: answer(await inOrder(c, () => c.client.query(config(c, text, params, false))), false) };
  } catch (e) {
    return fail('query', e);
  }
}

/**
 * A raw query in the connection's order. Once a read's column types are known (its first run)
 * and copyRows reads them all, it runs as `COPY (select ...) TO STDOUT (FORMAT binary)`, its
 * parameters written in as the text pg would have sent for them (unknown-typed literals, typed
 * by the server as the parameters were): its rows then cross from the server as one buffer a
 * page instead of a string per value, which pg parsed at more cost than the store folds them.
 */
function rawQuery(c: Conn, text: string, params: unknown[]): Promise<Answer> {
  const types = c.types.get(text);
  const sql = types && copyReads(types) ? inlined(text, params) : undefined;
  if (sql !== undefined) {
    return inOrder(c, () => copyTo(c.client, `copy (${sql}) to stdout with (format binary)`)).then((data) => {
      const packed = copyRows(data, types!);
      return { rows: [], rowCount: packed.values.length / packed.width, packed };
    });
  }
  return inOrder(c, () => c.client.query(config(c, text, params, true))).then((r) => {
    if (!c.types.has(text) && /^\s*select\b/i.test(text) && !/;|\bfor\s+(update|share|no\s+key|key)\b/i.test(text)) c.types.set(text, r.fields.map((f) => f.dataTypeID));
    return answer(r, true);
  });
}

/**
 * The statement with its `?` marks replaced by the parameters as literals: each as the text
 * pg sends for it, quoted (an unknown-typed literal, as an untyped parameter is); undefined
 * where one is not a number, null, boolean or a string free of backslashes and NULs, or, with
 * `arrays`, an array of finite numbers (pg sends `{"1","2"}`: the same array).
 */
export function inlined(text: string, params: readonly unknown[], arrays = false): string | undefined {
  const lits: string[] = [];
  for (const v of params) {
    if (v === null || v === undefined) lits.push('null');
    else if (typeof v === 'number' || typeof v === 'boolean') lits.push(`'${String(v)}'`);
    else if (typeof v === 'string' && !/[\\\0]/.test(v)) lits.push(`'${v.replace(/'/g, "''")}'`);
    else if (arrays && Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))) lits.push(`'{${v.join(',')}}'`);
    else return undefined;
  }
  const r = replaceMarks(text, (n) => lits[n]);
  return r && r.marks === lits.length ? r.out : undefined;
}

/**
 * The held-back posts of a call (postgres.ts send) with each run of posted statements of one
 * connection whose parameters can be written into their text (inlined) made one `postMany`:
 * one simple-protocol query of them all. pg sends a statement only once the one before has
 * answered, so each was a round trip between the worker and the server, which waited for
 * the worker between them (a batch's BEGIN, locks and check, then its counters after its
 * COPY); a commit waited for (a ticket) and every other call stays as it is, in its place.
 * A BEGIN starts a run (postMany starts the transaction's statements there).
 */
export function coalesce(calls: readonly Call[]): Call[] {
  const out: Call[] = [];
  let run: { first: Call; id: number; texts: string[]; tickets: number[]; drops: boolean } | undefined;
  const end = () => {
    if (run) out.push(run.texts.length === 1 ? run.first : ['postMany', run.id, run.texts, run.tickets, run.drops]);
    run = undefined;
  };
  for (const c of calls) {
    if (c[0] === 'copyAt' && run && run.id === c[1] && !c[5]) {
      // the COPY ends the run's query (copyAt)
      out.push(['copyAt', c[1], c[2], c[3], c[4], [run.texts, run.tickets]]);
      run = undefined;
      continue;
    }
    const text = c[0] === 'post' ? inlined(c[2], c[3], true) : c[0] === 'postExec' && !c[3] ? c[2] : undefined;
    if (text === undefined || /;\s*$/.test(text)) {
      end();
      out.push(c);
      continue;
    }
    const id = c[1] as number;
    if (!run || run.id !== id || BEGIN.test(text)) {
      end();
      run = { first: c, id, texts: [], tickets: [], drops: false };
    }
    run.texts.push(text);
    run.tickets.push(c[0] === 'post' ? c[4] : 0);
    // what post and postExec do to a prefetched page
    run.drops ||= c[0] === 'postExec' || !keepsPage(text);
  }
  end();
  return out;
}

const BEGIN = /^\s*begin\s*$/i;

/** COPY ... TO STDOUT: pg's Query, keeping the data the server sends (copied: a message's chunk is a view of pg's read buffer, which it reuses). */
class CopyTo extends pg.Query {
  data = Buffer.allocUnsafe(1 << 16);
  size = 0;
  constructor(text: string, callback: (err: Error | null) => void) {
    super({ text, callback } as never);
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    const chunk = msg.chunk;
    if (this.size + chunk.length > this.data.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.size + chunk.length));
      this.data.copy(grown, 0, 0, this.size);
      this.data = grown;
    }
    chunk.copy(this.data, this.size);
    this.size += chunk.length;
  }
}

const copyTo = (client: pg.Client, text: string) =>
  new Promise<Buffer>((resolve, reject) => {
    const q: CopyTo = new CopyTo(text, (err) => (err ? reject(err) : resolve(q.data.subarray(0, q.size))));
    client.query(q as never);
  });

function config(c: Conn, text: string, params: unknown[], raw: boolean): pg.QueryConfig {
  let p = c.prepared.get(text);
  if (!p) c.prepared.set(text, (p = { name: `p${c.prepared.size + 1}`, text: numbered(text) }));
  return { name: p.name, text: p.text, values: params.map(param), ...(raw ? { rowMode: 'array' as const } : {}) } as pg.QueryConfig;
}

const sameParams = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Starts a raw query now; the next query call takes its rows if it is the same (a scan's next page, while the store folds this one). */
async function prefetch(id: number, text: string, params: unknown[]): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  if (c.ahead && c.ahead.text === text && sameParams(c.ahead.params, params)) return { ok: true, value: null };
  // one at a time: a page left untaken (its scan ended early) goes unread
  const result = rawQuery(c, text, params);
  result.catch(() => {}); // an error is answered to the call that takes it
  c.ahead = { text, params, result };
  return { ok: true, value: null };
}

/** What pg's connection offers a COPY FROM STDIN once the server has asked for the data: its socket too. */
interface CopyIn {
  stream: { writable: boolean; write(b: Uint8Array, written?: () => void): boolean };
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** A CopyData message's header: its type byte and length (Int32, itself included). */
const COPY_DATA_HEAD = 5;

/**
 * A part of COPY data as its CopyData message, the header written into the `COPY_DATA_HEAD`
 * bytes the part left for it (copyBinary's reserve): pg's own sendCopyFromChunk copies each
 * part into a new buffer of its own first, a third of the worker's allocation.
 */
function copyDataMessage(part: Uint8Array): Uint8Array {
  part[0] = 0x64; // 'd'
  new DataView(part.buffer, part.byteOffset, part.byteLength).setInt32(1, part.byteLength - 1);
  return part;
}

/** What the server is told (CopyFail) when the COPY's data could not be made. */
const copyFailure = (e: Error) => `pgo-ledger could not write the COPY data: ${e.message}`;

/**
 * COPY ... FROM STDIN whose data comes in parts (push), then ends (end) or fails (abort): pg's
 * Query, sending each part as soon as both it is ready and the server has asked for the data
 * (parts ready before are held until then). The statement goes to the server at once, its
 * data after: the server parses it while the data is made, and inserts the first part while
 * the next is made.
 */
class CopyFrom extends pg.Query {
  private con?: CopyIn;
  private held: Uint8Array[] = [];
  private ended = false;
  /** Why the data could not be made (abort): the COPY's failure, in place of the server's answer to the abort. */
  failed?: Error;
  constructor(text: string, callback: (err: Error | null, r?: pg.QueryResult) => void) {
    super({ text, callback } as never);
  }
  /** A part, as its CopyData message (copyDataMessage). */
  push(b: Uint8Array): void {
    if (this.con) CopyFrom.send(this.con, b);
    else this.held.push(b);
  }
  /** What pg's sendCopyFromChunk does with the message it makes; once the socket has written it, its buffer makes a later part (partBuffer). */
  private static send(con: CopyIn, b: Uint8Array): void {
    if (con.stream.writable) con.stream.write(b, () => partWritten(b));
  }
  end(): void {
    this.ended = true;
    this.con?.endCopyFrom();
  }
  abort(e: Error): void {
    this.failed = e;
    this.con?.sendCopyFail(copyFailure(e));
  }
  handleCopyInResponse(con: CopyIn): void {
    if (this.failed !== undefined) return con.sendCopyFail(copyFailure(this.failed));
    this.con = con;
    for (const b of this.held) CopyFrom.send(con, b);
    this.held = [];
    if (this.ended) con.endCopyFrom();
  }
}

/** Rows of a batch's COPY data made and sent at a time (about 150 kB). */
const COPY_PART = 1000;

/** A part's buffer: COPY_PART rows fit it, but for long kinds or compile ids (then a buffer of its own, not kept). */
const PART_BYTES = 256 * 1024;
/**
 * Part buffers the socket has written, for the next parts: a new one each (a 1M ingest makes
 * a thousand) cost its pages' faults and the GC's upkeep of external memory. Parts wait on
 * the socket only while the server lags behind, so a few are about at once; no more are kept.
 */
const freeParts: ArrayBuffer[] = [];
const FREE_PARTS_MAX = 16;
const partBuffers = new WeakSet<ArrayBufferLike>();

function partBuffer(size: number): Buffer {
  if (size > PART_BYTES) return Buffer.allocUnsafe(size);
  const ab = freeParts.pop() ?? new ArrayBuffer(PART_BYTES);
  partBuffers.add(ab);
  return Buffer.from(ab, 0, size);
}

function partWritten(b: Uint8Array): void {
  if (partBuffers.has(b.buffer) && freeParts.length < FREE_PARTS_MAX) freeParts.push(b.buffer as ArrayBuffer);
}

/**
 * Starts the COPY of a batch at its positions (in the connection's order: called by inOrder),
 * its data made a part at a time after this call's answer has gone (setImmediate runs once
 * synckit has replied), each part sent as soon as it is made: the server inserts while the
 * rest is made, and the store folds the batch meanwhile. Resolves with the rows copied.
 */
function copyEventsFrom(client: pg.Client, text: string, first: number, events: PackedEvents): Promise<pg.QueryResult[]> {
  return new Promise<pg.QueryResult[]>((resolve, reject) => {
    // a result a statement (text may hold statements before the COPY: copyAt)
    const q: CopyFrom = new CopyFrom(text, (err, r) => (err ? reject(q.failed ?? err) : resolve(Array.isArray(r) ? r : r ? [r] : [])));
    client.query(q as never);
    const part = (from: number) => {
      try {
        const n = events.kindOf.length;
        const to = Math.min(from + COPY_PART, n);
        q.push(copyDataMessage(copyBinary(first, events, from, to, COPY_DATA_HEAD, partBuffer)));
        if (to < n) setImmediate(part, to);
        else q.end();
      } catch (e) {
        q.abort(e as Error);
      }
    };
    setImmediate(part, 0);
  });
}

/**
 * A batch of events by COPY, the cheapest way in (issue 11.7), in one call: a block of
 * positions taken from the column's sequence (take_positions, under the caller's profile
 * locks), the batch's in its order, and its first answered; the binary COPY of the batch at
 * them then posted (see post): the server writes it while the store folds the batch. Or null,
 * nothing taken nor written, where the batch holds a key twice or (once looked up) one already
 * taken: the caller then inserts the batch skipping taken keys.
 *
 * Keys are looked up first only once a COPY of this connection has met a taken key (an input
 * ingested before). Until then a COPY that meets one (an input ingested before, a hash
 * collision, or another writer's batch committed meanwhile) fails, and with it the
 * transaction, as a serialization failure: the batch runs again (ledger.ts), this time with its
 * keys looked up. That costs one batch once, where the lookup cost a fifth of the server's
 * time on every batch.
 */
async function copyEvents(id: number, statement: string, events: PackedEvents, spans: number[]): Promise<Reply<number | null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  const client = c.client;
  c.ahead = undefined;
  const n = events.kindOf.length;
  if (repeatsKey(events)) return { ok: true, value: null };
  let first: number;
  try {
    // The batch's positions, one block (take_positions: the migration 2026-11-28T22-39 says
    // why), and its transaction and range and its spans (profile-spans.ts, given at positions
    // from 1) recorded in the same statement (unless a key was
    // taken: then nothing is written here; the block is taken all the same, as nextval took
    // the positions before: the insert that follows takes its own, and later events keep the
    // positions they had).
    const keys = () => {
      const { values, width } = events.numbers;
      return Array.from({ length: n }, (_, i) => values[i * width + KEY_AT]);
    };
    const r = await inOrder(c, () =>
      client.query({
        text: `with k as (select ${c.lookUp ? 'exists (select 1 from events where idempotency_key = any($5::int8[]))' : 'false'} taken),
            s as materialized (select take_positions($1::int8) lo),
            x as (${recordTransaction('select pg_current_xact_id(), lo, lo + $1::int8 - 1 from s, k where not k.taken')}),
            y as (${upsertSpans(`select u.p, ${spanStart('u.p', 's.lo + u.a - 1')}, s.lo + u.b - 1 from s, k, unnest($2::int8[], $3::int8[], $4::int8[]) as u(p, a, b) where not k.taken`)})
          select k.taken, lo from s, k`,
        values: [n, ...spanColumns(spans), ...(c.lookUp ? [keys()] : [])],
        rowMode: 'array',
      }),
    );
    const [taken, lo] = r.rows[0] as [boolean, number];
    if (taken) return { ok: true, value: null };
    first = lo;
  } catch (e) {
    // an earlier posted statement's failure is the cause (this one then met an aborted transaction)
    return fail('query', (await postedFailure(c)) ?? e);
  }
  // the statements posted before ran before the positions were taken: their failure is this call's
  const failed = await postedFailure(c);
  if (failed) return fail('query', failed);
  // The data is written after this call has answered (copyEventsFrom): the store folds the
  // batch meanwhile instead of waiting for it. Its place in the connection's order is taken now.
  posted(c, inOrder(c, () => copyEventsFrom(c.client, statement, first, events)).catch((e) => {
    if ((e as { code?: string }).code !== '23505') throw e;
    c.lookUp = true;
    throw Object.assign(new Error(`an idempotency key of this batch was taken as it was written (${(e as Error).message}): the batch runs again`), { code: '40001' });
  }));
  return { ok: true, value: first };
}

/**
 * A batch of events by COPY at positions from `first` on, which the caller has taken and
 * checked in its transaction already (postgres.ts insertEventsAt): posted, its failure fails
 * the next call that waits, or the settle of its transaction. A key taken fails it as a
 * serialization failure, as copyEvents' COPY does. `before`: posted statements that go ahead
 * of it in its query (coalesce), each ticket's count its statement's, as postMany's.
 */
async function copyAt(id: number, statement: string, first: number, events: PackedEvents, before?: [string[], number[]]): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  c.ahead = undefined;
  const [texts, tickets] = before ?? [[], []];
  if (texts.length && BEGIN.test(texts[0])) c.tx = [];
  const p = inOrder(c, () => copyEventsFrom(c.client, [...texts, statement].join('\n;\n'), first, events));
  tickets.forEach((ticket, i) => {
    if (ticket) c.counts.set(ticket, p.then((r) => r[i].rowCount ?? 0, () => 0));
  });
  posted(c, p.catch((e) => {
    if ((e as { code?: string }).code !== '23505') throw e;
    c.lookUp = true;
    throw Object.assign(new Error(`an idempotency key of this batch was taken as it was written (${(e as Error).message}): the batch runs again`), { code: '40001' });
  }));
  return { ok: true, value: null };
}

/** Flat triples (profile-spans.ts batchSpans) as three columns. */
function spanColumns(spans: readonly number[]): [number[], number[], number[]] {
  const cols: [number[], number[], number[]] = [[], [], []];
  for (let k = 0; k < spans.length; k += 3) for (let j = 0; j < 3; j++) cols[j].push(spans[k + j]);
  return cols;
}

/**
 * Runs a statement after the connection's earlier ones: pg queues them itself, but says
 * queueing is deprecated (a warning on stderr); the store's statements run in call order.
 */
function inOrder<T>(c: Conn, run: () => Promise<T>): Promise<T> {
  const p = c.tail.then(run, run);
  c.tail = p.then(
    () => {},
    () => {},
  );
  return p;
}

/** Keeps a statement started without waiting for it (its failure is reported by the next call). */
function posted(c: Conn, p: Promise<unknown>): void {
  p.catch(() => {}); // read in postedFailure
  c.posted.push(p);
  c.tx?.push(p);
}

/**
 * A read started now, in the connection's order, whose answer a later read of the same
 * statement and parameters takes (postgres.ts ask): once it has run, the next reply brings it
 * back (handle), so that read needs no round trip. Posted: its failure fails the next call.
 */
async function ask(id: number, text: string, params: unknown[]): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  const key = askKey(id, text, params);
  const p: Promise<Answer> = inOrder(c, () => c.client.query(config(c, text, params, true))).then((r) => {
    const a: Answer = { ...answer(r, true), fields: r.fields.map((f) => f.name) };
    if (c.asked.get(key) === p) {
      c.asked.delete(key);
      c.ready.set(key, a);
    }
    return a;
  });
  c.asked.set(key, p);
  posted(c, p);
  return { ok: true, value: null };
}

/** A statement whose answer nothing needs, started now: the store goes on while the server runs it. Its row count is kept under its ticket (0: not asked for). */
async function post(id: number, text: string, params: unknown[], ticket: number): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  if (!keepsPage(text)) c.ahead = undefined;
  const p = inOrder(c, () => c.client.query(config(c, text, params, false)));
  posted(c, p);
  if (ticket) c.counts.set(ticket, p.then((r) => r.rowCount ?? 0, () => 0)); // a failure is reported as posted statements' are
  return { ok: true, value: null };
}

/**
 * Posted statements of one connection (coalesce) as one simple-protocol query, started now:
 * the server runs them one after another with no round trip between them (each `;` on a line
 * of its own: a statement's last line may be a comment). A failure skips
 * the rest, as it would have failed them (the transaction is aborted), and fails the next call.
 * Each ticket's row count is its statement's (pg answers such a query with a result each).
 */
async function postMany(id: number, texts: string[], tickets: number[], drops: boolean): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  if (drops) c.ahead = undefined;
  if (BEGIN.test(texts[0])) c.tx = [];
  const p = inOrder(c, () => c.client.query(texts.join('\n;\n')) as unknown as Promise<pg.QueryResult | pg.QueryResult[]>);
  posted(c, p);
  tickets.forEach((ticket, i) => {
    if (ticket) c.counts.set(ticket, p.then((r) => (Array.isArray(r) ? r[i] : r).rowCount ?? 0, () => 0));
  });
  return { ok: true, value: null };
}

/** The row count of a posted statement (its ticket), once it has run. */
async function rowCount(id: number, ticket: number): Promise<Reply<number>> {
  const c = conns.get(id);
  const p = c?.counts.get(ticket);
  if (!c || !p) return fail('query', new Error(`no posted statement ${ticket} (read within its transaction)`));
  c.counts.delete(ticket);
  return { ok: true, value: await p };
}

/**
 * The first failure among the statements posted before this call, once they have run (the
 * connection runs its statements in order, so they ran before this call's own). Reported to
 * this call in place of its own answer: a transaction that failed there must not commit, and
 * its own error is only the aftermath ("current transaction is aborted").
 */
async function postedFailure(c: Conn | undefined): Promise<unknown> {
  if (!c?.posted.length) return undefined;
  const all = c.posted;
  c.posted = [];
  for (const p of all) {
    try {
      await p;
    } catch (e) {
      return e;
    }
  }
  return undefined;
}

/**
 * Transaction control whose answer nothing needs (begin, savepoint), started now: its failure
 * fails the next call, as a posted statement's. A commit with a ticket (postgres.ts later) is
 * settled by that ticket: its outcome is the first failure among its transaction's statements,
 * or a commit that rolled back (COMMIT of a failed transaction answers ROLLBACK, no error).
 */
async function postExec(id: number, text: string, ticket = 0): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  c.ahead = undefined; // read before whatever this changes: never taken
  if (/^\s*begin\s*$/i.test(text)) c.tx = [];
  const p = inOrder(c, () => c.client.query(text));
  posted(c, p);
  if (ticket) {
    const statements = c.tx ?? [p];
    c.tx = undefined;
    // what exec does at a commit: the transaction's counts and asked reads go with it
    c.counts.clear();
    c.asked.clear();
    c.ready.clear();
    c.commits.set(ticket, (async () => {
      for (const q of statements) {
        try {
          await q;
        } catch (failure) {
          return { failure, statements };
        }
      }
      const r = (await p) as pg.QueryResult;
      return r.command === 'COMMIT' ? { statements } : { failure: new Error(`the transaction was rolled back (${r.command})`), statements };
    })());
  }
  return { ok: true, value: null };
}

/** The outcome of a posted commit (postExec's ticket), once it has run; its statements are then checked (no later call reports them again). */
async function settle(id: number, ticket: number): Promise<Reply<null>> {
  const c = conns.get(id);
  const p = c?.commits.get(ticket);
  if (!c || !p) return fail('query', new Error(`no posted commit ${ticket}`));
  c.commits.delete(ticket);
  const { failure, statements } = await p;
  const mine = new Set(statements);
  c.posted = c.posted.filter((q) => !mine.has(q));
  return failure ? fail('query', failure) : { ok: true, value: null };
}

async function exec(id: number, text: string): Promise<Reply<null>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  c.ahead = undefined; // read before whatever this changes: never taken
  if (/^\s*(commit|rollback)\s*$/i.test(text)) {
    // the transaction's posted statements: their counts unread, the reads asked for ahead untaken
    c.tx = undefined;
    c.counts.clear();
    c.asked.clear();
    c.ready.clear();
  }
  try {
    await inOrder(c, () => c.client.query(text));
    return { ok: true, value: null };
  } catch (e) {
    return fail('query', e);
  }
}

/**
 * PostgreSQL-only shims around the frozen migrations, which were written for SQLite:
 * - SQLite does not enforce the references (foreign_keys = OFF, see database.ts); on
 *   PostgreSQL they would stop the closure-hash migration from dropping `codes`, so they go
 *   right after the initial migration, leaving both backends alike.
 * - Constraint names are per schema on PostgreSQL (per table on SQLite): the old `codes`
 *   gives its `codes_unique` up before the rebuilt table takes the name.
 */
function forPostgres(all: Record<string, Migration>, ksql: typeof Sql): Record<string, Migration> {
  const out: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(all)) {
    out[name] = {
      async up(db) {
        if (name === '2026-11-28T03-00-closure-hash') await ksql`alter table codes rename constraint codes_unique to codes_unique_before_closure_hash`.execute(db);
        await m.up(db);
        if (name === '2026-11-26T00-00-initial') {
          const fks = await ksql<{ t: string; c: string }>`select conrelid::regclass::text t, conname c from pg_constraint where contype = 'f' and connamespace = current_schema()::regnamespace`.execute(db);
          for (const r of fks.rows) await ksql`alter table ${ksql.table(r.t)} drop constraint ${ksql.ref(r.c)}`.execute(db);
        }
      },
      down: m.down,
    };
  }
  return out;
}

/**
 * The frozen migrations use SQLite's `blob` and `typeof()`: on PostgreSQL `blob` is a domain
 * over bytea, and typeof(bytea) tells a deflated body (zlib's 0x78 first byte) from JSON text,
 * so they run as they are.
 */
const PREAMBLE = `
do $$ begin
  if not exists (select 1 from pg_type where typname = 'blob' and typnamespace = current_schema()::regnamespace) then
    create domain blob as bytea;
  end if;
end $$;
create or replace function typeof(bytea) returns text language sql immutable as
  $$ select case when length($1) > 0 and get_byte($1, 0) = 120 then 'blob' else 'text' end $$;
`;

/** `tables`: where no ledger is recorded, the tables its schema holds all the same (damage.ts notALedger). */
/** `recorded`: how many migrations the ledger records (none: its first migration was cut off, its tables half made). */
type State = { state: 'new' | 'behind' | 'current'; unknown: string[]; tables?: string[]; recorded?: number };

async function migrationState(client: pg.Client): Promise<State> {
  // One listing answers both (is a ledger recorded, what else is there): two queries let another
  // process's migrator create kysely_migration between them, and a fresh database opened by
  // several writers at once was then taken for another program's (trial 18.3: 1 of 8 refused).
  const listed = await client.query('select tablename from pg_tables where schemaname = current_schema()');
  const tables = listed.rows.map((r: { tablename: string }) => r.tablename);
  if (!tables.includes('kysely_migration')) return { state: 'new', unknown: [], tables };
  const done = new Set((await client.query('select name from kysely_migration')).rows.map((r: { name: string }) => r.name));
  const unknown = [...done].filter((n) => !(n in migrations));
  if (unknown.length) return { state: 'behind', unknown };
  return { state: Object.keys(migrations).every((n) => done.has(n)) ? 'current' : 'behind', unknown: [], recorded: done.size };
}

async function state(id: number): Promise<Reply<State>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  try {
    return { ok: true, value: await migrationState(c.client) };
  } catch (e) {
    return fail('query', e);
  }
}

/**
 * Check-and-migrate under a session advisory lock: of many processes opening one fresh
 * database at once, the first migrates and the others find it current. A database from a
 * newer pgo-ledger is refused before anything is written.
 */
async function migrate(id: number): Promise<Reply<State>> {
  const c = conns.get(id);
  if (!c) return fail('query', new Error('connection closed'));
  const client = c.client;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
  } catch (e) {
    return fail('query', e);
  }
  try {
    const s = await migrationState(client);
    if (s.unknown.length) return { ok: false, error: { kind: 'newer', message: s.unknown.join(', ') } };
    if (s.state === 'current') return { ok: true, value: s };
    await client.query(PREAMBLE);
    // Kysely loads only to migrate: a quarter of the worker's start (~0.1 CPU-s) on every command otherwise
    const { Kysely, Migrator, PostgresDialect, sql: ksql } = await import('kysely');
    // Kysely's PostgreSQL driver over this one client (its pool hands out the same client).
    const pool = { connect: async () => ({ query: (...a: unknown[]) => (client.query as (...x: unknown[]) => unknown).apply(client, a), release() {} }), end: async () => {} };
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: pool as never }) });
    const provider: MigrationProvider = { getMigrations: async () => forPostgres(migrations, ksql) };
    const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      return fail('query', Object.assign(new Error(`${failed ? `${failed.migrationName}: ` : ''}${(error as Error).message ?? error}`), { code: (error as { code?: string }).code }));
    }
    return { ok: true, value: await migrationState(client) };
  } catch (e) {
    return fail('query', e);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
  }
}

async function close(id: number): Promise<Reply<null>> {
  const c = conns.get(id);
  conns.delete(id);
  if (!c || c.stalled) return { ok: true, value: null };
  // its goodbye, waited for as long as a probe: a server that stopped answering sends none
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([c.client.end().catch(() => {}), new Promise((r) => (timer = setTimeout(r, PROBE_TIMEOUT_MS)))]);
  clearTimeout(timer);
  destroy(c.client);
  return { ok: true, value: null };
}

export type Call =
  | ['open', string, number]
  | ['query', number, string, unknown[], boolean]
  | ['exec', number, string]
  | ['postExec', number, string, number?]
  | ['copyEvents', number, string, PackedEvents, number[]]
  /** With the posted statements that go ahead of it in its query (coalesce): their texts and tickets. */
  | ['copyAt', number, string, number, PackedEvents, [string[], number[]]?]
  | ['settle', number, number]
  /** Nothing: what it brings (the held-back posts of a pipelined transaction) goes to the server now. */
  | ['flush']
  | ['post', number, string, unknown[], number]
  /** Posted statements as one query (coalesce): their texts, each one's ticket (0: none), whether they drop a prefetched page. */
  | ['postMany', number, string[], number[], boolean]
  | ['ask', number, string, unknown[]]
  | ['rowCount', number, number]
  | ['prefetch', number, string, unknown[]]
  | ['state', number]
  | ['migrate', number]
  | ['close', number]
  /** Posted calls held back by postgres.ts (see send there), then the call that sent them. */
  | ['after', Call[], Call]
  /** The answer of the call answered `pending` (SLICE_MS). */
  | ['wait'];

async function dispatch(call: Call): Promise<Reply<unknown>> {
  switch (call[0]) {
    case 'open':
      return open(call[1], call[2]);
    case 'query':
      return query(call[1], call[2], call[3], call[4]);
    case 'exec':
      return exec(call[1], call[2]);
    case 'postExec':
      return postExec(call[1], call[2], call[3]);
    case 'copyAt':
      return copyAt(call[1], call[2], call[3], call[4], call[5]);
    case 'settle':
      return settle(call[1], call[2]);
    case 'flush':
      return { ok: true, value: null };
    case 'prefetch':
      return prefetch(call[1], call[2], call[3]);
    case 'copyEvents':
      return copyEvents(call[1], call[2], call[3], call[4]);
    case 'post':
      return post(call[1], call[2], call[3], call[4]);
    case 'postMany':
      return postMany(call[1], call[2], call[3], call[4]);
    case 'ask':
      return ask(call[1], call[2], call[3]);
    case 'rowCount':
      return rowCount(call[1], call[2]);
    case 'state':
      return state(call[1]);
    case 'migrate':
      return migrate(call[1]);
    case 'close':
      return close(call[1]);
    case 'after':
      return handle(call);
    case 'wait':
      return fail('query', new Error('bug: wait is answered by the worker'));
  }
}

async function handle(call: Call): Promise<Reply<unknown>> {
  if (call[0] === 'after') {
    // the held-back posts start in order (each only queues its statement), then the call
    for (const c of coalesce(call[1])) {
      const r = await handle(c);
      if (!r.ok) return r;
    }
    return handle(call[2]);
  }
  // a posted statement is checked by the next call that waits, never by its own (copyEvents
  // checks those before its COPY); settle checks only its transaction's: a later one's are
  // still under way, written while the store folds the next batch
  const kind = call[0];
  const conn = kind === 'open' || kind === 'post' || kind === 'postMany' || kind === 'postExec' || kind === 'ask' || kind === 'copyEvents' || kind === 'copyAt' || kind === 'settle' || kind === 'flush' || kind === 'wait' ? undefined : conns.get(call[1]);
  const r = await dispatch(call);
  const failed = await postedFailure(conn);
  return failed ? fail('query', failed) : r;
}

/** The connections a call runs on (none: open, flush). */
function connsOf(call: Call): number[] {
  if (call[0] === 'after') return [...new Set([...call[1].flatMap(connsOf), ...connsOf(call[2])])];
  return call[0] === 'open' || call[0] === 'flush' || call[0] === 'wait' ? [] : [call[1]];
}

const stalledReply = (message: string): Reply<never> => ({ ok: false, error: { kind: 'query', code: STALLED, message } });

/**
 * Whether the server at `url` answers: undefined where a new connection's `select 1` is
 * answered within PROBE_TIMEOUT_MS, or the server answers it with an error of its own (too many
 * clients, shutting down: it is alive, and the call's own connection says what it has to);
 * else what the probe met.
 */
async function probe(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS, application_name: 'pgo-ledger probe' });
  client.on('error', () => {});
  const none = `a new connection got none within ${PROBE_TIMEOUT_MS / 1000} s`;
  let timer: NodeJS.Timeout | undefined;
  let answered = false;
  try {
    const late = new Promise<string>((r) => (timer = setTimeout(() => r(none), PROBE_TIMEOUT_MS)));
    const asked = client.connect().then(() => client.query('select 1')).then(() => undefined);
    asked.catch(() => {});
    const r = await Promise.race([asked, late]);
    answered = r === undefined;
    return r;
  } catch (e) {
    answered = e instanceof pg.DatabaseError;
    if (answered) return undefined;
    return /timeout/i.test((e as Error).message) ? none : `a new connection failed (${(e as Error).message})`;
  } finally {
    clearTimeout(timer);
    if (answered) client.end().catch(() => {});
    else destroy(client);
  }
}

/** The server at `url` stopped answering: its connections' clients are destroyed (their pending statements fail now), and later calls on them fail with `why`. */
function stall(url: string, why: string): void {
  for (const c of conns.values()) {
    if (c.url !== url || c.stalled) continue;
    c.stalled = why;
    destroy(c.client);
  }
}

/**
 * A call that has waited SLICE_MS, watched until it ends: each PROBE_MS of its wait the
 * servers of its connections are probed (probe), and where one answers nothing the call fails
 * (STALLED) at once, its connections destroyed, rather than waiting for the bridge's 600 s
 * backstop (trial s31: a server SIGSTOPped held ingest for it). The server rolls back what
 * they had not committed when it sees them go.
 */
function watchCall(call: Call, result: Promise<Reply<unknown>>, started: number): Promise<Reply<unknown>> {
  const urls = [...new Set(connsOf(call).flatMap((id) => conns.get(id)?.url ?? []))];
  if (!urls.length) return result; // open's own timeout bounds its wait
  return new Promise((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      done = true;
      clearTimeout(timer);
    };
    result.then(
      (r) => done || (end(), resolve(r)),
      (e) => done || (end(), reject(e)),
    );
    const check = async () => {
      const waited = Math.round((Date.now() - started) / 1000);
      const met = await Promise.all(urls.map(async (url) => ({ url, why: await probe(url) })));
      if (done) return;
      const dead = met.find((m) => m.why !== undefined);
      if (!dead) {
        timer = setTimeout(check, PROBE_MS);
        return;
      }
      end();
      const message = `no answer within ${waited} s, and ${dead.why}`;
      stall(dead.url, message);
      resolve(stalledReply(message));
    };
    timer = setTimeout(check, Math.max(0, started + PROBE_MS - Date.now()));
  });
}

/** The call answered `pending`, for `wait`. */
let pending: Promise<Reply<unknown>> | undefined;

/** Resolves with the call's reply if it comes within `ms`, else with undefined. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
}

async function answerCall(call: Call): Promise<Reply<unknown>> {
  if (call[0] === 'wait') {
    const p = pending;
    pending = undefined;
    return p ?? fail('query', new Error('bug: no call is pending'));
  }
  // a connection whose server stopped answering: every call fails so, but its close
  if (call[0] !== 'close') {
    const stalled = connsOf(call).flatMap((id) => conns.get(id)?.stalled ?? [])[0];
    if (stalled !== undefined) return stalledReply(stalled);
  }
  const started = Date.now();
  const result = handle(call);
  const r = await within(result, SLICE_MS);
  if (r) return r;
  pending = watchCall(call, result, started);
  return { ok: true, value: null, pending: true };
}

runAsWorker(async (...call: Call): Promise<Reply<unknown>> => {
  const r = await answerCall(call);
  if (r.pending) return r;
  // the reads asked for ahead that have run go back with this reply, whatever the call
  for (const c of conns.values()) {
    if (!c.ready.size) continue;
    r.answers ??= [];
    for (const e of c.ready) r.answers.push(e);
    c.ready.clear();
  }
  return r;
});
