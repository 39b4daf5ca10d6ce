import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliAs } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const line = (t: number, size: number, run?: string) =>
  JSON.stringify({ job: 'j', ...(run ? { run } : {}), time: 1795687320 + t, code: { filename: '/srv/a.py', firstlineno: 1, name: 'f', file_hash: 'x' }, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });
// 8 twice in run r1; 16 in run r2, and 16 again in a line with no run
const LINES = [line(0, 8, 'r1'), line(1, 8, 'r1'), line(2, 16, 'r2'), line(3, 16)];

interface Story {
  dim: { field: string; index?: number };
  values: { value: string; count: number; runs: (string | null)[] }[];
  advice: string;
}

// Session 34: why's values seen kept only the runs of their sightings, so 16, seen in r2 and in a
// line with no run, read as r2's alone ("16 (2x, runs r2)"), and why advised "retracting run r2
// would keep dim 0 static at 8": after `retract --run r2` it was dynamic still.
for (const dialect of DIALECTS)
  describe(`${dialect}: a value seen in a run and with no run`, () => {
    for (const every of ['1000', '1'])
      it(`is not a run's alone: no advice to retract the run, and the sighting with no run said (checkpoint every ${every} events)`, () => {
        const db = ledgerAt(dialect, dir, `mixed-${every}.db`);
        const env = { ...process.env, PGO_LEDGER_CHECKPOINT_EVERY: every };
        writeFileSync(join(dir, 'mixed.jsonl'), `${LINES.join('\n')}\n`);
        assert.equal(cliAs(db, ['ingest', join(dir, 'mixed.jsonl')], { env }).status, 0);
        const why = () => cliAs(db, ['why', '--job', 'j', '--source', "L['x']"], { env });
        const text = why();
        assert.equal(text.status, 0, text.stderr);
        assert.match(text.stdout, /values seen: 8 \(2x, runs r1\); 16 \(2x, runs r2, and some with no run\)/);
        assert.doesNotMatch(text.stdout, /retracting run r2/);
        // 8 came in r1 alone: retracting r1 is what keeps the dim static (at 16)
        assert.match(text.stdout, /retracting run r1 \(pgo-ledger retract --run r1\) would keep dim 0 of L\['x'\] static at 16/);
        // the stride's one value: its runs, and the sighting with no run
        assert.match(text.stdout, /stride dim 0: static at 1, its values seen 4 times \(runs r1, r2, and some with no run\)/);
        const json = JSON.parse(cliAs(db, ['why', '--job', 'j', '--source', "L['x']", '--json'], { env }).stdout) as { stories: Story[] } | Story[];
        const stories = Array.isArray(json) ? json : json.stories;
        const size0 = stories.find((s) => s.dim.field === 'size' && s.dim.index === 0)!;
        assert.deepEqual(size0.values, [
          { value: '8', count: 2, runs: ['r1'] },
          { value: '16', count: 2, runs: ['r2', null] },
        ]);
        // what the advice would have promised: r2 retracted, the dim is dynamic still
        assert.equal(cli(db, ['retract', '--run', 'r2']).status, 0);
        assert.match(cli(db, ['show']).stdout, /L\['x'\]: tensor size=\[\?\] stride=\[1\]/);
        // the same answers from replay's checkpoints, and verify passes
        assert.equal(cli(db, ['replay']).status, 0);
        assert.equal(cliAs(db, ['verify'], { env }).status, 0);
        // r2 left out, the line with no run made it dynamic, and is its value's only sighting
        const after = why().stdout;
        assert.match(after, /dynamic in #4 \(observation, 2026/);
        assert.match(after, /values seen: 8 \(2x, runs r1\); 16 \(1x, no run\)/);
      });

    it('a value seen only in runs still gets the advice to retract the run that fed the other', () => {
      const db = ledgerAt(dialect, dir, 'runs.db');
      writeFileSync(join(dir, 'runs.jsonl'), `${[line(0, 8, 'r1'), line(1, 8, 'r1'), line(2, 16, 'r2')].join('\n')}\n`);
      assert.equal(cli(db, ['ingest', join(dir, 'runs.jsonl')]).status, 0);
      const r = cli(db, ['why', '--job', 'j', '--source', "L['x']"]);
      assert.match(r.stdout, /values seen: 8 \(2x, runs r1\); 16 \(1x, runs r2\)/);
      assert.match(r.stdout, /retracting run r2 \(pgo-ledger retract --run r2\) would keep dim 0 of L\['x'\] static at 8/);
    });

    it('a tie of a run\'s value and one seen with no run: retracting the run keeps the other, and that is said (trial s34a: no advice)', () => {
      const db = ledgerAt(dialect, dir, 'tie.db');
      writeFileSync(join(dir, 'tie.jsonl'), `${[line(0, 8, 'r1'), line(1, 16)].join('\n')}\n`);
      assert.equal(cli(db, ['ingest', join(dir, 'tie.jsonl')]).status, 0);
      const r = cli(db, ['why', '--job', 'j', '--source', "L['x']"]);
      assert.match(r.stdout, /values seen: 8 \(1x, runs r1\); 16 \(1x, no run\)/);
      assert.match(r.stdout, /retracting run r1 \(pgo-ledger retract --run r1\) would keep dim 0 of L\['x'\] static at 16/);
      // as said
      assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
      assert.match(cli(db, ['show']).stdout, /L\['x'\]: tensor size=\[16\] stride=\[1\]/);
    });

    it('values seen with no run at all name no run, as before', () => {
      const db = ledgerAt(dialect, dir, 'none.db');
      writeFileSync(join(dir, 'none.jsonl'), `${[line(0, 8), line(1, 16)].join('\n')}\n`);
      assert.equal(cli(db, ['ingest', join(dir, 'none.jsonl')]).status, 0);
      const r = cli(db, ['why', '--job', 'j', '--source', "L['x']"]);
      assert.match(r.stdout, /values seen: 8 \(1x\); 16 \(1x\)/);
      assert.doesNotMatch(r.stdout, /retracting/);
    });
  });
