import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { stormLines, twoRanksMerged } from '../../test/support/storm-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

describe('issue 12.6: recompile storms (stats)', () => {
  const db = join(dir, 'storm.db');

  it('issue 12.6: stats gives per job, rank, run and window the records, the dims made dynamic and the rare values that did it', () => {
    assert.equal(cli(db, ['ingest', stormLines(join(dir, 'storm.jsonl'))]).status, 0);
    const t = cli(db, ['stats', '--job', 'storm']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^storm:0: run r1, 2026-11-26T10:00:00.000Z to 2026-11-26T11:00:00.000Z: 2 recompile records$/m);
    assert.match(t.stdout, /turned dynamic: L\['x'\] size\[0\] in \S+:24:forward at #\d+: 256 seen 3 times, 8 seen 1000 times in 1003 observations/);
    assert.match(t.stdout, /turned dynamic: L\['n'\] scalar in \S+:24:forward at #\d+: 7 seen 1 time, 4 seen 500 times in 501 observations/);
    assert.match(t.stdout, /^storm:0: run r2, 2026-11-26T12:00:00.000Z to 2026-11-26T13:00:00.000Z: 1 recompile record$/m);
    assert.match(t.stdout, /^storm:1: run r1b, .*: 1 recompile record$/m);
    assert.doesNotMatch(t.stdout, /calm/);

    const j = cli(db, ['stats', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => [r.cache_key, r.job, r.rank, r.run, r.start, r.count]),
      [
        ['storm:0:', 'storm', 0, 'r1', '2026-11-26T10:00:00.000Z', 2],
        ['storm:0:', 'storm', 0, 'r2', '2026-11-26T12:00:00.000Z', 1],
        ['storm:1:', 'storm', 1, 'r1b', '2026-11-26T10:00:00.000Z', 1],
      ],
    );
    const x = rows[0].dims.find((d: { source: string }) => d.source === "L['x']");
    assert.deepEqual([x.dim, x.code.name, x.observations, x.values], ['size[0]', 'forward', 1003, [{ value: '256', count: 3, runs: ['r1'] }, { value: '8', count: 1000, runs: ['r1'] }]]);
    assert.deepEqual(rows[0].records.map((r: { source: string; dim_changed: unknown; cached: string; new: string }) => [r.source, r.dim_changed, r.cached, r.new]), [["L['x']", 0, '8', '256'], ["L['n']", 'scalar', '4', '7']]);
    assert.deepEqual(rows[2].dims.map((d: { dim: string; values: unknown }) => [d.dim, d.values]), [['size[1]', [{ value: '128', count: 1, runs: ['r1b'] }, { value: '64', count: 1, runs: ['r1b'] }]]]);

    // a shorter window splits r1's two records (10:30 and 10:31 fall in different 1m windows)
    const m = cli(db, ['stats', '--job', 'storm', '--window', '1m', '--json']);
    assert.deepEqual(m.stdout.trim().split('\n').map((l) => JSON.parse(l).count), [1, 1, 1, 1]);
  });

  it('issue 12.6: --fail-over N exits 1 when a window has more than N records, 0 otherwise; a bad --window is exit 2', () => {
    const over = cli(db, ['stats', '--fail-over', '1']);
    assert.equal(over.status, 1, over.stderr);
    assert.match(over.stderr, /over --fail-over 1: storm:0: run r1 had 2 recompile records in 2026-11-26T10:00:00.000Z \+ 1h/);
    assert.equal(cli(db, ['stats', '--fail-over', '2']).status, 0);
    assert.equal(cli(db, ['stats', '--fail-over', '1', '--window', '1m']).status, 0);
    const bad = cli(db, ['stats', '--window', 'an hour']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--window an hour: want a whole number above 0 and s, m, h or d, such as 30s/);
    assert.equal(cli(db, ['stats', '--job', 'nobody']).status, 2);
  });
  it('a record on a dim already dynamic (PyTorch logs one for each dim the observation differs at) is no "turned dynamic" of a later window', () => {
    // run r1 makes size[0] dynamic; run r2's first observation differs at both dims, so PyTorch
    // logs size[0] again (cached AutoDynamic.token, said `?`) beside the size[1] it does turn dynamic
    const db2 = join(dir, 'again.db');
    const code = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
    const obs = (run: string, time: string, size: number[]) => JSON.stringify({ job: 'again', rank: 0, tag: '', run, time, code, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] });
    const file = join(dir, 'again.jsonl');
    writeFileSync(file, [obs('r1', '2026-11-26T10:00:00Z', [8, 128]), obs('r1', '2026-11-26T10:03:00Z', [16, 128]), obs('r2', '2026-11-26T11:05:00Z', [16, 256])].join('\n') + '\n');
    assert.equal(cli(db2, ['ingest', file]).status, 0);
    const h = cli(db2, ['history', '--job', 'again', '--json']);
    assert.deepEqual(h.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.position, r.dim_changed, r.cached, r.new]), [[2, 0, '8', '16'], [3, 0, '?', '16'], [3, 1, '128', '256']]);
    const j = cli(db2, ['stats', '--job', 'again', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => [r.run, r.count, r.dims.map((d: { dim: string; position: number }) => [d.dim, d.position])]), [['r1', 1, [['size[0]', 2]]], ['r2', 2, [['size[1]', 3]]]]);
    const t = cli(db2, ['stats', '--job', 'again']);
    assert.doesNotMatch(t.stdout, /turned dynamic: L\['x'\] size\[0\] .* at #3/);
  });
  it("a dim seen in one observation says '1 observation', not '1 observations' (a live merge of two ranks; s18-trial3)", () => {
    const db3 = join(dir, 'one.db');
    twoRanksMerged(dir, (args) => cli(db3, args).status === 0);
    const t = cli(db3, ['stats', '--job', 'one-all']);
    assert.equal(t.status, 0, t.stderr);
    // (trial s36a: it said "8 seen 1 time in 1 observation", the target's own import of rank 1's
    // entry; the change came dynamic from rank 1, whose values are 8 and 256)
    assert.match(t.stdout, /turned dynamic: L\['x'\] size\[0\] in \S+:24:forward at #\d+: 8 seen 1 time, 256 seen 1 time in 2 observations of one:1:, which the merge brought the change from$/m);
    assert.match(cli(db3, ['stats', '--job', 'one']).stdout, /turned dynamic: L\['x'\] size\[0\] in \S+:24:forward at #\d+: 8 seen 1 time, 256 seen 1 time in 2 observations$/m);
  });
});

// Trial s36a: on a merge target, a dim rank 1 made dynamic (3, then 5) was said "3 seen 2 times
// in 2 observations": the ranks' imports of it, not the value that made it dynamic. `why` follows
// the change into the rank; stats does too, and says whose values they are.
describe('stats on a merge target: a change a rank brought dynamic', () => {
  it("lists that rank's values, naming it; a dim the merge joined from two static values keeps the target's", () => {
    const db = join(dir, 'via.db');
    const line = (rank: number, run: string, t: number, o: Record<string, unknown>) => JSON.stringify({ job: 'jm', rank, run, time: `2026-11-26T10:0${t}:00Z`, code: { filename: '/srv/m.py', firstlineno: 10, name: 'forward', file_hash: 'abcd1234' }, ...o });
    writeFileSync(join(dir, 'via-a.jsonl'), [
      line(0, 'r1', 0, { source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1] }),
      line(1, 'r1', 1, { source: "L['x']", kind: 'tensor', size: [8, 256], stride: [256, 1] }),
      line(0, 'r1', 2, { source: "L['n']", kind: 'scalar', value: 3 }),
      line(1, 'r1', 3, { source: "L['n']", kind: 'scalar', value: 3 }),
    ].join('\n') + '\n');
    writeFileSync(join(dir, 'via-b.jsonl'), line(1, 'r2', 4, { source: "L['n']", kind: 'scalar', value: 5 }) + '\n');
    assert.equal(cli(db, ['ingest', join(dir, 'via-a.jsonl')]).status, 0);
    assert.equal(cli(db, ['merge', '--from', 'jm:*', '--into', 'all', '--live']).status, 0);
    assert.equal(cli(db, ['ingest', join(dir, 'via-b.jsonl')]).status, 0);
    const t = cli(db, ['stats', '--job', 'all']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /turned dynamic: L\['n'\] scalar in \S+:10:forward at #\d+: 3 seen 1 time, 5 seen 1 time in 2 observations of jm:1:, which the merge brought the change from$/m);
    assert.match(t.stdout, /turned dynamic: L\['x'\] size\[1\] in \S+:10:forward at #\d+: 128 seen 1 time, 256 seen 1 time in 2 observations$/m);
    const dims = (JSON.parse(cli(db, ['stats', '--job', 'all', '--json']).stdout.trim().split('\n')[0]) as { dims: { source: string; via: string | null }[] }).dims;
    assert.deepEqual(dims.map((d) => [d.source, d.via]), [["L['x']", null], ["L['n']", 'jm:1:']]);
  });
});
