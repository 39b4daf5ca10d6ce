import assert from 'node:assert/strict';
import { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { FRESH_SQLITE } from '../../migrations/sqlite-fresh.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { openDatabase } from './database.ts';

// Every resolution of 'kysely' in this process, told by a module hook (hooks run on a thread of their own).
const kysely: string[] = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (m: string) => kysely.push(m));
port1.unref();
const hook = "let port; export function initialize(d) { port = d.port; } export async function resolve(s, c, next) { if (s === 'kysely') port.postMessage(s); return next(s, c); }";
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });

/** Another writer: takes the write lock on a new file, says so, and makes the ledger in it a while later (what createFresh does). */
const OTHER = `
const { workerData: { path, fresh, lib, flag, wal } } = require('node:worker_threads');
const Database = require(lib);
const db = new Database(path);
if (wal) db.pragma('journal_mode = WAL');
db.exec('BEGIN IMMEDIATE');
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
Atomics.wait(flag, 0, 1, 300);
for (const s of fresh.sql) db.exec(s);
for (const [table, rows] of Object.entries(fresh.rows)) for (const row of rows) db.prepare('insert into "' + table + '" values (' + row.map(() => '?').join(', ') + ')').run(...row);
for (const name of fresh.migrations) db.prepare('insert into kysely_migration(name, timestamp) values (?, ?)').run(name, new Date().toISOString());
db.prepare("insert into meta(key, value) values ('made by', 'the other writer')").run();
db.exec('COMMIT');
db.close();
`;

describe('SQLite: a new file another writer makes while this one waits for the lock', () => {
  it('opens as current, made once (by the other), with no migration run and no Kysely loaded', async () => {
    const path = join(tempDir(), 'new.db');
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const other = new Worker(OTHER, { eval: true, workerData: { path, fresh: FRESH_SQLITE, lib: createRequire(import.meta.url).resolve('better-sqlite3'), flag, wal: true } });
    const exited = new Promise((resolve, reject) => other.on('exit', resolve).on('error', reject));
    Atomics.wait(flag, 0, 0, 10_000); // the other holds the lock; the file holds no ledger tables yet
    const db = await openDatabase(path);
    try {
      assert.equal(db.sql.get<{ value: string }>("select value from meta where key = 'made by'")?.value, 'the other writer');
      assert.equal(db.sql.get<{ n: number }>('select count(*) n from kysely_migration')?.n, FRESH_SQLITE.migrations.length);
      db.sql.immediate(() => db.sql.run("insert into meta(key, value) values ('then', 'this one wrote')"));
    } finally {
      await db.close();
    }
    await exited;
    await new Promise((r) => setTimeout(r, 100)); // the hook's messages
    assert.deepEqual(kysely, [], 'Kysely never loaded');
  });

  it('waits while the file is still in rollback mode and another holds its write lock (was: "database is locked" at once, 4 writers on 16 cores)', async () => {
    // journal_mode = WAL reads the header, then asks for the write lock inside that read: SQLite
    // answers SQLITE_BUSY at once there, not through the busy handler
    const path = join(tempDir(), 'rollback.db');
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const other = new Worker(OTHER, { eval: true, workerData: { path, fresh: FRESH_SQLITE, lib: createRequire(import.meta.url).resolve('better-sqlite3'), flag, wal: false } });
    const exited = new Promise((resolve, reject) => other.on('exit', resolve).on('error', reject));
    Atomics.wait(flag, 0, 0, 10_000);
    const db = await openDatabase(path);
    try {
      assert.equal(db.sql.get<{ value: string }>("select value from meta where key = 'made by'")?.value, 'the other writer');
      assert.equal(db.sql.get<{ journal_mode: string }>('pragma journal_mode')?.journal_mode, 'wal');
    } finally {
      await db.close();
    }
    await exited;
  });
});
