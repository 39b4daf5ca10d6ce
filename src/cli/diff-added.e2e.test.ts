import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s28b: `diff --json` gave `dims: []` for an entry added between the two points, though
// history and stats give its dims that turned dynamic there.
const dir = tempDir();

describe('diff: an entry added between the two points', () => {
  const db = join(dir, 'cold.db');
  type Change = { source: string; code: { name: string }; change: string; dims: { dim: string; from: string | null; to: string; position?: number }[] };
  const changes = () => {
    const r = cli(db, ['diff', '--job', 'fixture', '--from', '20', '--to', '50', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Change);
  };

  it("lists its dims that are dynamic, from null, at the positions history gives; an int's or a rank change's by what why tells", () => {
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    const c = changes();
    const of = (source: string) => c.find((x) => x.source === source && x.change === 'added')!;
    assert.deepEqual(of("L['x']").dims, [
      { dim: 'size[0]', from: null, to: '?', position: 45 },
      { dim: 'size[1]', from: null, to: '?', position: 46 },
    ]);
    // a tensor whose number of dims changed (h's L['t'], [3, 4] then [3, 4, 5]): its size and stride
    assert.deepEqual(of("L['t']").dims.map((d) => [d.dim, d.position]), [['size', 31], ['stride', 32]]);
    // an int made dynamic: its scalar
    assert.deepEqual(of("L['mask_len']").dims.map((d) => [d.dim, d.position]), [['scalar', 48]]);
    // a static one: none
    assert.deepEqual(of("L['self'].scale").dims, []);
    const history = cli(db, ['history', '--job', 'fixture', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { position: number; source: string; dim_changed: string });
    for (const p of [45, 46, 48]) assert.ok(history.some((h) => h.position === p), `history has #${p}`);
    const text = cli(db, ['diff', '--job', 'fixture', '--from', '20', '--to', '50']).stdout;
    assert.match(text, /\nadded L\['x'\] in [^\n]*: tensor size=\[\?, \?, 8\] stride=\[S\(1\), S\(2\), 1\]\n {4}size\[0\]: absent -> \? \(at #45\)\n {4}size\[1\]: absent -> \? \(at #46\)\n/);
  });
});
