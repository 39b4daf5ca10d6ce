import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s31: `show` and `why` of a ledger holding one profile asked for --job (commander's
// "required option '--job <job>' not specified"). A command of one profile takes the ledger's one job.
const dir = tempDir();

describe('--job left out', () => {
  it("a ledger of one job: every command of one profile takes it, as with --job", () => {
    const db = join(dir, 'one.db');
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    for (const args of [['show'], ['why'], ['history', '--json'], ['diff', '--from', '10'], ['why', '--source', "L['x']", '--code', 'forward', '--json'], ['export', '--format', 'remote-json', '-o', '-']]) {
      const without = cli(db, args);
      assert.equal(without.status, 0, `${args.join(' ')}: ${without.stderr}`);
      assert.equal(without.stdout, cli(db, [...args, '--job', 'fixture']).stdout, args.join(' '));
    }
    // L['x'] of f (2 dims) and of forward (3): their dims in one order (trial s32: "0, 1, stride 0, stride 1, 2, stride 2")
    assert.match(cli(db, ['why', '--source', "L['x']", '--dim', '7']).stderr, /has no dim 7; its dims: 0, 1, 2, stride 0, stride 1, stride 2$/m);
    const pkl = join(dir, 'one.pkl');
    assert.equal(cli(db, ['export', '--format', 'pickle', '-o', pkl]).status, 0);
    assert.deepEqual(readFileSync(pkl), readFileSync(join(TORCH, 'local', 'code_state_fixture_None_.pkl')));
    assert.match(cli(db, ['report', '--help']).stdout.replace(/\s+/g, ' '), /--job <job> job id \(torch\.compiler\.config\.job_id; omit where the ledger holds one job\)/);
    const r = cli(db, ['report', '-o', join(dir, 'one.html')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote \S*one\.html \(1 profile, /);
  });

  it('a ledger of several jobs, or of one job of several profiles: exit 2 saying what to give', () => {
    const db = join(dir, 'two.db');
    const line = (job: string) => JSON.stringify({ job, run: 'r1', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8, 4], stride: [4, 1] });
    // b first: the jobs are named in byte order, not the ledger's
    writeFileSync(join(dir, 'two.jsonl'), `${line('b')}\n${line('a')}\n`);
    assert.equal(cli(db, ['ingest', join(dir, 'two.jsonl')]).status, 0);
    for (const args of [['show'], ['why', '--json'], ['export', '--format', 'pickle', '-o', join(dir, 'never.pkl')]]) {
      const r = cli(db, args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^pgo-ledger: give --job: the ledger holds 2 jobs \(a, b; pgo-ledger jobs lists their profiles\)$/m, args.join(' '));
    }
    assert.match(cli(db, ['report', '-o', join(dir, 'two.html')]).stderr, /^pgo-ledger: report needs --job or --all: the ledger holds 2 jobs \(a, b\)$/m);
    const ranks = join(dir, 'ranks.db');
    for (const rank of ['0', '1']) assert.equal(cli(ranks, ['ingest', join(TORCH, 'workload2', `trace-rank${rank}.log`)]).status, 0);
    const r = cli(ranks, ['show']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pgo-ledger: job fixture2 has several profiles \(fixture2:0:, fixture2:1:\): pick one with --rank\/--tag$/m);
    assert.equal(cli(ranks, ['show', '--rank', '1']).stdout, cli(ranks, ['show', '--job', 'fixture2', '--rank', '1']).stdout);
  });

  it('an empty ledger: exit 2, no profile yet', () => {
    const db = join(dir, 'empty.db');
    assert.equal(cli(db, ['ingest', '-'], '').status, 0);
    const r = cli(db, ['show']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pgo-ledger: the ledger holds no profile yet \(ingest or pull adds them\)$/m);
  });
});
