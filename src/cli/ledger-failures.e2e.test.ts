import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliAs } from '../../test/support/cli.ts';
import { builtCli } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';

// Trial 20: what each command says when its ledger fails under it, through the built command line.
const dir = tempDir();
const require = createRequire(import.meta.url);
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

  const copyLimited = (limit: number, to: string) => spawnSync('bash', ['-c', `ulimit -f ${limit}; exec "$@"`, 'bash', process.execPath, builtCli(), 'copy', '--from', base, '--to', to], { encoding: 'utf8' });
  const sidecars = (db: string) => ['-wal', '-shm', '-journal'].filter((f) => existsSync(db + f));

  it('report -o a new folder past a file-size limit leaves no folder it made (export and report write a file whole or not at all)', () => {
    const site = join(dir, 'site');
    const r = spawnSync('bash', ['-c', 'ulimit -f 40; exec "$@"', 'bash', process.execPath, builtCli(), '--db', base, 'report', '--all', '-o', `${site}/a/b/`], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^pgo-ledger: cannot write ${esc(site)}/a/b/index\\.html: larger than this process may write \\(ulimit -f\\)\\n$`));
    assert.equal(existsSync(site), false);
    for (const f of [`${base}-shm`, `${base}-wal`]) rmSync(f, { force: true });
  });

  it('copy past a file-size limit names the ledger it writes (--to), not the one it reads', () => {
    const to = join(dir, 'copy-to.db');
    const r = copyLimited(200, to);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^pgo-ledger: the ledger ${esc(to)}: disk I/O error: this process may write no file past 204800 bytes \\(its file-size limit, ulimit -f\\), the likely cause`));
  });

  // Session 21: a copy to a new ledger that failed left a 4 KiB file that was no ledger (its
  // making cut), or a ledger of some of the events: a half-write. Nothing is left now.
  it('copy to a new ledger that fails (its making, or an append) leaves no file, and says nothing was written', () => {
    for (const limit of [40, 150, 200]) {
      const to = join(dir, `copy-new-${limit}.db`);
      const r = copyLimited(limit, to);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^pgo-ledger: .*${esc(to)}: disk I/O error: .*ulimit -f.*; nothing was written: the new ledger ${esc(to)} is removed\\n$`), String(limit));
      assert.equal(existsSync(to), false, `${limit}: ${to} left behind`);
      assert.deepEqual(sidecars(to), [], String(limit));
      // and the same copy, with room, makes the whole ledger
      assert.equal(cliAs(base, ['copy', '--to', to]).status, 0);
      assert.equal(cliAs(to, ['jobs', '--json']).stdout, cliAs(base, ['jobs', '--json']).stdout);
    }
  });

  it('copy to an empty file that fails leaves it empty, as it was', () => {
    const to = join(dir, 'copy-empty.db');
    writeFileSync(to, '');
    const r = copyLimited(200, to);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`; nothing was written: ${esc(to)} is left empty, as it was\\n$`));
    assert.equal(readFileSync(to).length, 0);
    assert.deepEqual(sidecars(to), []);
  });

  it('copy into an existing ledger that fails keeps the whole batches it appended, says so, and the copy again adds the rest', () => {
    // a source of three batches (copy appends 5000 events a transaction), the first within the limit
    const big = join(dir, 'copy-big.db');
    assert.equal(cliAs(big, ['ingest', '-'], { input: lines(12000) }).status, 0);
    for (const f of [`${big}-shm`, `${big}-wal`]) rmSync(f, { force: true });
    const to = join(dir, 'copy-existing.db');
    assert.equal(cliAs(to, ['ingest', '-'], { input: lines(10).replaceAll('"big"', '"other"') }).status, 0);
    for (const f of [`${to}-shm`, `${to}-wal`]) rmSync(f, { force: true });
    const r = spawnSync('bash', ['-c', 'ulimit -f 600; exec "$@"', 'bash', process.execPath, builtCli(), 'copy', '--from', big, '--to', to], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^pgo-ledger: the ledger ${esc(to)}: disk I/O error: .*ulimit -f.*; ${esc(to)} was a ledger before: the events copied before it are in it, in whole transactions \\(5000 of the source's 12000\\), and the same copy again adds the rest\\n$`));
    assert.equal(cliAs(to, ['verify']).status, 0);
    assert.equal(JSON.parse(cliAs(big, ['copy', '--to', to, '--json']).stdout).appended, 7000);
    // the source's profiles whole (positions aside: the target's own events came first)
    const profiles = (db: string) => cliAs(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => ({ ...JSON.parse(l), position: undefined })).filter((p) => p.job === 'big');
    assert.deepEqual(profiles(to), profiles(big));
  });
});

