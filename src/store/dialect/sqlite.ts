import type { Sql } from '../database.ts';
import { batchSpans, writeSpans } from '../profile-spans.ts';
import { CODE_STATE_COLUMNS, EVENT_COLUMNS, HISTORY_COLUMNS, type Dialect, type EventRow } from './dialect.ts';

/**
 * Rows an insert statement of the append carries, largest first (a batch's rows go 500 a
 * statement, then 100, then one): fewer statements, less CPU a row (100 a statement took a
 * sixth less than one; 500 a seventh less than 100, most of it system time).
 */
const SIZES = [500, 100];
const WIDTH = 11;
const ROW_MARKS = `(${Array(WIDTH).fill('?').join(', ')})`;
const KIND = 1; // the kind's column in an EventRow

/**
 * The insert of many rows of one kind takes the kind as a literal: a statement's rows are
 * nearly always of one kind, and binding the same text a row cost a tenth of the insert.
 * Only a kind of lower-case letters and dots (every kind the log knows) is written into SQL,
 * where it is the same text as bound; any other is bound as it comes.
 */
const PLAIN_KIND = /^[a-z.]{1,40}$/;
const texts = new Map<string, string>();
/** The insert of `many` rows, of one kind (a literal) or of any (null). */
function manyRows(many: number, kind: string | null): string {
  const k = `${many}:${kind ?? ''}`;
  let text = texts.get(k);
  if (text === undefined) {
    const marks = kind === null ? ROW_MARKS : `(?, '${kind}', ${Array(WIDTH - 2).fill('?').join(', ')})`;
    texts.set(k, (text = `insert into events(${EVENT_COLUMNS}) values ${Array(many).fill(marks).join(', ')} on conflict(idempotency_key) do nothing`));
  }
  return text;
}
function oneKind(rows: readonly EventRow[], from: number, many: number): string | null {
  const kind = rows[from][KIND];
  for (let k = from + 1; k < from + many; k++) if (rows[k][KIND] !== kind) return null;
  return typeof kind === 'string' && PLAIN_KIND.test(kind) ? kind : null;
}

/**
 * The bind values of a statement, `n` of them, one array per count refilled statement after
 * statement: emptied and pushed again, an array let go of its store and grew it anew each
 * time, a third of what the append's thread allocated.
 */
const paramArrays = new Map<number, unknown[]>();
function paramsOf(n: number): unknown[] {
  let a = paramArrays.get(n);
  if (a === undefined) paramArrays.set(n, (a = new Array<unknown>(n).fill(null)));
  return a;
}

/**
 * A long stretch of rows of one run and one input, none with a compile id (a big observation
 * file: 1M lines of the bench's mix hold ten runs), binds the same run id, origin id and null
 * a row. Once a stretch has held for STEADY statements in a row, its statements take them as
 * literals, as they take the kind: three binds of ten a row fewer, ~0.12 of the ~1.6 CPU-s
 * that inserting the mix's 1M rows took (min of 5 alternating rounds each, 1.51 against 1.63).
 * Preparing such a statement takes ~0.7 ms at 500 rows, what about a dozen statements save,
 * so a shorter stretch (a trace file) never gets one; a connection keeps those of the stretch
 * at hand only (a 500-row statement holds a program of its own), let go of when it ends.
 */
const STEADY = 12;
const RUN = 6;
const ORIGIN = 7;
const COMPILE = 9;
interface Stretch {
  /** the run id and origin id as SQL, null where the last statement's rows had no one setting */
  setting: string | null;
  /** statements in a row with that setting */
  count: number;
  statements: Map<string, ReturnType<Sql['statement']>>;
}
const stretches = new WeakMap<Sql, Stretch>();
function stretchOf(sql: Sql): Stretch {
  let s = stretches.get(sql);
  if (s === undefined) stretches.set(sql, (s = { setting: null, count: 0, statements: new Map() }));
  return s;
}
const asLiteral = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isSafeInteger(v));
/** The one run id and origin id of `many` rows from `from`, as SQL, where no row has a compile id; else null. */
function settingOf(rows: readonly EventRow[], from: number, many: number): string | null {
  const run = rows[from][RUN];
  const origin = rows[from][ORIGIN];
  if (!asLiteral(run) || !asLiteral(origin)) return null;
  for (let k = from; k < from + many; k++) {
    const r = rows[k];
    if (r[RUN] !== run || r[ORIGIN] !== origin || r[COMPILE] !== null) return null;
  }
  return `${run ?? 'null'}, ${origin ?? 'null'}`;
}
/** The insert of `many` rows of one kind (or any: null) whose run id and origin id are `setting` and compile id null. */
function settledRows(many: number, kind: string | null, setting: string): string {
  const marks = `(?, ${kind === null ? '?' : `'${kind}'`}, ?, ?, ?, ?, ${setting}, ?, null, ?)`;
  return `insert into events(${EVENT_COLUMNS}) values ${Array(many).fill(marks).join(', ')} on conflict(idempotency_key) do nothing`;
}
/** Where the rows from `from` are a stretch's (see STEADY): its statement for them; else undefined. */
function settled(sql: Sql, rows: readonly EventRow[], from: number, many: number, kind: string | null): ReturnType<Sql['statement']> | undefined {
  const st = stretchOf(sql);
  const setting = settingOf(rows, from, many);
  if (setting !== st.setting) {
    st.setting = setting;
    st.count = 0;
    st.statements.clear();
  }
  if (setting === null || ++st.count <= STEADY) return undefined;
  const key = `${many}:${kind ?? ''}`;
  let s = st.statements.get(key);
  if (s === undefined) st.statements.set(key, (s = sql.statement(settledRows(many, kind, setting), false)));
  return s;
}

