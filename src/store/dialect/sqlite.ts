import type { Sql } from '../database.ts';
import { CODE_STATE_COLUMNS, EVENT_COLUMNS, HISTORY_COLUMNS, type Dialect } from './dialect.ts';

/** SQLite: one writer at a time (BEGIN IMMEDIATE is the lock), a prepared statement per row (cheap in process). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  internFirst: false,
  remote: false,
  lock() {
    // BEGIN IMMEDIATE (Sql.immediate) already holds the whole file.
  },
  insertEvents(sql, rows) {
    const insert = sql.statement(`insert into events(${EVENT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict(idempotency_key) do nothing`);
    return rows.map((r) => {
      const x = insert.run(...r);
      return x.changes === 1 ? x.lastInsertRowid : 0;
    });
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