// Session 22: ingest (and watch, pull: every command that creates a ledger) into a new path cut
// by a file-size limit left a 4 KiB file that was no ledger, or one with a -wal and -shm, which
// a later command then met. The making is taken back now, as copy takes back its own.
describe('session 22: a new ledger whose making fails', () => {
  const limited = (limit: number, db: string, args: string[], input?: string) =>
    spawnSync('bash', ['-c', `ulimit -f ${limit}; exec "$@"`, 'bash', process.execPath, builtCli(), '--db', db, ...args], { encoding: 'utf8', input });
  const sidecars = (db: string) => ['-wal', '-shm', '-journal'].filter((f) => existsSync(db + f));
  const traces = join(dir, 'made-traces');
  mkdirSync(traces);
  copyFileSync(join(import.meta.dirname, '../../test/fixtures/torch-2.11/traces/cold-local.log'), join(traces, 'cold-local.log'));
  const commands = [['ingest', '-'], ['watch', '--once', traces]];

  it('ingest, watch and pull leave no file, -wal or -shm, and say the new ledger is removed (its header, and its -shm, cut by ulimit -f)', () => {
    for (const limit of [4, 40]) {
      // pull opens the ledger before it asks Redis (none listens on port 1)
      for (const args of [...commands, ['pull', 'redis://127.0.0.1:1', '--all']]) {
        const db = join(dir, `made-${args[0]}-${limit}.db`);
        const r = limited(limit, db, args, lines(10));
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^pgo-ledger: cannot create the ledger in ${esc(db)}: disk I/O error: .*ulimit -f.*; nothing was written: the new ledger ${esc(db)} is removed\n$`), `${args[0]} ${limit}`);
        assert.equal(existsSync(db), false, `${args[0]} ${limit}: ${db} left behind`);
        assert.deepEqual(sidecars(db), [], `${args[0]} ${limit}`);
        if (args[0] === 'pull') continue;
        // with room, the same command makes the whole ledger
        const again = cliAs(db, args, { input: lines(10) });
        assert.equal(again.status, 0, again.stderr);
        assert.equal(cliAs(db, ['verify']).status, 0);
      }
    }
  });

  it('an empty file is left empty, and a ledger that was there before is never removed', () => {
    const empty = join(dir, 'made-empty.db');
    writeFileSync(empty, '');
    const r = limited(40, empty, ['ingest', '-'], lines(10));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`; nothing was written: ${esc(empty)} is left empty, as it was\n$`));
    assert.equal(readFileSync(empty).length, 0);
    assert.deepEqual(sidecars(empty), []);
    const kept = join(dir, 'made-kept.db');
    assert.equal(cliAs(kept, ['ingest', '-'], { input: lines(10) }).status, 0);
    for (const f of [`${kept}-shm`, `${kept}-wal`]) rmSync(f, { force: true });
    const before = readFileSync(kept);
    for (const args of commands) {
      const w = limited(4, kept, args, lines(20));
      assert.equal(w.status, 2, w.stderr);
      assert.doesNotMatch(w.stderr, /removed|nothing was written/);
      assert.ok(readFileSync(kept).equals(before), args[0]);
      assert.equal(cliAs(kept, ['verify']).status, 0);
    }
  });
});

describe("session 22 trial: the ledger fills in the middle of an ingest's inputs", () => {
  it('names the input it stopped in (none of its events committed), as it names those not read', () => {
    const traces = [1, 2, 3].map((n) => join(FIXTURES, 'multirun', 'probe5', `run${n}`, 'trace.log.gz'));
    // a limit that takes run 1 whole and stops in run 2 (its WAL past it)
    const db = join(dir, 'full-mid.db');
    const r = spawnSync('bash', ['-c', 'ulimit -f 300; exec "$@"', 'bash', process.execPath, builtCli(), '--db', db, 'ingest', ...traces], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /run1\/trace\.log\.gz: trace: 60 events appended/);
    assert.match(r.stderr, /\n  \S+run2\/trace\.log\.gz: not ingested, none of its events were committed\n  not read, as the ledger stopped: \S+run3\/trace\.log\.gz\n$/);
    // and so it is: the ledger holds run 1's events only
    const jobs = JSON.parse(cliAs(db, ['jobs', '--json']).stdout.trim()) as { events: number };
    assert.equal(jobs.events, 60);
  });
});

describe('trial 20: a ledger whose folder may not be written', () => {
  /** Root writes anywhere: to stand for a user who may not write the folder, run as nobody. */
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

  /** A ledger of 10 lines in a folder of its own, closed (no -wal or -shm left beside it). */
  const ledgerIn = (folder: string, name: string) => {
    const sub = join(dir, folder);
    mkdirSync(sub);
    const db = join(sub, name);
    assert.equal(cliAs(db, ['ingest', '-'], { input: lines(10) }).status, 0);
    for (const f of [`${db}-shm`, `${db}-wal`]) rmSync(f, { force: true });
    chmodSync(dir, 0o755);
    return { sub, db };
  };

  it('a write command says the folder may not be written, naming it, for an existing ledger and a new one (SQLite said "attempt to write a readonly database", "unable to open database file")', () => {
    const { sub, db } = ledgerIn('closed', 'kept.db');
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

  it('session 20 trial: a ledger file that may not be written, in a folder that may, is said the same way and nothing is written beside it (SQLite said "attempt to write a readonly database")', () => {
    const { sub, db } = ledgerIn('rofile', 'a.db');
    chmodSync(sub, 0o777);
    chmodSync(db, 0o444);
    const before = readFileSync(db);
    const w = cliAs(db, ['ingest', '-'], { ...asNobody, input: lines(10) });
    assert.equal(w.status, 2, w.stderr);
    assert.match(w.stderr, new RegExp(`^pgo-ledger: cannot write the ledger ${esc(db)}: the file may not be written by this user \\(EACCES\\); a write command writes the file and its -wal and -shm beside it \\(read commands still read it\\)`), w.stderr);
    assert.ok(readFileSync(db).equals(before), 'not a byte written');
    assert.deepEqual(readdirSync(sub), ['a.db'], 'no -wal or -shm left beside it');
    assert.equal(cliAs(db, ['jobs'], asNobody).status, 0, 'a read command still reads it');
  });
});

describe('trial 20: a bad line in a file\'s first batch', () => {
  it('says that the lines before it were not committed either, as it says how many were where a batch went in before it', () => {
    const db = join(dir, 'first-batch.db');
    const file = join(dir, 'cut.jsonl');
    const good = lines(3);
    writeFileSync(file, good + good.split('\n')[0].slice(0, 60));
    const r = cliAs(db, ['ingest', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^${esc(file)}: failed: ${esc(file)}:4: not JSON: .*\\n  no line of ${esc(file)} was committed: the 3 lines before it went in one batch with it \\(10000 lines a transaction\\); fix the line and ingest the file again\\n`));
    // and none was: the new ledger is taken back (a --json failure says so on stdout: session 28)
    assert.match(cliAs(db, ['jobs', '--json']).stdout, /^\{"error":"no ledger at [^"]*first-batch\.db: /, 'and none was');
    // a bad first line has nothing before it to speak of
    writeFileSync(file, '{"job":\n');
    assert.doesNotMatch(cliAs(db, ['ingest', file]).stderr, /committed/);
  });
});

