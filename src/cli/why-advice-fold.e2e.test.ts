import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s35a: why's advice on a dim PyTorch logged said what carried the run from the times of
// the runs and files alone. F1: a pickle written later was named as holding the run's value, and
// "no retraction leaves it out", where it held another value and retracting the two runs made
// the dim static. F2: "retract it too" read the same whether or not the dim then stayed dynamic.
// F4: --as-of before a warm-started run's retraction advised retracting it again.
const dir = tempDir();
const traces = [1, 2, 3].map((n) => join(FIXTURES, 'multirun', 'probe5', `run${n}`, 'trace.log.gz'));
const R2 = 'probe5:pid515@2026-11-30T04:24:42Z';
const R3 = 'probe5:pid540@2026-11-30T04:24:53Z';
const code = (firstlineno: number, name: string) => ({ filename: '/srv/train/probe5.py', firstlineno, name, file_hash: '1c981f6b' });
const line = (time: string, c: object, size: number[], stride: number[]) => JSON.stringify({ job: 'probe5', time, code: c, source: "L['x']", kind: 'tensor', size, stride });
const sizeOf = (db: string, name: string) => {
  const p = JSON.parse(cli(db, ['show', '--json']).stdout) as { codes: { code: { name: string }; entries: Record<string, { size: unknown[] }> }[] };
  return p.codes.find((c) => c.code.name === name)!.entries["L['x']"].size;
};
const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const dialect of DIALECTS)
  describe(`${dialect}: why's advice on a logged dim is the fold's, without the run and the runs that warm-started from it`, () => {
    it("F1: a pickle written later that holds another value is not named, and retracting both runs keeps the dim static, as said", () => {
      // five's L['x'] [2, 2, 3, 2, 2] in a profile of its own, exported as PyTorch's file, dated after run 2
      const side = ledgerAt(dialect, dir, 'side.db');
      writeFileSync(join(dir, 'five.jsonl'), `${line('2026-11-30T04:26:00Z', code(95, 'five'), [2, 2, 3, 2, 2], [24, 12, 4, 2, 1])}\n`);
      assert.equal(cli(side, ['ingest', join(dir, 'five.jsonl')]).status, 0);
      const pkl = join(dir, 'code_state_probe5_None_.pkl');
      assert.equal(cli(side, ['export', '--job', 'probe5', '--format', 'pickle', '-o', pkl]).status, 0);
      utimesSync(pkl, new Date('2026-11-30T04:26:00Z'), new Date('2026-11-30T04:26:00Z'));
      const db = ledgerAt(dialect, dir, 'f1.db');
      assert.equal(cli(db, ['ingest', ...traces]).status, 0);
      assert.equal(cli(db, ['ingest', pkl]).status, 0);
      const w = cli(db, ['why', '--code', 'five', '--source', "L['x']", '--dim', '4']).stdout;
      assert.doesNotMatch(w, /pickle snapshot/);
      assert.match(w, new RegExp(`retracting runs ${esc(R2)}, ${esc(R3)} \\(pgo-ledger retract --run ${esc(R2)}; pgo-ledger retract --run ${esc(R3)}\\) would keep dim 4 of L\\['x'\\] static at 2;`));
      for (const r of [R2, R3]) assert.equal(cli(db, ['retract', '--run', r]).status, 0);
      assert.equal(sizeOf(db, 'five')[4], 2);
    });

    it('F2: a line with no run that keeps the dim dynamic without both runs: said, not "retract it too"', () => {
      const db = ledgerAt(dialect, dir, 'f2.db');
      writeFileSync(join(dir, 'fwd.jsonl'), `${line('2026-11-30T04:25:30Z', code(48, 'forward'), [5, 4], [4, 1])}\n`);
      assert.equal(cli(db, ['ingest', ...traces, join(dir, 'fwd.jsonl')]).status, 0);
      const w = cli(db, ['why', '--code', 'forward', '--source', "L['x']", '--dim', '0']).stdout;
      assert.match(w, new RegExp(`pgo-ledger retract --run ${esc(R2)} undoes that run, but dim 0 of L\\['x'\\] stays dynamic without it and run ${esc(R3)}, which warm-started from it: events of other runs, or with no run, keep it so`));
      for (const r of [R2, R3]) assert.equal(cli(db, ['retract', '--run', r]).status, 0);
      assert.equal(sizeOf(db, 'forward')[0], 'dynamic');
    });

    it('F4: --as-of before the warm-started run was retracted: it is said retracted later, not advised again', () => {
      const db = ledgerAt(dialect, dir, 'f4.db');
      assert.equal(cli(db, ['ingest', ...traces]).status, 0);
      assert.equal(cli(db, ['retract', '--run', R3]).status, 0);
      const w = cli(db, ['why', '--code', 'five', '--source', "L['x']", '--dim', '4', '--as-of', '246']).stdout;
      assert.doesNotMatch(w, new RegExp(`retract --run ${esc(R3)}`));
      assert.match(w, new RegExp(`retracting run ${esc(R2)} \\(pgo-ledger retract --run ${esc(R2)}\\) would keep dim 4 of L\\['x'\\] static at 2 in this window \\(as of 246\\), run ${esc(R3)} left out too: run ${esc(R3)} was retracted later, at #247 `));
    });
  });

