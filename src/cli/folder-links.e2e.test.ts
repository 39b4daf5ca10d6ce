import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtCli } from '../../test/support/build.ts';
import { cli, type CliResult } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const RUNS = join(FIXTURES, 'multirun/probe4-local');
let n = 0;
const db = () => join(dir, `l${n++}.db`);

/** The command line with a short timeout: a pipe opened for reading blocks, and a hang must fail the test, not hold it. */
function run(path: string, args: string[]): CliResult {
  const r = spawnSync(process.execPath, [builtCli(), '--db', path, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: `${r.signal ?? ''}${r.stderr}` };
}

const events = (path: string) => cli(path, ['jobs', '--json']).stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { events: number }).events).reduce((a, b) => a + b, 0);

// Session 24 trial: a folder of symbolic links (Kubernetes' projected volumes, a "latest" link)
// read as nothing: ingest said "nothing to read: 0 files" (exit 2), watch --once exit 0, an empty
// ledger. And a pipe, a socket or a device in a folder was skipped without a word.
describe('symbolic links, pipes and devices in folders, for ingest and watch alike (session 24 trial)', () => {
  const links = join(dir, 'links');
  mkdirSync(links);
  symlinkSync(join(RUNS, 'run1/trace.log.gz'), join(links, 't.log.gz'));
  symlinkSync(join(RUNS, 'run2'), join(links, 'run2dir'));
  // the same folder again, a loop back to the folder itself, a loop of links and a link to nothing
  symlinkSync(join(RUNS, 'run2'), join(links, 'latest'));
  symlinkSync('../links', join(links, 'self'));
  symlinkSync('b', join(links, 'a'));
  symlinkSync('a', join(links, 'b'));
  symlinkSync('nowhere', join(links, 'gone'));

  it('ingest follows links to files and folders, each file once; a loop ends; what leads nowhere is named and counted', () => {
    const path = db();
    const r = run(path, ['ingest', links, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    // run1's log, run2's log and run2's pickle: run2 once, though two links lead to it
    assert.deepEqual(s.kinds, { trace: 2, pickle: 1 });
    // (run2's pickle is what its log's puts held: its entries count as already in the log, once)
    const once = JSON.parse(cli(db(), ['ingest', '--json', join(RUNS, 'run1/trace.log.gz'), join(RUNS, 'run2')]).stdout.trim().split('\n').at(-1)!) as { duplicates: number };
    assert.equal(s.duplicates, once.duplicates, 'no file read twice');
    assert.equal(s.not_regular, 3, 'a, b (a loop) and gone');
    assert.match(r.stderr, /links\/a: a symbolic link in a loop of links, not a regular file: skipped\n/);
    assert.match(r.stderr, /links\/gone: a symbolic link to nothing there, not a regular file: skipped\n/);
    // the same events as the folders themselves give
    const direct = db();
    assert.equal(cli(direct, ['ingest', join(RUNS, 'run1/trace.log.gz'), join(RUNS, 'run2')]).status, 0);
    assert.equal(events(path), events(direct));
    assert.ok(events(path) > 0);
  });

  it("a remote value's key file beside it is read through a link too (a projected volume links both)", () => {
    const d = join(dir, 'remote-links');
    mkdirSync(d);
    for (const f of ['redis_value.json', 'redis_key.txt']) symlinkSync(join(FIXTURES, 'torch-2.11/remote', f), join(d, f));
    const r = run(db(), ['ingest', d, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).kinds, { 'remote-json': 1 });
    assert.match(r.stderr, /profile key \S+ from .*remote-links\/redis_key\.txt/);
  });

  it('watch --once reads the same files once each, and names what it skipped', () => {
    const path = db();
    const w = run(path, ['watch', '--once', '--json', links]);
    assert.equal(w.status, 0, w.stderr);
    // (--json: the text leaves out an input that added nothing, as run2's pickle, which its log told)
    const kinds = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report: string; kind?: string }).filter((l) => l.report === 'input').map((l) => l.kind);
    assert.deepEqual(kinds.sort(), ['pickle', 'trace', 'trace'], w.stdout);
    assert.match(w.stderr, /links\/gone: a symbolic link to nothing there, not a regular file: skipped\n/);
    const i = db();
    assert.equal(cli(i, ['ingest', links]).status, 0);
    assert.equal(events(path), events(i));
  });

  it('a pipe in a folder is never opened, counted in the summary and named once on stderr, by ingest and watch', () => {
    const d = join(dir, 'with-pipe');
    mkdirSync(d);
    copyFileSync(join(RUNS, 'run1/trace.log.gz'), join(d, 'trace.log.gz'));
    assert.equal(spawnSync('mkfifo', [join(d, 'pipe.log')]).status, 0);
    const i = run(db(), ['ingest', d]);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /with-pipe: folder \(1 trace file; 0 not PGO data, skipped; 1 not a regular file, skipped\): /);
    assert.equal(i.stderr.match(/pipe\.log: a pipe, not a regular file: skipped\n/g)?.length, 1, i.stderr);
    const j = run(db(), ['ingest', d, '--json']);
    assert.equal(JSON.parse(j.stdout).not_regular, 1);
    const w = run(db(), ['watch', '--once', d]);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /trace\.log\.gz: trace: 39 events appended/);
    assert.equal(w.stderr.match(/pipe\.log: a pipe, not a regular file: skipped\n/g)?.length, 1, w.stderr);
    // a folder of nothing but a pipe: nothing to read, the pipe counted (and "1 file" for one)
    const only = join(dir, 'only-pipe');
    mkdirSync(only);
    assert.equal(spawnSync('mkfifo', [join(only, 'p')]).status, 0);
    const o = run(db(), ['ingest', only]);
    assert.equal(o.status, 2, o.stderr);
    assert.match(o.stderr, /only-pipe: failed: nothing to read: 0 files \(1 not a regular file, skipped\), none a TORCH_TRACE log/);
  });

  it('watch --once refuses a pipe, /dev/null and /dev/zero given by name, in the words ingest uses, and takes back the new ledger', () => {
    const fifo = join(dir, 'fifo.log');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    for (const [path, what] of [
      [fifo, 'a pipe'],
      ['/dev/null', 'a character device'],
      ['/dev/zero', 'a character device'],
    ]) {
      const l = db();
      const w = run(l, ['watch', '--once', path]);
      assert.equal(w.status, 2, `${path}: ${w.stderr}`);
      assert.match(w.stderr, new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}: ${what}, not a regular file\n`));
      assert.ok(!existsSync(l), `${path}: the new ledger is taken back`);
      const i = run(db(), ['ingest', path]);
      assert.equal(i.status, 2, i.stderr);
      assert.match(i.stderr, new RegExp(`${path.replace(/[.\\/]/g, '\\$&')}: failed: ${what}, not a regular file`));
    }
  });
});