describe('trial 20: a write killed before a new ledger turned to WAL', () => {
  it('leaves a hot journal: a read command says so and what to run (it said "attempt to write a readonly database"), and a write command rolls it back', () => {
    const db = join(dir, 'hot.db');
    // a writer killed midway through a transaction whose pages spilled to the file: its journal is hot
    const writer = `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))}); const d = new D(${JSON.stringify(db)});
      d.pragma('journal_mode = DELETE'); d.exec('create table t(x)'); d.pragma('cache_size = 2'); d.exec('begin');
      const s = d.prepare('insert into t values (?)'); for (let i = 0; i < 20000; i++) s.run('x'.repeat(100));
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', writer]);
    assert.ok(existsSync(`${db}-journal`), 'a hot journal');
    const r = cliAs(db, ['jobs']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^pgo-ledger: cannot open database ${esc(db)}: a write to it was stopped midway and ${esc(db)}-journal holds what undoes it, which a read command \\(it opens the ledger read-only\\) cannot apply: run a write command on it once \\(pgo-ledger ingest, replay\\), which rolls it back: `));
    // the write command's open rolls it back (here the file is another program's, which it then refuses)
    assert.match(cliAs(db, ['replay']).stderr, /not a pgo-ledger ledger/);
    assert.ok(!existsSync(`${db}-journal`), 'rolled back');
  });
});

