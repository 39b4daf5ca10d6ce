import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtCli } from '../../test/support/build.ts';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 25 trial: `export -o` and `report -o` wrote a temporary file beside the output and
// renamed it over what was there: a link became a file, and as root `-o /dev/null` replaced
// the machine's /dev/null with a file. A link is followed to its file; a device, a pipe or a
// process's descriptor is written through.
describe('export -o and report -o to a link, a pipe or a descriptor (session 25 trial)', () => {
  const dir = tempDir();
  const db = join(dir, 'l.db');
  const plain = join(dir, 'plain.pkl');
  const setup = () => {
    if (lstatSync(plain, { throwIfNoEntry: false })) return readFileSync(plain);
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    assert.equal(cli(db, ['export', '--job', 'fixture', '--format', 'pickle', '-o', plain]).status, 0);
    return readFileSync(plain);
  };

  it('a link to a file: the file is written, the link stays a link; a link to a name not there yet makes the file', () => {
    const bytes = setup();
    for (const [name, to] of [['to-file', 'real.pkl'], ['dangling', 'later.pkl']] as const) {
      const link = join(dir, `${name}.pkl`);
      if (to === 'real.pkl') execFileSync('touch', [join(dir, to)]);
      symlinkSync(to, link);
      const r = cli(db, ['export', '--job', 'fixture', '--format', 'pickle', '-o', link]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(lstatSync(link).isSymbolicLink(), `${name}: still a link`);
      assert.equal(readlinkSync(link), to);
      assert.deepEqual(readFileSync(join(dir, to)), bytes);
    }
    const report = join(dir, 'report-link.html');
    symlinkSync('report-real.html', report);
    assert.equal(cli(db, ['report', '--job', 'fixture', '-o', report]).status, 0);
    assert.ok(lstatSync(report).isSymbolicLink());
    assert.match(readFileSync(join(dir, 'report-real.html'), 'utf8'), /^<!doctype html>/i);
  });

  it('a pipe, and a link to it: written through to its reader, still a pipe', { timeout: 60_000 }, async () => {
    const bytes = setup();
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const link = join(dir, 'fifo-link.pkl');
    symlinkSync(fifo, link);
    for (const out of [fifo, link]) {
      const reader = spawn('cat', [fifo]);
      const got: Buffer[] = [];
      reader.stdout.on('data', (d: Buffer) => got.push(d));
      const done = new Promise((go) => reader.on('close', go));
      // a pipe replaced by a file leaves its reader waiting: ended, so the test fails, not hangs
      const stop = setTimeout(() => reader.kill(), 20_000);
      // (spawned: a writer to a pipe waits for its reader)
      const w = spawn(process.execPath, [builtCli(), '--db', db, 'export', '--job', 'fixture', '--format', 'pickle', '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      w.stderr.on('data', (d) => (err += d));
      const status = await new Promise((go) => w.on('close', go));
      await done;
      clearTimeout(stop);
      assert.equal(status, 0, err);
      assert.deepEqual(Buffer.concat(got), bytes, out);
      assert.ok(lstatSync(fifo).isFIFO(), 'still a pipe');
    }
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  it("a process's own descriptor (/proc/self/fd/1, which /dev/stdout names): the bytes go to stdout", () => {
    const bytes = setup();
    const r = execFileSync(process.execPath, [builtCli(), '--db', db, 'export', '--job', 'fixture', '--format', 'pickle', '-o', '/proc/self/fd/1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(r, bytes, 'the bytes alone: no "wrote" line after them, as with -o -');
  });
});
