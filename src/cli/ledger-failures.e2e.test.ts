import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliAs } from '../../test/support/cli.ts';
import { builtCli } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial 20: what each command says when its ledger fails under it, through the built command line.
const dir = tempDir();
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Observation lines of two ranks and two runs, enough that a write command's pages pass a small file-size limit. */
function lines(n: number): string {
  const code = { filename: '/srv/m.py', firstlineno: 10, name: 'forward', file_hash: 'aaaa' };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const time = new Date(Date.UTC(2026, 10, 27) + i * 1000).toISOString();
    out.push(JSON.stringify({ job: 'big', rank: i % 2, run: i < n / 2 ? 'b0' : 'b1', time, code, source: `L['x${i % 50}']`, kind: 'tensor', size: [(i % 7) + 1, 128], stride: [128, 1] }));
  }
  return out.join('\n') + '\n';
}

describe('trial 20: a write command whose ledger fails after it opened', () => {
  const base = join(dir, 'base.db');
  assert.equal(cliAs(base, ['ingest', '-'], { input: lines(3000) }).status, 0);

  it('retract, merge and replay past a file-size limit name the ledger and the limit, as ingest does (they said only "disk I/O error")', () => {
    for (const args of [['retract', '--run', 'b0'], ['merge', '--from', 'big:*', '--into', 'joined'], ['replay']]) {
      const db = join(dir, `${args[0]}.db`);
      copyFileSync(base, db);
      for (const f of [`${db}-shm`, `${db}-wal`]) rmSync(f, { force: true });
      const r = spawnSync('bash', ['-c', 'ulimit -f 40; exec "$@"', 'bash', process.execPath, builtCli(), '--db', db, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^pgo-ledger: the ledger ${esc(db)}: disk I/O error: this process may write no file past 40960 bytes \\(its file-size limit, ulimit -f\\), the likely cause\\n$`), args[0]);
      // nothing half-written: the ledger as it was
      const v = cliAs(db, ['verify']);
      assert.equal(v.status, 0, v.stderr);
      assert.equal(cliAs(db, ['jobs', '--json']).stdout, cliAs(base, ['jobs', '--json']).stdout, args[0]);
    }
  });
});

describe('trial 20: a ledger whose folder may not be written', () => {
  /** Root writes anywhere: to stand for a user who may not write the folder, run as nobody. */
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

  it('a write command says the folder may not be written, naming it, for an existing ledger and a new one (SQLite said "attempt to write a readonly database", "unable to open database file")', () => {
    const sub = join(dir, 'closed');
    mkdirSync(sub);
    const db = join(sub, 'kept.db');
    assert.equal(cliAs(db, ['ingest', '-'], { input: lines(10) }).status, 0);
    for (const f of [`${db}-shm`, `${db}-wal`]) rmSync(f, { force: true });
    chmodSync(dir, 0o755);
    chmodSync(db, 0o666);
    chmodSync(sub, 0o555);
    try {
      const before = readFileSync(db);
      for (const [path, readable] of [[db, true], [join(sub, 'new.db'), false]] as const) {
        const w = cliAs(path, ['ingest', '-'], { ...asNobody, input: lines(10) });
        assert.equal(w.status, 2, w.stderr);
        const tail = readable ? ' \\(read commands still read it\\)' : '';
        assert.match(w.stderr, new RegExp(`^pgo-ledger: cannot write the ledger ${esc(path)}: its folder ${esc(sub)} may not be written by this user \\(EACCES\\); a write command writes the file and its -wal and -shm beside it${tail}: `), w.stderr);
      }
      assert.ok(readFileSync(db).equals(before), 'not a byte written');
      assert.equal(cliAs(db, ['jobs'], asNobody).status, 0, 'a read command still reads it');
    } finally {
      chmodSync(sub, 0o755);
    }
  });
});
