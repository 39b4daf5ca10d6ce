import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

// Session 23: PyTorch keeps no checksum in a profile pickle, so a flipped byte can make a
// stride's InferStride name a dim the tensor does not have; it is read as PyTorch would load
// it, and ingest says so (the exit code is that of a file read whole).
it("ingest warns on stderr of an InferStride naming a dim the tensor lacks (a flipped byte), naming the file, code id, source and stride dim; the file goes in", () => {
  const good = join(FIXTURES, 'multirun', 'probe5', 'run1', 'code_state_probe5_None_.pkl');
  const bytes = readFileSync(good);
  // forward's L['x'] stride (S(1), 1): InferStride(dim=1) pickles its dim as BININT1 (K, 1) at 352
  assert.deepEqual([bytes[352], bytes[353]], [0x4b, 1]);
  const flipped = Buffer.from(bytes);
  flipped[353] = 254;
  const file = join(dir, 'code_state_probe5_None_.pkl');
  writeFileSync(file, flipped);
  const db = join(dir, 'flipped.db');
  const r = cli(db, ['ingest', file]);
  assert.equal(r.status, 0, r.stderr);
  const warned = r.stderr.split('\n').filter((l) => l.includes('InferStride'));
  assert.deepEqual(warned, [`${file}: hash(1c981f6b)/srv/train/probe5.py:48:forward L['x'] stride dim 0: InferStride(dim=254) names a dim the tensor does not have (it has 2 dims): kept as read, as PyTorch would load it (a profile pickle has no checksum); the file may be damaged`]);
  // kept as read
  assert.match(ok(cli(db, ['show', '--job', 'probe5'])), /L\['x'\]: tensor size=\[2, 4\] stride=\[S\(254\), 1\]/);
  // the file as PyTorch wrote it: no warning
  copyFileSync(good, join(dir, 'code_state_clean_None_.pkl'));
  const c = cli(join(dir, 'clean.db'), ['ingest', join(dir, 'code_state_clean_None_.pkl')]);
  assert.equal(c.status, 0, c.stderr);
  assert.doesNotMatch(c.stderr, /InferStride/);
});

// Trial s36a: a pickle with hundreds of such strides (an oracle's random profile) printed a
// line for each, 993 lines: the first ten are said, then a count.
it('a pickle with many such strides: ten said, then how many more', () => {
  const file = join(FIXTURES, 'oracle', 'big-canonical-dev', 'big-7-4.pkl');
  const r = cli(join(dir, 'many.db'), ['ingest', file, '--job', 'many']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.includes('InferStride'));
  assert.equal(lines.length, 11);
  assert.match(lines[10], /big-7-4\.pkl: and 982 more strides whose InferStride names a dim the tensor does not have \(992 in all\), kept as read$/);
});

function ok(r: { status: number; stdout: string; stderr: string }): string {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
