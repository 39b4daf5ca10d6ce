import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { TORCH } from '../../test/support/fixtures.ts';

// Session 20: a record's cached/new came as Python's str() of the atom ("AutoDynamic.token"),
// where show, why and report say `?`: a merge of ranks whose profiles differ printed
// `size change: 8 -> AutoDynamic.token`, and so did PyTorch's own quirk of logging a dim
// already dynamic again.
const dir = tempDir();
const code = { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' };
const line = (job: string, rank: number, run: string, time: string, size: number[]) => JSON.stringify({ job, rank, run, time, code, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] });

describe("a record's cached and new print as show prints a dim (`?` dynamic), in every command", () => {
  const db = join(dir, 'rec.db');
  const r0 = join(dir, 'r0.jsonl');
  const r1 = join(dir, 'r1.jsonl');
  const r0b = join(dir, 'r0b.jsonl');
  // rank 0 static 8, rank 1 dynamic at dim 0: the join of rank 1 into the target turns it dynamic
  writeFileSync(r0, line('m', 0, 'r0', '2026-11-26T10:00:00Z', [8, 4]) + '\n');
  writeFileSync(r1, [line('m', 1, 'r1', '2026-11-26T10:00:00Z', [16, 4]), line('m', 1, 'r1', '2026-11-26T10:02:00Z', [17, 4])].join('\n') + '\n');
  writeFileSync(r0b, line('m', 0, 'r0', '2026-11-26T10:03:00Z', [8, 4]) + '\n');

  it('merge and merge --live of ranks whose profiles differ: history, text and --json, and stats', () => {
    assert.equal(cli(db, ['ingest', r0, r1]).status, 0);
    assert.equal(cli(db, ['merge', '--from', 'm:*', '--into', 'mj']).status, 0);
    assert.equal(cli(db, ['merge', '--from', 'm:*', '--into', 'mk', '--live']).status, 0);
    assert.equal(cli(db, ['ingest', r0b]).status, 0);
    for (const job of ['mj', 'mk']) {
      const text = cli(db, ['history', '--job', job]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /L\['x'\] dim 0: size change: 8 -> \? \(by PyTorch's rule/, job);
      const json = text.stdout && cli(db, ['history', '--job', job, '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { cached: string; new: string });
      assert.deepEqual(json && json.map((r) => [r.cached, r.new]), [['8', '?']], job);
      const stats = cli(db, ['stats', '--job', job]);
      assert.match(stats.stdout, /size change: 8 -> \? /, job);
      assert.doesNotMatch(stats.stdout + cli(db, ['stats', '--job', job, '--json']).stdout, /AutoDynamic/, job);
    }
  });

  it("PyTorch's record of a dim already dynamic (cached AutoDynamic.token): history, why and the report", () => {
    const db2 = join(dir, 'again.db');
    const file = join(dir, 'again.jsonl');
    // r1 makes size[0] dynamic; r2's first observation differs at both dims, so PyTorch logs size[0] again
    writeFileSync(file, [line('again', 0, 'r1', '2026-11-26T10:00:00Z', [8, 128]), line('again', 0, 'r1', '2026-11-26T10:03:00Z', [16, 128]), line('again', 0, 'r2', '2026-11-26T11:05:00Z', [16, 256])].join('\n') + '\n');
    assert.equal(cli(db2, ['ingest', file]).status, 0);
    assert.match(cli(db2, ['history', '--job', 'again']).stdout, /#3 \S+ r2 f:3 L\['x'\] dim 0: size change: \? -> 16\n/);
    const rows = cli(db2, ['history', '--job', 'again', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { position: number; dim_changed: number; cached: string; new: string });
    assert.deepEqual(rows.map((r) => [r.position, r.dim_changed, r.cached, r.new]), [[2, 0, '8', '16'], [3, 0, '?', '16'], [3, 1, '128', '256']]);
    const html = join(dir, 'again.html');
    assert.equal(cli(db2, ['report', '--job', 'again', '-o', html]).status, 0);
    assert.doesNotMatch(readFileSync(html, 'utf8'), /AutoDynamic/);
  });

  it('a rank change (dimensionality change) prints its tuples as show prints a size', () => {
    const db3 = join(dir, 'rank.db');
    const file = join(dir, 'rank.jsonl');
    writeFileSync(file, [line('rank', 0, 'r1', '2026-11-26T10:00:00Z', [8, 4]), JSON.stringify({ job: 'rank', rank: 0, run: 'r1', time: '2026-11-26T10:01:00Z', code, source: "L['x']", kind: 'tensor', size: [8, 4, 2], stride: [8, 2, 1] })].join('\n') + '\n');
    assert.equal(cli(db3, ['ingest', file]).status, 0);
    assert.match(cli(db3, ['history', '--job', 'rank']).stdout, /L\['x'\] all: dimensionality change: \[8, 4\] -> \[8, 4, 2\]\n/);
  });

  it("why's record of a trace and its advice say the same values: a rank change's strides as [S(1), 1], not PyTorch's (InferStride(dim=1), 1)", () => {
    const db4 = join(dir, 'trace.db');
    assert.equal(cli(db4, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    const why = cli(db4, ['why', '--job', 'fixture', '--source', "L['t']"]);
    assert.equal(why.status, 0, why.stderr);
    assert.match(why.stdout, /PyTorch logged at compile 2\/1: dimensionality change \[S\(1\), 1\] -> \[S\(1\), S\(2\), 1\]\n/);
    assert.match(why.stdout, /\n\s+PyTorch's profile held \[S\(1\), 1\], then run \S+ saw \[S\(1\), S\(2\), 1\]: /);
    assert.match(why.stdout, /\n\s+PyTorch's profile held \[3, 4\], then run \S+ saw \[3, 4, 5\]: /);
    assert.doesNotMatch(why.stdout, /InferStride|AutoDynamic/);
  });
});