// Trial s35b: runs that brought every event of a source, with the runs that warm-started from
// them, were said to leave it dynamic "without it and runs run2, run3: events of other runs, or
// with no run, keep it so", where no other event was there; and advice for one rank took the run
// from the job's other ranks too, unsaid.
for (const dialect of DIALECTS)
  describe(`${dialect}: advice where the runs brought all of a source, and where the job's other profiles have the run`, () => {
    it("probe4's three runs, each warm from the last: retracting the three leaves no event of L['k']", () => {
      const db = ledgerAt(dialect, dir, 'probe4.db');
      for (const n of [1, 2, 3]) assert.equal(cli(db, ['ingest', '--run', `run${n}`, join(FIXTURES, 'multirun', 'probe4-local', `run${n}`)]).status, 0);
      const w = cli(db, ['why', '--job', 'probe4', '--source', "L['k']", '--code', 'neg']).stdout;
      assert.doesNotMatch(w, /stays dynamic/);
      assert.match(w, /pgo-ledger retract --run run1 undoes that run, but runs run2, run3 warm-started from a profile that held what run run1 brought \(get_\*_code_state\), and PyTorch writes what it loaded into each profile it writes: retracting runs run1, run2, run3 \(pgo-ledger retract --run run1; pgo-ledger retract --run run2; pgo-ledger retract --run run3\) leaves no event of L\['k'\]/);
    });

    it('a run rank 1 has too: the advice for rank 0 says its retraction takes it from j1:1: too', () => {
      const db = ledgerAt(dialect, dir, 'ranks.db');
      const r = (rank: number, run: string, t: number, size: number) => JSON.stringify({ job: 'j1', rank, run, time: 1795687320 + t, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });
      writeFileSync(join(dir, 'ranks.jsonl'), [r(0, 'r1', 0, 8), r(0, 'r2', 1, 8), r(0, 'r3', 2, 16), r(1, 'r3', 3, 4), r(1, 'r4', 4, 4)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'ranks.jsonl')]).status, 0);
      assert.match(cli(db, ['why', '--job', 'j1', '--rank', '0']).stdout, /retracting run r3 \(pgo-ledger retract --run r3\) would keep dim 0 of L\['x'\] static at 8 \(retract has no --rank or --tag: it takes it from j1:1: too\)/);
    });
  });

// Trial s35a F5, F6: the advice's retract command took the run from every job; "in this window"
// was said where the window left out no event of the profile.
const obs = (job: string, run: string, t: number, size: number) => JSON.stringify({ job, run, time: 1795687320 + t, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });
for (const dialect of DIALECTS)
  describe(`${dialect}: the retract command advice gives, and the window it names`, () => {
    const db = ledgerAt(dialect, dir, 'jobs.db');
    it('F5: a run another job has too is advised with --job, and that retraction leaves the other job alone', () => {
      writeFileSync(join(dir, 'jobs.jsonl'), [obs('j1', 'r1', 0, 8), obs('j1', 'r1', 1, 16), obs('j1', 'r2', 2, 16), obs('j2', 'r1', 3, 4), obs('j2', 'r2', 4, 5), obs('j1', 'r3', 5, 16)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'jobs.jsonl')]).status, 0);
      const w = cli(db, ['why', '--job', 'j1']).stdout;
      assert.match(w, /retracting run r1 \(pgo-ledger retract --run r1 --job j1\) would keep dim 0 of L\['x'\] static at 16/);
      const j2 = cli(db, ['why', '--job', 'j2']).stdout;
      assert.match(j2, /\(pgo-ledger retract --run r\d --job j2\)/);
      // followed, in a ledger of the same lines: j1 static at 16, j2 as it was
      const copy = ledgerAt(dialect, dir, 'jobs-retract.db');
      assert.equal(cli(copy, ['ingest', join(dir, 'jobs.jsonl')]).status, 0);
      assert.equal(cli(copy, ['retract', '--run', 'r1', '--job', 'j1']).status, 0);
      assert.match(cli(copy, ['show', '--job', 'j1']).stdout, /L\['x'\]: tensor size=\[16\]/);
      assert.match(cli(copy, ['show', '--job', 'j2']).stdout, /L\['x'\]: tensor size=\[\?\]/);
    });

    it("F6: a point past the profile's last event, and runs it has no events of or retracted, are no window", () => {
      for (const args of [['--as-of', '99'], ['--exclude-run', 'r9'], ['--as-of', '2026-12-01T00:00:00Z']]) {
        const r = cli(db, ['why', '--job', 'j1', ...args]);
        assert.equal(r.status, args[1] === 'r9' ? 2 : 0, r.stderr);
        if (r.status === 0) assert.doesNotMatch(r.stdout, /in this window/, args.join(' '));
      }
      // r9 is no run of the ledger; j2's run r2 is one j1 has too; a run of j2 alone:
      writeFileSync(join(dir, 'j2only.jsonl'), `${obs('j2', 'r7', 9, 6)}\n`);
      assert.equal(cli(db, ['ingest', join(dir, 'j2only.jsonl')]).status, 0);
      assert.doesNotMatch(cli(db, ['why', '--job', 'j1', '--exclude-run', 'r7']).stdout, /in this window/);
      // a point that does cut j1's events is named, alone (r7 left out changes nothing of j1)
      assert.match(cli(db, ['why', '--job', 'j1', '--as-of', '3', '--exclude-run', 'r7']).stdout, /in this window \(as of 3\)/);
    });
  });
