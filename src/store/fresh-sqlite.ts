import type Database from 'better-sqlite3';
import { migrations } from '../../migrations/index.ts';
import { FRESH_SQLITE } from '../../migrations/sqlite-fresh.ts';

/**
 * What running every migration through Kysely leaves in a new SQLite database: its schema's
 * SQL in creation order, and the rows the migrations (and Kysely's lock table) hold, Kysely's
 * list of migrations apart (its timestamps are the time of the run). Recorded in
 * migrations/sqlite-fresh.ts by scripts/sqlite-fresh.ts; a test holds the record to the
 * migrations, which stay the one truth.
 */
export interface FreshSchema {
  migrations: string[];
  sql: string[];
  rows: Record<string, unknown[][]>;
}

/** The schema and rows of a database, as FreshSchema records them. */
export function captureSchema(db: Database.Database): FreshSchema {
  const sql = (db.prepare('select sql from sqlite_master where sql is not null order by rowid').all() as { sql: string }[]).map((r) => r.sql);
  const tables = (db.prepare("select name from sqlite_master where type = 'table' order by rowid").all() as { name: string }[]).map((r) => r.name);
  const rows: Record<string, unknown[][]> = {};
  for (const t of tables) {
    if (t === 'kysely_migration') continue;
    const r = db.prepare(`select * from "${t}" order by rowid`).raw(true).all() as unknown[][];
    if (r.length) rows[t] = r;
  }
  const done = (db.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name);
  return { migrations: done, sql, rows };
}

/** Whether the record was made from exactly today's migrations (else Kysely migrates). */
export function freshUsable(): boolean {
  const names = Object.keys(migrations);
  return FRESH_SQLITE.migrations.length === names.length && names.every((n, i) => FRESH_SQLITE.migrations[i] === n);
}

/**
 * Makes a new database what the migrations would, from the record: one pass of plain SQL
 * inside the caller's write transaction, without loading Kysely and its migrator (a third of
 * a small ingest's CPU). Kysely's list says every migration ran, each stamped now as its
 * migrator stamps them.
 */
export function createFresh(db: Database.Database): void {
  for (const s of FRESH_SQLITE.sql) db.exec(s);
  for (const [table, rows] of Object.entries(FRESH_SQLITE.rows)) {
    for (const row of rows) db.prepare(`insert into "${table}" values (${row.map(() => '?').join(', ')})`).run(...row);
  }
  const add = db.prepare('insert into kysely_migration(name, timestamp) values (?, ?)');
  for (const name of FRESH_SQLITE.migrations) add.run(name, new Date().toISOString());
}
