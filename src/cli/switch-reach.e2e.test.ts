import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s36b, on probe13 (four real runs): f's L['x'] dim 0 took 4, 8, 16 and 32 (overwrites,
// static again after being dynamic), and why advised TORCH_COMPILE_STATIC_SOURCES="L['x']:0",
// which compiles once per value; and the switches name a source in every frame, so advice for
// one code id's L['x'] reaches the others' (g's is dynamic, f's and h's static).
const dir = tempDir();

describe("why's switch advice on probe13", () => {
  const db = join(dir, 'p13.db');
  it('no STATIC_SOURCES for a dim that took several values; DYNAMIC_SOURCES names the frames it reaches', () => {
    assert.equal(cli(db, ['ingest', join(FIXTURES, 'multirun', 'probe13')]).status, 0);
    const r = cli(db, ['why', '--source', "L['x']", '--dim', '0', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const stories = JSON.parse(r.stdout) as { code: { name: string }; dynamic: boolean; values: unknown[]; advice: string }[];
    const by = (n: string) => stories.find((s) => s.code.name === n)!;
    assert.equal(by('f').values.length, 4);
    assert.equal(by('f').advice, 'static: 4 values seen across 4 runs');
    assert.match(by('g').advice, /TORCH_COMPILE_DYNAMIC_SOURCES="L\['x'\]:0" \([^)]*\)[^)]*\) starts it dynamic \(the switch names the source in every frame: it starts L\['x'\]'s dim in f \(\/srv\/train\/probe13\.py:28\), h \(\/srv\/train\/probe13\.py:34\) too, static there\)$/);
  });
});
