import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 21: an entry PyTorch renders "fully dynamic scalar or tensor" was told by why as
// "the scalar itself" where it came whole in a merge (a rank's tensor whose number of dims
// changed) and as "the int itself" where a tensor and an int met (one job, or two ranks
// merged): PyTorch's entry does not say which it is, and the events said both.
const dir = tempDir();
const code = { filename: '/srv/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
const at = (s: number) => `2026-11-26T10:00:0${s}Z`;
const tensor = (job: string, rank: number, s: number, source: string, size: number[], stride: number[]) => JSON.stringify({ job, rank, tag: '', run: `r${rank}`, time: at(s), code, source, kind: 'tensor', size, stride });
const scalar = (job: string, rank: number, s: number, source: string, value: number) => JSON.stringify({ job, rank, tag: '', run: `r${rank}`, time: at(s), code, source, kind: 'scalar', value });

interface Story { source: string; dim: { field: string }; scalar_kind: string | null; via: { story: Story } | null }

function lines(name: string, ls: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, ls.join('\n') + '\n');
  return f;
}

function why(db: string, job: string): { text: string; json: Story[] } {
  const t = cli(db, ['why', '--job', job]);
  assert.equal(t.status, 0, t.stderr);
  const j = cli(db, ['why', '--job', job, '--json']);
  assert.equal(j.status, 0, j.stderr);
  return { text: t.stdout, json: JSON.parse(j.stdout) as Story[] };
}

describe("why tells a fully dynamic entry in PyTorch's words, 'fully dynamic scalar or tensor'", () => {
  it("a merged entry that came fully dynamic from a rank's tensor whose number of dims changed", () => {
    const db = join(dir, 'rank.db');
    const r0 = lines('rank0.jsonl', [tensor('rk', 0, 0, "L['x']", [8, 4], [4, 1])]);
    const r1 = lines('rank1.jsonl', [tensor('rk', 1, 0, "L['z']", [8, 4], [4, 1]), tensor('rk', 1, 1, "L['z']", [8, 4, 2], [8, 2, 1])]);
    for (const args of [['ingest', r0, r1], ['merge', '--from', 'rk:*', '--into', 'rk-all']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    const w = why(db, 'rk-all');
    assert.match(w.text, /L\['z'\] in .*forward:\n {2}fully dynamic scalar or tensor: dynamic in #\d+ \(imported merge, .*from profile rk:1:\)/);
    assert.doesNotMatch(w.text, /the (scalar|int) itself/);
    const z = w.json.find((s) => s.source === "L['z']" && s.dim.field === 'scalar')!;
    assert.equal(z.scalar_kind, 'scalar or tensor');
  });

  it('a tensor in one rank and an int in the other, merged', () => {
    const db = join(dir, 'flip2.db');
    const r0 = lines('flip0.jsonl', [tensor('fl', 0, 0, "L['x']", [8, 4], [4, 1])]);
    const r1 = lines('flip1.jsonl', [scalar('fl', 1, 1, "L['x']", 3)]);
    for (const args of [['ingest', r0, r1], ['merge', '--from', 'fl:*', '--into', 'fl-all']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    const w = why(db, 'fl-all');
    assert.match(w.text, /L\['x'\] in .*forward:\n {2}fully dynamic scalar or tensor: dynamic in #\d+/);
    assert.doesNotMatch(w.text, /the (scalar|int) itself/);
    assert.equal(w.json.find((s) => s.dim.field === 'scalar')!.scalar_kind, 'scalar or tensor');
    // the size and stride ranks are no scalar's
    assert.deepEqual(w.json.filter((s) => s.dim.field !== 'scalar').map((s) => s.scalar_kind), [null, null]);
  });

  it('one job where the entry became fully dynamic by a tensor/int flip, and a merge of it alone', () => {
    const db = join(dir, 'flip1.db');
    const f = lines('one.jsonl', [tensor('one', 0, 0, "L['x']", [8, 4], [4, 1]), scalar('one', 0, 1, "L['x']", 3)]);
    for (const args of [['ingest', f], ['merge', '--from', 'one:0:', '--into', 'one-all']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    for (const job of ['one', 'one-all']) {
      const w = why(db, job);
      assert.match(w.text, /L\['x'\] in .*forward:\n {2}fully dynamic scalar or tensor: /, job);
      assert.doesNotMatch(w.text, /the (scalar|int) itself/, job);
      const s = w.json.find((x) => x.dim.field === 'scalar')!;
      assert.equal(s.scalar_kind, 'scalar or tensor', job);
      if (job === 'one-all') assert.equal(s.via?.story.scalar_kind, 'scalar or tensor');
    }
  });

  it('an int stays the int itself, in the rank and merged', () => {
    const db = join(dir, 'int.db');
    const f = lines('int.jsonl', [scalar('in', 0, 0, "L['n']", 3), scalar('in', 0, 1, "L['n']", 4)]);
    for (const args of [['ingest', f], ['merge', '--from', 'in:0:', '--into', 'in-all']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    for (const job of ['in', 'in-all']) {
      const w = why(db, job);
      assert.match(w.text, /L\['n'\] in .*forward:\n {2}the int itself: /, job);
      assert.equal(w.json[0].scalar_kind, 'int', job);
    }
  });
});
