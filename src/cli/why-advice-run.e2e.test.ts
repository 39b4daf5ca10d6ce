import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial 19: for observation lines why advised "retracting run r2 (pgo-ledger retract --run ...)",
// where for a trace's run it gives the whole command: the run is known, so say it.
const dir = tempDir();
const line = (run: string, t: number, n: number) => JSON.stringify({ job: 'adv', run, time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });

describe('why advises retracting the runs that alone brought the other values', () => {
  it('one run: the whole command', () => {
    const file = join(dir, 'one.jsonl');
    writeFileSync(file, [line('r1', 1, 8), line('r1', 2, 8), line('r2', 3, 16)].join('\n') + '\n');
    const db = join(dir, 'one.db');
    assert.equal(cli(db, ['ingest', file]).status, 0);
    const r = cli(db, ['why', '--job', 'adv']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /retracting run r2 \(pgo-ledger retract --run r2\) would keep dim 0 of L\['x'\] static at 8/);
  });

  it('several runs: a command each', () => {
    const file = join(dir, 'two.jsonl');
    writeFileSync(file, [line('r1', 1, 8), line('r1', 2, 8), line('r1', 3, 8), line('r2', 4, 16), line('r3', 5, 32)].join('\n') + '\n');
    const db = join(dir, 'two.db');
    assert.equal(cli(db, ['ingest', file]).status, 0);
    const r = cli(db, ['why', '--job', 'adv']);
    assert.match(r.stdout, /retracting runs r2, r3 \(pgo-ledger retract --run r2; pgo-ledger retract --run r3\) would keep dim 0 of L\['x'\] static at 8/);
  });
});
