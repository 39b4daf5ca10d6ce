import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 21: why --as-of a point before a run's retraction advised `pgo-ledger retract --run R`
// for a run the ledger had retracted since: the advice sent the user to retract what is
// retracted already. It now says when it was, as diff's note does of a run retracted between
// its two points.
const dir = tempDir();
const line = (run: string, t: number, source: string, shape: object) => JSON.stringify({ job: 'later', run, time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source, ...shape });
const tensor = (run: string, t: number, n: number) => line(run, t, "L['x']", { kind: 'tensor', size: [n, 4], stride: [4, 1] });
const retractedAt = (run: string, position: number) => new RegExp(`run ${run} was retracted later, at #${position} \\(\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)`);

describe('why --as-of before a retraction does not advise retracting the run again', () => {
  it('a run whose values alone made the dim dynamic (observation lines)', () => {
    const file = join(dir, 'obs.jsonl');
    writeFileSync(file, [tensor('r1', 1, 8), tensor('r1', 2, 8), tensor('r2', 3, 16), tensor('r3', 4, 32)].join('\n') + '\n');
    const db = join(dir, 'obs.db');
    for (const args of [['ingest', file], ['retract', '--run', 'r2']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    // the retraction is #5: --as-of 4 holds r2's events, the whole log leaves them out
    for (const json of [false, true]) {
      const r = cli(db, ['why', '--job', 'later', '--as-of', '4', ...(json ? ['--json'] : [])]);
      assert.equal(r.status, 0, r.stderr);
      const advice = json ? (JSON.parse(r.stdout) as { advice: string }[])[0].advice : r.stdout;
      assert.doesNotMatch(advice, /retract --run r2/);
      assert.match(advice, retractedAt('r2', 5));
      // r3, not retracted, is still advised
      assert.match(advice, /retracting run r3 \(pgo-ledger retract --run r3\) would keep dim 0 of L\['x'\] static at 8/);
    }
    // the whole log: r2's retraction holds, no advice names it
    const now = cli(db, ['why', '--job', 'later']);
    assert.doesNotMatch(now.stdout, /r2/);
  });

  it("a run PyTorch's record names (a trace)", () => {
    const db = join(dir, 'trace.db');
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    const run = (JSON.parse(cli(db, ['jobs', '--json']).stdout) as { runs: string[] }).runs[0];
    assert.match(cli(db, ['why', '--job', 'fixture']).stdout, new RegExp(`pgo-ledger retract --run ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} undoes that run`));
    assert.equal(cli(db, ['retract', '--run', run]).status, 0);
    // the log's 53 events (session 26: with the ints compiles specialized), the retraction at #54
    const r = cli(db, ['why', '--job', 'fixture', '--as-of', '53']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /pgo-ledger retract --run/);
    assert.match(r.stdout, /PyTorch's profile held 3, then run \S+ saw 4: feeding one value keeps it static; run \S+ was retracted later, at #54 /);
  });

  it('a run that imported a profile', () => {
    const src = join(dir, 'src.db');
    const file = join(dir, 'src.jsonl');
    writeFileSync(file, [tensor('r1', 1, 8), tensor('r1', 2, 16)].join('\n') + '\n');
    assert.equal(cli(src, ['ingest', file]).status, 0);
    const pkl = join(dir, 'code_state_later.pkl');
    assert.equal(cli(src, ['export', '--job', 'later', '--format', 'pickle', '-o', pkl]).status, 0);
    const db = join(dir, 'import.db');
    for (const args of [['ingest', '--job', 'imp', '--run', 'rp', pkl], ['retract', '--run', 'rp']]) assert.equal(cli(db, args).status, 0, args.join(' '));
    const before = cli(db, ['why', '--job', 'imp', '--as-of', '1']);
    assert.equal(before.status, 0, before.stderr);
    assert.doesNotMatch(before.stdout, /retract --run rp/);
    assert.match(before.stdout, /it came dynamic in an imported profile \(pickle from [^)]+\); run rp was retracted later, at #2 /);
  });
});
