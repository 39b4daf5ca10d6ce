import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { ledgerFileBefore } from './new-ledger-file.ts';
import { openLedger } from './ledger.ts';

const dir = tempDir();
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
