import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const CODE = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
const line = (i: number, run: string | null, size: number, o: Record<string, unknown> = {}) =>
  JSON.stringify({ job: 'j1', run, time: `2026-11-26T10:${String(i).padStart(2, '0')}:00Z`, code: CODE, source: "L['x']", kind: 'tensor', size: [size, 128], stride: [128, 1], ...o });
const dim0 = (out: string) => out.split('\n').filter((l) => !l.startsWith('  stride')).join('\n');

// Trial s34b: advice to retract a run was read off the values seen alone, and the fold without
// the run kept the dim dynamic all the same: a later mark_dynamic, or a snapshot holding the dim
// dynamic; and a caveat said a pickle carried the run's value where the fold without it was static.
for (const dialect of DIALECTS)
  describe(`${dialect}: why's advice to retract a run is what the fold without it gives`, () => {
    it('a later mark of the dim: no retraction of r2 (a run-less mark keeps it dynamic); of r1 where r1 made the mark, and it holds', () => {
      const db = ledgerAt(dialect, dir, 'mark.db');
      writeFileSync(join(dir, 'mark.jsonl'), [line(0, 'r1', 8), line(1, 'r2', 16), line(2, 'r1', 8, { mark_dynamic: [0] })].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'mark.jsonl')]).status, 0);
      const w = dim0(cli(db, ['why']).stdout);
      assert.doesNotMatch(w, /retracting run r2/);
      assert.match(w, /retracting run r1 \(pgo-ledger retract --run r1\) would keep dim 0 of L\['x'\] static at 16/);
      assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
      assert.match(cli(db, ['show']).stdout, /L\['x'\]: tensor size=\[16, 128\]/);
      const none = ledgerAt(dialect, dir, 'mark-none.db');
      writeFileSync(join(dir, 'mark-none.jsonl'), [line(0, 'r1', 8), line(1, 'r2', 16), line(2, null, 8, { mark_dynamic: [0] })].join('\n') + '\n');
      assert.equal(cli(none, ['ingest', join(dir, 'mark-none.jsonl')]).status, 0);
      assert.doesNotMatch(dim0(cli(none, ['why']).stdout), /retracting run/);
    });

    it('a snapshot holding the dim dynamic: no advice to retract r2', () => {
      const src = ledgerAt(dialect, dir, 'src.db');
      writeFileSync(join(dir, 'src.jsonl'), [line(0, 'x', 100), line(1, 'y', 200)].join('\n') + '\n');
      assert.equal(cli(src, ['ingest', join(dir, 'src.jsonl')]).status, 0);
      const old = join(dir, 'old');
      mkdirSync(old, { recursive: true });
      const pkl = join(old, 'code_state_j1_None_.pkl');
      assert.equal(cli(src, ['export', '--job', 'j1', '--format', 'pickle', '-o', pkl]).status, 0);
      utimesSync(pkl, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
      const db = ledgerAt(dialect, dir, 'snap.db');
      writeFileSync(join(dir, 'snap.jsonl'), [line(0, 'r1', 8), line(1, 'r2', 16)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'snap.jsonl'), pkl]).status, 0);
      const w = dim0(cli(db, ['why']).stdout);
      assert.match(w, /values seen: 8 \(1x, runs r1\); 16 \(1x, runs r2\)/);
      assert.doesNotMatch(w, /retracting run/);
    });

    it('a run that fed the kept value too (trial s34b M3): 8 in r1, 16 in r1 and r2: retracting r1 keeps 16', () => {
      const db = ledgerAt(dialect, dir, 'shared.db');
      writeFileSync(join(dir, 'shared.jsonl'), [line(0, 'r1', 8), line(1, 'r1', 16), line(2, 'r2', 16), line(3, 'r1', 16)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'shared.jsonl')]).status, 0);
      const w = dim0(cli(db, ['why']).stdout);
      assert.match(w, /retracting run r1 \(pgo-ledger retract --run r1\) would keep dim 0 of L\['x'\] static at 16;/);
      assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
      assert.match(cli(db, ['show']).stdout, /L\['x'\]: tensor size=\[16, 128\]/);
      // a value every run of the others brought too survives no retraction: no advice
      const both = ledgerAt(dialect, dir, 'shared-both.db');
      writeFileSync(join(dir, 'shared-both.jsonl'), [line(0, 'r1', 8), line(1, 'r1', 16), line(2, 'r2', 16), line(3, 'r2', 8)].join('\n') + '\n');
      assert.equal(cli(both, ['ingest', join(dir, 'shared-both.jsonl')]).status, 0);
      assert.doesNotMatch(dim0(cli(both, ['why']).stdout), /retracting run/);
    });

    it('runs that fed the kept value too, as many as those that fed it: no advice to retract most of its runs (the bench mix: 8 of 10)', () => {
      const db = ledgerAt(dialect, dir, 'most.db');
      // 8 in r0, r1, r2; 16 in r2, r3, r4: retracting r2, r3, r4 keeps 8, but takes 3 of its runs' worth
      writeFileSync(join(dir, 'most.jsonl'), [line(0, 'r0', 8), line(1, 'r1', 8), line(2, 'r2', 8), line(3, 'r2', 16), line(4, 'r3', 16), line(5, 'r4', 16)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'most.jsonl')]).status, 0);
      assert.doesNotMatch(dim0(cli(db, ['why']).stdout), /retracting run/);
    });

    it('a mark of the dim in the log: feeding one value is not enough, and the advice says whose mark to remove (trial s35a F8)', () => {
      const db = ledgerAt(dialect, dir, 'marked-fed.db');
      writeFileSync(join(dir, 'marked-fed.jsonl'), [line(0, 'r1', 8), line(1, 'r1', 16), line(2, 'r2', 8, { mark_dynamic: [0] })].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'marked-fed.jsonl')]).status, 0);
      const w = dim0(cli(db, ['why']).stdout);
      assert.match(w, /dim 0 of L\['x'\] took 2 values \(8, 16\); only feeding it one value and removing its mark \(torch\._dynamo\.mark_dynamic, in the events of run r2\) keeps it static/);
      assert.doesNotMatch(w, /retracting run/);
    });

    it('marked in one run and with no run, three values: the advice names both marks and the values, not the first mark alone (trial s35b)', () => {
      const db = ledgerAt(dialect, dir, 'two-marks.db');
      writeFileSync(join(dir, 'two-marks.jsonl'), [line(0, 'r1', 8), line(1, 'r2', 16, { mark_dynamic: [0] }), line(2, 'r3', 32), line(3, null, 8, { mark_dynamic: [0] })].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'two-marks.jsonl')]).status, 0);
      assert.match(dim0(cli(db, ['why', '--exclude-run', 'r1']).stdout), /was marked dynamic \(torch\._dynamo\.mark_dynamic\) in #2 \(run r2\): .*; remove the marks \(in the events of run r2, and events with no run\) and feed it one value \(it took 16, 32, 8\) to keep it static/);
    });

    it("a run-less pickle that holds another value, not the run's: the advice holds, with no caveat that the pickle carries the run", () => {
      const db = ledgerAt(dialect, dir, 'carried.db');
      const r7 = join(dir, 'r7.jsonl');
      writeFileSync(r7, `${JSON.stringify({ job: 'probe3', run: 'r7', time: '2026-11-26T10:00:00Z', code: { filename: '/srv/train/probe3.py', firstlineno: 53, name: 'forward', file_hash: '7544b753' }, source: "L['x']", kind: 'tensor', size: [2, 9], stride: [9, 1] })}\n`);
      const pkl = join(dir, 'code_state_probe3_None_.pkl');
      copyFileSync(join(FIXTURES, 'multirun', 'probe3', 'run1', 'code_state_probe3_None_.pkl'), pkl);
      utimesSync(pkl, new Date('2026-11-30T00:00:00Z'), new Date('2026-11-30T00:00:00Z'));
      assert.equal(cli(db, ['ingest', r7]).status, 0);
      assert.equal(cli(db, ['ingest', '--job', 'probe3', pkl]).status, 0);
      const w = cli(db, ['why', '--source', "L['x']", '--code', 'forward']).stdout;
      assert.match(w, /retracting run r7 \(pgo-ledger retract --run r7\) would keep dim 1 of L\['x'\] static at 5;/);
      assert.doesNotMatch(w, /no retraction leaves it out/);
      assert.equal(cli(db, ['retract', '--run', 'r7']).status, 0);
      assert.match(cli(db, ['show', '--job', 'probe3']).stdout, /L\['x'\]: tensor size=\[2, 5\]/);
    });
  });
