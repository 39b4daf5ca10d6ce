import type { Sql } from '../database.ts';
import { CODE_STATE_COLUMNS, EVENT_COLUMNS, HISTORY_COLUMNS, type Dialect, type EventRow } from './dialect.ts';

/** Rows an insert statement of the append carries: fewer statements, a sixth less CPU a row. */
const MANY = 100;
const WIDTH = 11;
const ROW_MARKS = `(${Array(WIDTH).fill('?').join(', ')})`;
const KIND = 1; // the kind's column in an EventRow

/**
 * The insert of MANY rows of one kind takes the kind as a literal: a statement's rows are
 * nearly always of one kind, and binding the same text a row cost a tenth of the insert.
 * Only a kind of lower-case letters and dots (every kind the log knows) is written into SQL,
 * where it is the same text as bound; any other is bound as it comes.
 */
const PLAIN_KIND = /^[a-z.]{1,40}$/;
const manyOfKind = new Map<string, string>();
const MANY_ROWS = `insert into events(${EVENT_COLUMNS}) values ${Array(MANY).fill(ROW_MARKS).join(', ')} on conflict(idempotency_key) do nothing`;
function manyRowsOf(kind: string): string {
  let text = manyOfKind.get(kind);
  if (text === undefined) {
    const marks = `(?, '${kind}', ${Array(WIDTH - 2).fill('?').join(', ')})`;
    manyOfKind.set(kind, (text = `insert into events(${EVENT_COLUMNS}) values ${Array(MANY).fill(marks).join(', ')} on conflict(idempotency_key) do nothing`));
  }
  return text;
}
function oneKind(rows: readonly EventRow[], from: number): string | null {
  const kind = rows[from][KIND];
  for (let k = from + 1; k < from + MANY; k++) if (rows[k][KIND] !== kind) return null;
  return typeof kind === 'string' && PLAIN_KIND.test(kind) ? kind : null;
}

/**
 * A statement of MANY rows skipped some (their keys were taken): the rows it inserted are the
 * `changes` positions up to the last, in the rows' order, so their keys, read back, tell which.
 * A key appears once among them: the first row holding it took it.
 */
function placeTaken(sql: Sql, rows: readonly EventRow[], positions: number[], from: number, changes: number, last: number): void {
  const keys = changes === 0 ? [] : sql.allRaw('select idempotency_key from events where position > ? and position <= ? order by position', last - changes, last).map((r) => r[0] as number);
  let j = 0;
  for (let k = from; k < from + MANY; k++) {
    if (j < keys.length && rows[k][10] === keys[j]) positions[k] = last - changes + 1 + j++;
    else positions[k] = 0;
  }
  if (j !== keys.length) throw new Error(`bug: ${keys.length - j} inserted events not found among their statement's rows`);
}

/** SQLite: one writer at a time (BEGIN IMMEDIATE is the lock), prepared statements run in process (events MANY rows a statement). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  internFirst: false,
  remote: false,
  lock() {
    // BEGIN IMMEDIATE (Sql.immediate) already holds the whole file.
  },
  insertEvents(sql, rows) {
    const positions: number[] = new Array(rows.length);
    const params: unknown[] = new Array(MANY * WIDTH);
    const kindParams: unknown[] = new Array(MANY * (WIDTH - 1));
    let i = 0;
    for (; i + MANY <= rows.length; i += MANY) {
      const kind = oneKind(rows, i);
      let x: { changes: number; lastInsertRowid: number };
      if (kind !== null) {
        for (let k = 0, o = 0; k < MANY; k++) {
          const r = rows[i + k];
          kindParams[o++] = r[0];
          for (let c = 2; c < WIDTH; c++) kindParams[o++] = r[c];
        }
        x = sql.statement(manyRowsOf(kind)).run(kindParams);
      } else {
        for (let k = 0, o = 0; k < MANY; k++) {
          const r = rows[i + k];
          for (let c = 0; c < WIDTH; c++) params[o++] = r[c];
        }
        x = sql.statement(MANY_ROWS).run(params);
      }
      if (x.changes === MANY) {
        // Under the write lock a row's position is the largest so far plus one: the rows took the positions before the last in order.
        for (let k = 0; k < MANY; k++) positions[i + k] = x.lastInsertRowid - MANY + 1 + k;
      } else placeTaken(sql, rows, positions, i, x.changes, x.lastInsertRowid);
    }
    const one = sql.statement(`insert into events(${EVENT_COLUMNS}) values ${ROW_MARKS} on conflict(idempotency_key) do nothing`);
    for (; i < rows.length; i++) {
      const x = one.run(rows[i]);
      positions[i] = x.changes === 1 ? x.lastInsertRowid : 0;
    }
    return positions;
  },
  insertHistory(sql, rows) {
    const insert = sql.statement(`insert into history(${HISTORY_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const r of rows) insert.run(...r);
  },
  upsertCodeStates(sql, rows) {
    const upsert = sql.statement(`insert into code_states(${CODE_STATE_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict(profile_id, seq) do update set entries = excluded.entries`);
    for (const r of rows) upsert.run(...r);
  },
  payload: (p) => p,
  findBody: (sql, kind, version, payload) => sql.get<{ id: number }>('select id from bodies where kind = ? and version = ? and payload = ?', kind, version, payload)?.id,
  // Writers are serialized (BEGIN IMMEDIATE) and take positions as they commit: position order is commit order.
  readAfter: (sql, columns, cursor, limit) => sql.allRaw(`select '0', position, ${columns} from events where position > ? order by position limit ${limit}`, cursor.position),
  integrityCheck: (sql: Sql) => sql.all<{ quick_check: string }>('pragma quick_check').map((r) => r.quick_check),
};
