import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s36b: two processes' TORCH_TRACE logs ingested under one `--run` (a job's restarts,
// named as one run) each number their compiles from 0/0, and `why` took run 2's compile 3/0 for
// run 1's: the value 6 that made L['W']['w'] dim 1 dynamic was lost ("values seen: 4 (1x)"), and
// stats said a dim turned dynamic with one value seen. A compile is its run's, file's and id's.
const dir = tempDir();
const probe3 = join(FIXTURES, 'multirun', 'probe3');

describe("two processes' logs under one --run", () => {
  it("each compile counts its value: why and stats name both 4 and 6, as the logs' records say", () => {
    const db = join(dir, 'one-run.db');
    for (const run of ['run1', 'run2']) assert.equal(cli(db, ['ingest', '--run', 'train-42', join(probe3, run, 'trace.log.gz')]).status, 0);
    const why = cli(db, ['why', '--source', "L['W']['w']", '--dim', '1']);
    assert.equal(why.status, 0, why.stderr);
    assert.match(why.stdout, /PyTorch logged at compile 3\/0: size change 4 -> 6/);
    assert.match(why.stdout, /^ {4}values seen: 4 \(1x, runs train-42\); 6 \(1x, runs train-42\)$/m);
    assert.match(cli(db, ['stats']).stdout, /turned dynamic: L\['W'\]\['w'\] size\[1\] in \S+:66:glob at #\d+: 4 seen 1 time, 6 seen 1 time in 2 observations/);
    // each under its own run (the logs' own names): the same counts
    const apart = join(dir, 'apart.db');
    for (const run of ['run1', 'run2']) assert.equal(cli(apart, ['ingest', join(probe3, run, 'trace.log.gz')]).status, 0);
    assert.match(cli(apart, ['why', '--source', "L['W']['w']", '--dim', '1']).stdout, /^ {4}values seen: 4 \(1x, runs \S+\); 6 \(1x, runs \S+\)$/m);
  });
});