describe('trial 20: diff across a retraction', () => {
  it('notes on stderr the run retracted between its two points, which undid the dims it names with no position', () => {
    const db = join(dir, 'retracted-diff.db');
    const code = { filename: '/srv/m.py', firstlineno: 10, name: 'forward', file_hash: 'aaaa' };
    const obs = (run: string, s: number, size: number[]) => JSON.stringify({ job: 'rd', run, time: `2026-11-26T10:00:0${s}Z`, code, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] });
    assert.equal(cliAs(db, ['ingest', '-'], { input: [obs('r1', 0, [8, 128]), obs('r3', 1, [8, 256])].join('\n') + '\n' }).status, 0);
    assert.equal(cliAs(db, ['retract', '--run', 'r3']).status, 0);
    const r = cliAs(db, ['diff', '--job', 'rd', '--from', '2']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^changed L\['x'\] .*\n {4}size\[1\]: \? -> 128\n$/);
    assert.match(r.stderr, /^pgo-ledger: note: run r3 was retracted at #3 \(\d{4}-[^)]*Z\), after --from 2: --to leaves its events out, --from holds them\n$/);
    // --json's lines are the changes alone; the note is the same
    const j = cliAs(db, ['diff', '--job', 'rd', '--from', '2', '--json']);
    assert.equal(j.stdout.trim().split('\n').length, 1);
    assert.equal(j.stderr, r.stderr);
    // no note where the retraction is in both windows, or the run is left out of both
    assert.equal(cliAs(db, ['diff', '--job', 'rd', '--from', '1', '--to', '2']).stderr, '');
    assert.equal(cliAs(db, ['diff', '--job', 'rd', '--from', '2', '--exclude-run', 'r3']).stderr, '');
  });
});

describe('trial 20: a ledger on a full disk', () => {
  it('a read command says the -shm cannot grow as the file system is full, not a bare "disk I/O error" (a tmpfs mounted where the tests may)', (t) => {
    const mnt = join(dir, 'full');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0) return t.skip('cannot mount a tmpfs here');
    try {
      const db = join(mnt, 'l.db');
      assert.equal(cliAs(db, ['ingest', '-'], { input: lines(10) }).status, 0);
      // fill the rest of the file system
      const fd = openSync(join(mnt, 'fill'), 'w');
      try {
        for (const chunk = Buffer.alloc(4096); ; ) writeSync(fd, chunk);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        closeSync(fd);
      }
      const r = cliAs(db, ['jobs']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^pgo-ledger: cannot open database ${esc(db)}: disk I/O error: ${esc(db)}-shm, which SQLite maps for every reader and writer \\(32 KiB at least\\), cannot grow: the file system that holds it is full \\(\\d+ bytes free\\)\\n$`));
      rmSync(join(mnt, 'fill'));
      assert.equal(cliAs(db, ['jobs']).status, 0, 'with room again it reads');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('two writers started together on one new ledger path, one of them failing', () => {
  it("the other's events are in the file at the path, and it succeeds (its open saw a file the failing one was making, then removing)", async () => {
    const { spawn } = await import('node:child_process');
    const run = (args: string[], limit?: number) =>
      new Promise<{ status: number | null; stderr: string }>((done) => {
        const p = limit === undefined ? spawn(process.execPath, [builtCli(), ...args]) : spawn('bash', ['-c', `ulimit -f ${limit}; exec "$@"`, 'bash', process.execPath, builtCli(), ...args]);
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d));
        p.on('exit', (status) => done({ status, stderr }));
      });
    const bad = join(FIXTURES, 'multirun', 'probe5', 'run2', 'trace.log.gz');
    const good = join(FIXTURES, 'multirun', 'probe7', 'run1', 'trace.log.gz');
    // a new-user trial met it 2 times in 28 (the good one: "cannot open database: disk I/O error",
    // no ledger left); a guard, as the moment the two meet is the scheduler's
    for (let i = 0; i < 16; i++) {
      const db = join(dir, `together-${i}.db`);
      const [, ok] = await Promise.all([run(['--db', db, 'ingest', bad], 40), run(['--db', db, 'ingest', good])]);
      assert.equal(ok.status, 0, `pair ${i}: ${ok.stderr}`);
      assert.match(cliAs(db, ['jobs']).stdout, /^probe7:None:\t9 events\t/m, `pair ${i}`);
    }
  });
});
