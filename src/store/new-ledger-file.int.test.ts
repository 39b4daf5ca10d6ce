import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { ledgerFileBefore } from './new-ledger-file.ts';
import { openLedger } from './ledger.ts';

const dir = tempDir();

/**
 * Another process on the file, by better-sqlite3 itself: `script` runs with `db` open on `path`;
 * resolves once it wrote "locked", with its end to wait for.
 */
function otherProcess(path: string, script: string): Promise<{ ended: Promise<number | null> }> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', `const Database = require(${JSON.stringify(sqlite)}); const path = ${JSON.stringify(path)}; const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); const db = new Database(path); ${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<number | null>((done) => child.on('exit', done));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve({ ended }));
    child.on('exit', (code) => reject(new Error(`the other process ended (${code}) before it held the lock`)));
  });
}
const sidecars = (p: string) => ['-wal', '-shm', '-journal'].filter((s) => existsSync(p + s));

describe('ledgerFileBefore: what a failed open or copy takes back', () => {
  it('a ledger made whole at a new path meanwhile (another writer, started with this one) is kept where unlessLedger, as openLedger asks', async () => {
    const path = join(dir, 'raced.db');
    const before = ledgerFileBefore(path);
    assert.equal(before.isNew, true);
    const other = await openLedger(path);
    await other.close();
    assert.equal(before.takeBack({ unlessLedger: true }), null);
    assert.ok(existsSync(path), 'the other writer\'s ledger is kept');
    // copy's take-back of a ledger it made and part filled removes it, sidecars and all
    assert.equal(before.takeBack(), `nothing was written: the new ledger ${path} is removed`);
    assert.ok(!existsSync(path));
    assert.deepEqual(sidecars(path), []);
  });

  it('a ledger another process is making at the new path (its lock held, not committed yet) is kept: the take-back waits for its lock (the file was removed from under it, its events lost)', async () => {
    const path = join(dir, 'making.db');
    const before = ledgerFileBefore(path);
    const other = await otherProcess(path, "db.pragma('journal_mode = WAL'); db.exec('BEGIN IMMEDIATE'); db.exec('create table kysely_migration(name text)'); console.log('locked'); pause(800); db.exec('COMMIT'); db.exec(\"insert into kysely_migration values ('made')\"); db.close();");
    assert.equal(before.takeBack({ unlessLedger: true }), null);
    assert.equal(await other.ended, 0);
    assert.ok(existsSync(path), "the other process's ledger is at its path");
    const check = new Database(path, { readonly: true });
    assert.deepEqual(check.prepare('select name from kysely_migration').all(), [{ name: 'made' }]);
    check.close();
  });

  it('a new file another process took back after this one opened it is opened again: the ledger is made at the path, not in the removed file', async () => {
    const path = join(dir, 'taken.db');
    // the other process: the new file's lock held, then the file and its sidecars removed under it, as a take-back does
    const other = await otherProcess(path, "db.pragma('journal_mode = WAL'); db.exec('BEGIN IMMEDIATE'); console.log('locked'); pause(600); for (const s of ['', '-wal', '-shm']) require('node:fs').rmSync(path + s, { force: true }); db.exec('ROLLBACK'); pause(200); process.exit(0);");
    const ledger = await openLedger(path);
    const code = { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    ledger.append([{ kind: 'shape.observed', cacheKey: 'made:None:', payload: { code, source: "L['x']", shape: { kind: 'tensor', size: [8], stride: [1] }, automatic_dynamic: true }, run: null, time: 1, idempotencyKey: 'e1' }]);
    await ledger.close();
    assert.equal(await other.ended, 0);
    assert.ok(existsSync(path), 'the ledger is at its path');
    const check = await openLedger(path, { readonly: true });
    assert.equal(check.sql.get<{ n: number }>('select count(*) n from events')!.n, 1);
    await check.close();
  });

  it('a small file this open cannot read, which the process making it then empties (it was empty before that one made its ledger in it), is opened again: the ledger is made in it (session 24: "damaged", 3 pairs in 80 under load)', async () => {
    const path = join(dir, 'emptied.db');
    // half a ledger's making: a header and garbage, as a write cut by a file-size limit leaves it
    writeFileSync(path, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(8176, 0x55)]));
    // the other process empties it half a second on, as its take-back does ("left empty, as it was")
    const other = spawn('bash', ['-c', `sleep 0.5; : > ${JSON.stringify(path)}`]);
    const ended = new Promise((done) => other.on('exit', done));
    const ledger = await openLedger(path);
    const code = { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    ledger.append([{ kind: 'shape.observed', cacheKey: 'made:None:', payload: { code, source: "L['x']", shape: { kind: 'tensor', size: [8], stride: [1] }, automatic_dynamic: true }, run: null, time: 1, idempotencyKey: 'e1' }]);
    await ledger.close();
    await ended;
    const check = await openLedger(path, { readonly: true });
    assert.equal(check.sql.get<{ n: number }>('select count(*) n from events')!.n, 1);
    await check.close();
  });

  it('a write to a ledger whose file was removed under it (another process took it back) is an error, not a write no path reaches', async () => {
    const path = join(dir, 'removed-under.db');
    const ledger = await openLedger(path);
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
    const code = { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    assert.throws(() => ledger.append([{ kind: 'shape.observed', cacheKey: 'gone:None:', payload: { code, source: "L['x']", shape: { kind: 'tensor', size: [8], stride: [1] }, automatic_dynamic: true }, run: null, time: 1, idempotencyKey: 'e1' }]), /was removed or replaced while this command had it open: nothing of this write was committed/);
    await ledger.close();
  });

  it('a half-made file (no ledger tables) is taken back where unlessLedger; a file that held anything before is never touched', () => {
    const path = join(dir, 'half.db');
    const before = ledgerFileBefore(path);
    writeFileSync(path, Buffer.alloc(4096));
    assert.equal(before.takeBack({ unlessLedger: true }), `nothing was written: the new ledger ${path} is removed`);
    assert.ok(!existsSync(path));
    writeFileSync(path, 'x');
    const held = ledgerFileBefore(path);
    assert.equal(held.isNew, false);
    assert.equal(held.takeBack(), null);
    assert.ok(existsSync(path));
  });

  it('says nothing where nothing was made (a folder that may not be written), and nothing of a PostgreSQL URL', () => {
    assert.equal(ledgerFileBefore(join(dir, 'never.db')).takeBack(), null);
    assert.equal(ledgerFileBefore('postgres://u@h/db').isNew, false);
  });

  it('unlessWritten: a ledger made and left with nothing written is taken back; one with an event, or open in another connection, is kept', async () => {
    const path = join(dir, 'unwritten.db');
    const before = ledgerFileBefore(path);
    const l = await openLedger(path);
    // open here still: another connection (its -wal and -shm are there) keeps it
    assert.equal(before.takeBack({ unlessWritten: true }), null);
    assert.ok(existsSync(path));
    await l.close();
    assert.equal(before.takeBack({ unlessWritten: true }), `nothing was written: the new ledger ${path} is removed`);
    assert.ok(!existsSync(path));
    assert.deepEqual(sidecars(path), []);
    // a ledger a cursor was written to (what watch writes first) is kept
    const written = join(dir, 'written.db');
    const was = ledgerFileBefore(written);
    const w = await openLedger(written);
    w.appendWith([], [{ input: 'file:1:2', identity: 'stat:1:2', offset: 1, hash: null, complete: true, path: '/x', updatedAt: 0 }]);
    await w.close();
    assert.equal(was.takeBack({ unlessWritten: true }), null);
    assert.ok(existsSync(written));
    assert.deepEqual(sidecars(written), [], 'its read made no sidecar that stays');
  });
});
