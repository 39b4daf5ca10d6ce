import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cliAs } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 25 trial: with every checkpoint deleted, verify said "matches the log" and nothing of
// why the reads got slow (they fold from the start: derived data costs time, not the answer).
describe('verify of a profile past a checkpoint\'s worth of events that holds none', () => {
  it('passes, and says on stderr that its reads fold from the start and what writes them', () => {
    const dir = tempDir();
    const file = join(dir, 'o.jsonl');
    const code = { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    writeFileSync(file, Array.from({ length: 12 }, (_, i) => JSON.stringify({ job: 'v', run: 'r', time: 1_800_000_000 + i, code, source: "L['x']", kind: 'tensor', size: [8 + (i % 2), 4], stride: [4, 1] })).join('\n') + '\n');
    const db = join(dir, 'v.db');
    const env = { ...process.env, PGO_LEDGER_CHECKPOINT_EVERY: '5' };
    assert.equal(cliAs(db, ['ingest', file], { env }).status, 0);
    const quiet = cliAs(db, ['verify'], { env });
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    const sql = new Database(db);
    sql.exec('delete from checkpoints');
    sql.close();
    const r = cliAs(db, ['verify'], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /verify: the profile matches the log/);
    assert.equal(r.stderr, 'pgo-ledger: note: v:None: holds 12 events and no checkpoint: its reads fold it from the start (pgo-ledger replay writes them)\n');
    assert.equal(cliAs(db, ['replay'], { env }).status, 0);
    assert.equal(cliAs(db, ['verify'], { env }).stderr, '');
  });
});
