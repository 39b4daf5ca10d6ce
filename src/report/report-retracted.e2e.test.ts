import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 20: an entry new to a merge's target comes whole as the rank held it; one that came
// fully dynamic (a tensor whose number of dims changed) reads in the target as a scalar (an
// import does not say it was a tensor), and why found no such dim in the rank: the report's
// dims column named neither the rank's event nor its run retracted there since.
const dir = tempDir();
const code = { filename: '/srv/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
const at = (m: number) => `2026-11-26T10:0${m}:00Z`;
const tensor = (rank: number, m: number, source: string, size: number[], stride: number[]) => JSON.stringify({ job: 'new', rank, tag: '', run: `r${rank}`, time: at(m), code, source, kind: 'tensor', size, stride });
const scalar = (rank: number, m: number, source: string, value: number) => JSON.stringify({ job: 'new', rank, tag: '', run: `r${rank}`, time: at(m), code, source, kind: 'scalar', value });

interface Via { cacheKey: string; position: number; run: string | null; reason: string; retractedSince: boolean }
interface Dim { label: string; value: string; since: { via?: Via } | null }
interface Data { codes: { sources: { source: string; dims: Dim[] }[] }[] }

describe("report: an entry new to a merge's target marks the rank's run retracted since, whatever its kind", () => {
  const r0 = join(dir, 'r0.jsonl');
  const r1 = join(dir, 'r1.jsonl');
  writeFileSync(r0, tensor(0, 0, "L['x']", [8, 128], [128, 1]) + '\n');
  writeFileSync(r1, [
    tensor(1, 0, "L['y']", [8, 128], [128, 1]), tensor(1, 1, "L['y']", [256, 128], [128, 1]),
    scalar(1, 0, "L['n']", 4), scalar(1, 1, "L['n']", 7),
    tensor(1, 0, "L['z']", [8, 4], [4, 1]), tensor(1, 1, "L['z']", [8, 4, 2], [8, 2, 1]),
  ].join('\n') + '\n');

  for (const live of [false, true]) it(live ? 'merge --live' : 'merge', () => {
    const db = join(dir, `new-${live}.db`);
    const steps = live
      ? [['ingest', r0], ['merge', '--from', 'new:*', '--into', 'new-all', '--live'], ['ingest', r1]]
      : [['ingest', r0, r1], ['merge', '--from', 'new:*', '--into', 'new-all']];
    for (const args of [...steps, ['retract', '--run', 'r1']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    const html = join(dir, `new-${live}.html`);
    const r = cli(db, ['report', '--job', 'new-all', '-o', html]);
    assert.equal(r.status, 0, r.stderr);
    const data = (JSON.parse(/<script type="application\/json" id="data">(.*?)<\/script>/s.exec(readFileSync(html, 'utf8'))![1]) as Data[])[0];
    const marked = data.codes.flatMap((c) => c.sources).filter((s) => s.source !== "L['x']").map((s) => {
      const d = s.dims.find((x) => x.value === '?')!;
      return [s.source, d.label, d.since?.via?.cacheKey, d.since?.via?.run, d.since?.via?.retractedSince];
    });
    assert.deepEqual(marked.sort(), [
      ["L['n']", 'value', 'new:1:', 'r1', true],
      ["L['y']", 'size[0]', 'new:1:', 'r1', true],
      ["L['z']", 'value', 'new:1:', 'r1', true],
    ]);
    // why, which the report tells, follows it into the rank and says the run was retracted there
    const why = cli(db, ['why', '--job', 'new-all', '--source', "L['z']"]);
    assert.equal(why.status, 0, why.stderr);
    assert.match(why.stdout, /it came from new:1:, where:\n\s+the number of dims \(size\): static \[8, 4\] in #\d+ \(observation, run r1/);
    assert.match(why.stdout, /run r1 was retracted from new:1: after the merge, but the merged profile keeps what it joined/);
  });
});
