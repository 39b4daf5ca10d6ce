import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s35a (F7): a dim static at 16 after an overwrite read "static at 16 … first in #1", and
// #1 brought 8; nothing named the overwrite at #4 that put 16 in its place.
const dir = tempDir();
const line = (run: string, t: number, size: number, o: Record<string, unknown> = {}) =>
  JSON.stringify({ job: 'j', run, time: 1795687320 + t, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [size], stride: [1], ...o });

for (const dialect of DIALECTS)
  describe(`${dialect}: a static dim an overwrite gave its value names the overwrite`, () => {
    it('8 three times, 16 with automatic_dynamic false: static at 16 since #4, in text and --json; a dim that held one value has none', () => {
      const db = ledgerAt(dialect, dir, 'since.db');
      writeFileSync(join(dir, 'since.jsonl'), [line('r2', 0, 8), line('r2', 1, 8), line('r2', 2, 8), line('r3', 3, 16, { automatic_dynamic: false })].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'since.jsonl')]).status, 0);
      const text = cli(db, ['why', '--source', "L['x']"]).stdout;
      assert.match(text, /dim 0: static at 16, its values seen 4 times \(runs r2, r3\); first in #1 [^\n]*\n {4}16 since #4 \(observation, run r3, [^)]*\), an overwrite \(it held 8 first;/);
      const json = JSON.parse(cli(db, ['why', '--source', "L['x']", '--json']).stdout) as { dim: { field: string }; static_since: { position: number } | null }[];
      assert.equal(json.find((s) => s.dim.field === 'size')!.static_since!.position, 4);
      assert.equal(json.find((s) => s.dim.field === 'stride')!.static_since, null);
    });

    it('8, 16 overwritten, then 8 overwritten back: static at 8 since #3, the value it held first being 8 too (trial s35b)', () => {
      const db = ledgerAt(dialect, dir, 'back.db');
      const ow = { automatic_dynamic: false };
      writeFileSync(join(dir, 'back.jsonl'), [line('r1', 0, 8), line('r2', 1, 16, ow), line('r3', 2, 8, ow), line('r4', 3, 8, ow), line('r5', 4, 8)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'back.jsonl')]).status, 0);
      assert.match(cli(db, ['why', '--source', "L['x']"]).stdout, /\n {4}8 since #3 \(observation, run r3, [^)]*\), an overwrite \(it held another value in between;/);
      const json = JSON.parse(cli(db, ['why', '--source', "L['x']", '--json']).stdout) as { dim: { field: string }; static_since: { position: number } | null }[];
      assert.equal(json.find((s) => s.dim.field === 'size')!.static_since!.position, 3);
    });
  });
