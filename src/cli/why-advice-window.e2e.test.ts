import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const CODE = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
const line = (i: number, run: string | null, size: number) =>
  JSON.stringify({ job: 'j1', run, time: `2026-11-26T10:${String(i).padStart(2, '0')}:00Z`, code: CODE, source: "L['x']", kind: 'tensor', size: [size, 128], stride: [128, 1] });
const dim0 = (out: string) => out.split('\n').filter((l) => !l.startsWith('  stride')).join('\n');

// Trial s34b (M1): under --exclude-run or --as-of, why's advice named a retraction that keeps the
// dim static in that window only, in the words it uses for the whole log: retracting r2 alone,
// with r3 (32) still in, left the dim dynamic.
for (const dialect of DIALECTS)
  describe(`${dialect}: why's advice to retract a run says the window it holds in`, () => {
    const db = ledgerAt(dialect, dir, 'window.db');
    it('r1 8, r2 16, r3 32: without r3 (or as of r2), retracting r2 keeps dim 0 static at 8 there; the whole log needs r2 and r3 retracted', () => {
      writeFileSync(join(dir, 'window.jsonl'), [line(0, 'r1', 8), line(1, 'r2', 16), line(2, 'r3', 32)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'window.jsonl')]).status, 0);
      const without = dim0(cli(db, ['why', '--exclude-run', 'r3']).stdout);
      assert.match(without, /retracting run r2 \(pgo-ledger retract --run r2\) would keep dim 0 of L\['x'\] static at 8 in this window \(without run r3\)/);
      const asOf = dim0(cli(db, ['why', '--as-of', '2']).stdout);
      assert.match(asOf, /would keep dim 0 of L\['x'\] static at 8 in this window \(as of 2\)/);
      // the whole log: three runs, three values: two retractions keep it static
      const whole = dim0(cli(db, ['why']).stdout);
      assert.match(whole, /retracting runs r2, r3 \(pgo-ledger retract --run r2; pgo-ledger retract --run r3\) would keep dim 0 of L\['x'\] static at 8;/);
      assert.doesNotMatch(whole, /in this window/);
      // and the claim is the window's: r2 retracted, the whole log still dynamic
      assert.equal(cli(db, ['retract', '--run', 'r2']).status, 0);
      assert.match(cli(db, ['show']).stdout, /L\['x'\]: tensor size=\[\?, 128\]/);
    });
  });
