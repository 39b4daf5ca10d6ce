import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, cliSpawn } from '../../../test/support/cli.ts';
import { tempDir } from '../../../test/support/tmp.ts';

const dir = tempDir('pgo-watch-lines-');
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const line = (i: number) => JSON.stringify({ job: 'rec', run: 'r', time: 1764151200 + i, code: { filename: '/a.py', firstlineno: 1, name: 'f' }, source: 'x', kind: 'size', size: [8, (i % 97) + 1] });
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i) + '\n').join('');

/** One `watch --once --json` of a folder: its exit status, JSON lines and stderr. */
function watchOnce(db: string, folder: string) {
  const r = cli(db, ['watch', folder, '--once', '--json']);
  const out = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown> & { behind?: { bytes: number } });
  return { status: r.status, stderr: r.stderr, inputs: out.filter((j) => j.report === 'input'), pass: out.find((j) => j.report === 'pass')! };
}

const events = (db: string) => {
  const r = cli(db, ['jobs', '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()).events as number;
};

describe('watch: observation lines whose last line is still being written (trial s23 problem 3)', () => {
  it('--once takes the complete lines, leaves the half-written one pending (exit 0, counted behind, said as pending); the next pass takes it once finished', () => {
    const folder = join(dir, 'half');
    mkdirSync(folder);
    const file = join(folder, 'obs.jsonl');
    const last = line(1000);
    writeFileSync(file, lines(0, 1000) + last.slice(0, 60));
    const db = join(dir, 'half.db');
    // before: "not ingested: …obs.jsonl:1001: not JSON", no line committed, failed 1, behind 0, exit 2
    const first = watchOnce(db, folder);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.pass.failed, 0);
    assert.equal(first.pass.appended, 1000);
    assert.equal(first.pass.behind!.bytes, 60);
    assert.match(first.stderr, /obs\.jsonl: pending: its last line \(bytes \d+\.\.\d+\) has no newline and is no whole JSON yet/);
    assert.doesNotMatch(first.stderr, /not ingested|fix the line/);
    assert.equal(events(db), 1000);
    // a pass with nothing finished reads nothing again
    const again = watchOnce(db, folder);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.inputs, []);
    assert.equal(again.pass.behind!.bytes, 60);
    // ingest of the file as it is (given on purpose, whole) still fails on the cut line
    const ingest = cli(join(dir, 'half-ingest.db'), ['ingest', file]);
    assert.equal(ingest.status, 2, ingest.stderr);
    assert.match(ingest.stderr, /obs\.jsonl:1001: not JSON/);
    // the writer finishes the line and goes on
    appendFileSync(file, last.slice(60) + '\n' + lines(1001, 1500));
    const done = watchOnce(db, folder);
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.pass.appended, 500);
    assert.equal(done.pass.behind!.bytes, 0);
    assert.doesNotMatch(done.stderr, /pending/);
    assert.equal(events(db), 1500);
    assert.equal(cli(db, ['verify']).status, 0);
  });

  it('a last line that is whole JSON without its newline is a line; a file of one half-written line is pending, nothing read', () => {
    const folder = join(dir, 'no-newline');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.jsonl'), lines(0, 10) + line(10));
    writeFileSync(join(folder, 'b.jsonl'), line(20).slice(0, 30));
    const db = join(dir, 'no-newline.db');
    const r = watchOnce(db, folder);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.pass.failed, 0);
    assert.equal(r.pass.appended, 11);
    assert.equal(r.pass.behind!.bytes, 30);
    assert.match(r.stderr, /b\.jsonl: pending: its last line \(bytes 0\.\.30\)/);
    assert.doesNotMatch(r.stderr, /a\.jsonl/);
  });

  it('a watch following a recorder that writes each line in two pieces never fails a pass and ends with every line', async () => {
    const folder = join(dir, 'recorder');
    mkdirSync(folder);
    const file = join(folder, 'rec.jsonl');
    writeFileSync(file, '');
    const db = join(dir, 'recorder.db');
    const n = 40;
    const watch = cliSpawn(db, ['watch', folder, '--interval', '0.05', '--json']);
    children.add(watch);
    const passes: { failed: number; appended: number }[] = [];
    let stderr = '';
    let rest = '';
    watch.stdout!.on('data', (b: Buffer) => {
      const parts = (rest += b.toString('utf8')).split('\n');
      rest = parts.pop()!;
      for (const p of parts) if (p.trim() && JSON.parse(p).report === 'pass') passes.push(JSON.parse(p));
    });
    watch.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    // a real writer process: half a line, a pause (a pass or more sees it cut), the rest
    const writer = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      const lines = ${JSON.stringify(Array.from({ length: n }, (_, i) => line(i)))};
      const nap = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      for (const l of lines) {
        fs.appendFileSync(${JSON.stringify(file)}, l.slice(0, 50));
        nap(60);
        fs.appendFileSync(${JSON.stringify(file)}, l.slice(50) + '\\n');
        nap(15);
      }`]);
    children.add(writer);
    assert.equal(await new Promise((r) => writer.once('exit', r)), 0);
    const end = Date.now() + 30_000;
    while (passes.reduce((a, p) => a + p.appended, 0) < n) {
      assert.ok(Date.now() < end, `not every line within 30 s: ${JSON.stringify(passes.slice(-3))}; ${stderr}`);
      assert.equal(watch.exitCode, null, stderr);
      await new Promise((r) => setTimeout(r, 50));
    }
    watch.kill('SIGTERM');
    assert.equal(await new Promise((r) => watch.once('exit', r)), 0, stderr);
    assert.deepEqual(passes.filter((p) => p.failed > 0), [], stderr);
    assert.doesNotMatch(stderr, /not ingested/);
    assert.equal(events(db), n);
  });
});