/**
 * A statement of `many` rows skipped some (their keys were taken): the rows it inserted are the
 * `changes` positions up to the last, in the rows' order, so their keys, read back, tell which.
 * A key appears once among them: the first row holding it took it.
 */
function placeTaken(sql: Sql, rows: readonly EventRow[], positions: number[], from: number, many: number, changes: number, last: number): void {
  const keys = changes === 0 ? [] : sql.allRaw('select idempotency_key from events where position > ? and position <= ? order by position', last - changes, last).map((r) => r[0] as number);
  let j = 0;
  for (let k = from; k < from + many; k++) {
    if (j < keys.length && rows[k][10] === keys[j]) positions[k] = last - changes + 1 + j++;
    else positions[k] = 0;
  }
  if (j !== keys.length) throw new Error(`bug: ${keys.length - j} inserted events not found among their statement's rows`);
}

/** SQLite: one writer at a time (BEGIN IMMEDIATE is the lock), prepared statements run in process (events many rows a statement). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  internFirst: false,
  remote: false,
  lock() {
    // BEGIN IMMEDIATE (Sql.immediate) already holds the whole file.
  },
  insertEvents(sql, rows) {
    const positions: number[] = new Array(rows.length);
    let i = 0;
    for (const many of SIZES) {
      for (; i + many <= rows.length; i += many) {
        const kind = oneKind(rows, i, many);
        const stretch = settled(sql, rows, i, many, kind);
        const params = paramsOf(many * ((kind === null ? WIDTH : WIDTH - 1) - (stretch ? 3 : 0)));
        let j = 0;
        for (let k = 0; k < many; k++) {
          const r = rows[i + k];
          params[j++] = r[0];
          if (kind === null) params[j++] = r[1];
          if (stretch) {
            for (let c = 2; c < RUN; c++) params[j++] = r[c];
            params[j++] = r[8];
            params[j++] = r[10];
          } else for (let c = 2; c < WIDTH; c++) params[j++] = r[c];
        }
        // (the statement spreads the array: better-sqlite3 reads an array's elements one generic
        // property lookup each, while arguments it reads straight off the call: a sixth of the insert's CPU)
        const x = (stretch ?? sql.statement(manyRows(many, kind))).run(params);
        if (x.changes === many) {
          // Under the write lock a row's position is the largest so far plus one: the rows took the positions before the last in order.
          for (let k = 0; k < many; k++) positions[i + k] = x.lastInsertRowid - many + 1 + k;
        } else placeTaken(sql, rows, positions, i, many, x.changes, x.lastInsertRowid);
      }
    }
    const one = sql.statement(`insert into events(${EVENT_COLUMNS}) values ${ROW_MARKS} on conflict(idempotency_key) do nothing`);
    for (; i < rows.length; i++) {
      const x = one.run(rows[i]);
      positions[i] = x.changes === 1 ? x.lastInsertRowid : 0;
    }
    // the batch's spans, in its transaction (profile-spans.ts)
    writeSpans(sql, batchSpans(rows.length, (k) => rows[k][0], (k) => positions[k]));
    return positions;
  },
  insertHistory(sql, rows) {
    const insert = sql.statement(`insert into history(${HISTORY_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of rows) insert.run(r);
  },
  upsertCodeStates(sql, rows) {
    const upsert = sql.statement(`insert into code_states(${CODE_STATE_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict(profile_id, seq) do update set entries = excluded.entries`);
    for (const r of rows) upsert.run(r);
  },
  payload: (p) => p,
  wholeUpTo: (expr, mask) => `${expr} & ${mask} = ${expr}`,
  numbersByPosition: (expr, where) => `select ${expr} from events where ${where} order by position`,
  findBody: (sql, kind, version, payload) => sql.get<{ id: number }>('select id from bodies where kind = ? and version = ? and payload = ?', kind, version, payload)?.id,
  // Writers are serialized (BEGIN IMMEDIATE) and take positions as they commit: position order is commit order.
  readAfter: (sql, columns, cursor, limit) => sql.allRaw(`select '0', position, ${columns} from events where position > ? order by position limit ${limit}`, cursor.position),
  integrityCheck: (sql: Sql) => sql.all<{ quick_check: string }>('pragma quick_check').map((r) => r.quick_check),
  tables: (sql: Sql) => sql.all<{ name: string }>("select name from sqlite_master where type = 'table'").map((r) => r.name),
};
