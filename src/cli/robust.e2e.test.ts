import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cliBuilt, cliBuiltSpawn, startLine } from '../../test/support/cli-built.ts';
import { oracleCases } from '../../test/support/fixtures.ts';
import { caseLines } from '../../test/support/oracle-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Issue 9 ("Nothing lost, nothing read, nothing hangs"), the store and command line half,
// through the built command line in real processes.
const dir = tempDir();
const cases = oracleCases();
const lines = (c: number) => caseLines(cases[c]).join('\n') + '\n';
/** Root reads any file: to stand for a user who may only read, run as nobody. */
const asReader = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

describe('issue 9: opening databases', () => {
  it('issue 9.4: 40 processes opening one new database at once all succeed', async () => {
    const db = join(dir, 'many-openers.db');
    const go = join(dir, 'go');
    const n = 40;
    for (let i = 0; i < n; i++) writeFileSync(join(dir, `opener-${i}.jsonl`), caseLines(cases[i]).join('\n') + '\n');
    const all = Promise.all(
      Array.from({ length: n }, (_, i) => new Promise<{ code: number; stderr: string }>((resolve) => {
        const c = cliBuiltSpawn(db, ['ingest', join(dir, `opener-${i}.jsonl`)], { nodeArgs: startLine(go) });
        let stderr = '';
        c.stderr!.on('data', (d) => (stderr += d));
        c.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
      })),
    );
    await new Promise((r) => setTimeout(r, 3000)); // every process started and waiting at the line
    writeFileSync(go, '');
    const results = await all;
    const failed = results.filter((r) => r.code !== 0);
    assert.deepEqual(failed, [], `${failed.length} of ${n} failed`);
    const jobs = cliBuilt(db, ['jobs', '--json']).stdout.trim().split('\n');
    assert.equal(jobs.length, n);
    const v = cliBuilt(db, ['verify']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  it('issue 9.9: a database the user may only read is read, and never migrated', () => {
    const sub = join(dir, 'readonly');
    const db = join(sub, 'ro.db');
    mkdirSync(sub);
    assert.equal(cliBuilt(db, ['ingest', '-'], { input: lines(0) }).status, 0);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o755);
    try {
    // a folder the reader may only read (no -shm can be made there), then one it may write
    for (const folder of [0o555, 0o777]) {
      chmodSync(sub, folder);
      const before = readFileSync(db);
      for (const args of [['jobs'], ['show', '--job', 'case-0'], ['history', '--job', 'case-0'], ['why', '--job', 'case-0'], ['export', '--job', 'case-0', '--format', 'pickle', '-o', '-'], ['verify']]) {
        const r = cliBuilt(db, args, asReader);
        assert.equal(r.status, 0, `folder ${folder.toString(8)}: ${args.join(' ')}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /readonly|read-only/);
      }
      assert.equal(cliBuilt(db, ['show', '--job', 'case-0'], asReader).stdout, cases[0].expected.render + '\n');
      assert.ok(readFileSync(db).equals(before), 'not a byte written');
      // and a write command says plainly why it cannot
      const w = cliBuilt(db, ['ingest', '-'], { ...asReader, input: lines(1) });
      assert.equal(w.status, 2, w.stderr);
      assert.match(w.stderr, /pgo-ledger: .*(readonly|read-only|unable to open)/);
    }
    } finally {
      chmodSync(sub, 0o755);
      chmodSync(db, 0o644);
    }
  });

  it('issue 9.9: a read command never migrates: a database that needs it is an error that says what to run', () => {
    const db = join(dir, 'behind.db');
    assert.equal(cliBuilt(db, ['ingest', '-'], { input: lines(0) }).status, 0);
    const raw = new Database(db);
    raw.prepare('delete from kysely_migration').run(); // as if written before the (only) migration
    raw.close();
    const before = readFileSync(db);
    const r = cliBuilt(db, ['show', '--job', 'case-0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /written by an older pgo-ledger and must be upgraded, which a read command never does: run a write command on it once/);
    assert.ok(readFileSync(db).equals(before));
  });

  it('issue 9.9: views pinned by pgo-ledger < 0.2: a read-only open refuses to answer from them and says to replay', () => {
    const db = join(dir, 'pinned.db');
    assert.equal(cliBuilt(db, ['ingest', '-'], { input: lines(0) }).status, 0);
    const raw = new Database(db);
    raw.prepare("insert into meta(key, value) values ('views', ?)").run(JSON.stringify({ untilPosition: 1 }));
    raw.prepare('delete from code_states').run(); // what a pin to position 1 could leave
    raw.close();
    const r = cliBuilt(db, ['show', '--job', 'case-0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /had its views pinned by an older pgo-ledger; run `pgo-ledger replay` on it once/);
    assert.equal(cliBuilt(db, ['replay']).status, 0);
    assert.equal(cliBuilt(db, ['show', '--job', 'case-0']).stdout, cases[0].expected.render + '\n');
  });

  it('issue 9.10: a read command or verify on a path that does not exist is an error and creates nothing', () => {
    const db = join(dir, 'typo.db');
    for (const args of [['jobs'], ['show', '--job', 'x'], ['verify'], ['export', '--job', 'x', '--format', 'pickle', '-o', join(dir, 'x.pkl')]]) {
      const r = cliBuilt(db, args);
      assert.equal(r.status, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`no ledger at ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a read command never creates one`));
      assert.doesNotMatch(r.stdout, /profiles match/);
      assert.equal(existsSync(db), false);
    }
  });
});
