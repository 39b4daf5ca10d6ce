import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s34b (M2): where PyTorch logged the record that made a dim dynamic, why advised
// "pgo-ledger retract --run R undoes that run", which reads as a fix, though lines with no run
// that fed other values kept the dim dynamic without R. The fold without R now says which.
const dir = tempDir();
const TRACE = join(FIXTURES, 'multirun', 'probe5', 'run1', 'trace.log.gz');
const RUN = 'probe5:pid490@2026-11-30T04:24:33Z';
// the code id whose L['x'] dim 0 PyTorch logged 3 -> 4 in that run (compile 13/1)
const TWICE = { filename: '/srv/train/probe5.py', firstlineno: 92, name: 'twice', file_hash: '1c981f6b' };
const line = (size: number) => JSON.stringify({ job: 'probe5', time: `2026-11-30T05:0${size}:00Z`, code: TWICE, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });
const twice = (db: string) => {
  const p = JSON.parse(cli(db, ['show', '--json']).stdout) as { codes: { code: { name: string }; entries: Record<string, { size: unknown }> }[] };
  return p.codes.find((c) => c.code.name === 'twice')!.entries["L['x']"].size;
};
const advice = (db: string) => cli(db, ['why', '--source', "L['x']", '--code', 'twice', '--dim', '0']).stdout;

for (const dialect of DIALECTS)
  describe(`${dialect}: why's advice on a dim PyTorch logged says what retracting the run leaves`, () => {
    it('run-less lines of 5 and 6 keep it dynamic without the run: said, and so after the retraction', () => {
      const db = ledgerAt(dialect, dir, 'two.db');
      writeFileSync(join(dir, 'two.jsonl'), `${line(5)}\n${line(6)}\n`);
      assert.equal(cli(db, ['ingest', TRACE, join(dir, 'two.jsonl')]).status, 0);
      const w = advice(db);
      assert.match(w, /PyTorch's profile held 3, then run \S+ saw 4/);
      assert.match(w, /undoes that run, but dim 0 of L\['x'\] stays dynamic without it: events of other runs, or with no run, keep it so/);
      assert.equal(cli(db, ['retract', '--run', RUN]).status, 0);
      assert.deepEqual(twice(db), ['dynamic']);
    });

    it('a run-less line of 5 alone: retracting the run keeps it static at 5, and does', () => {
      const db = ledgerAt(dialect, dir, 'one.db');
      writeFileSync(join(dir, 'one.jsonl'), `${line(5)}\n`);
      assert.equal(cli(db, ['ingest', TRACE, join(dir, 'one.jsonl')]).status, 0);
      assert.match(advice(db), /retracting run \S+ \(pgo-ledger retract --run \S+\) would keep dim 0 of L\['x'\] static at 5;/);
      assert.equal(cli(db, ['retract', '--run', RUN]).status, 0);
      assert.deepEqual(twice(db), [5]);
    });

    it('the run alone: its retraction takes the source out, and the advice is as before', () => {
      const db = ledgerAt(dialect, dir, 'alone.db');
      assert.equal(cli(db, ['ingest', TRACE]).status, 0);
      assert.match(advice(db), /; pgo-ledger retract --run \S+ undoes that run;/);
    });
  });
