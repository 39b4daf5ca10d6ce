import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

describe('jobs marks the runs a profile retracted', () => {
  const db = join(dir, 'jobs.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (job: string, run: string, n: number) => JSON.stringify({ job, run, time: '2026-11-26T10:00:00Z', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
  writeFileSync(obs, [line('a', 'r1', 8), line('a', 'r2', 9), line('b', 'r1', 8)].join('\n') + '\n');

  it('in text and --json, in that profile only', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    assert.equal(cli(db, ['retract', '--run', 'r1', '--job', 'a']).status, 0);
    const text = cli(db, ['jobs']).stdout.split('\n');
    assert.match(text[0], /^a:None:\t3 events\tlast event #4 \(latest time [^)]+\)\tretracted: run r1 at #4$/);
    assert.match(text[1], /^b:None:\t1 event\tlast event #3 \(latest time [^)]+\)$/);
    const json = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { cache_key: string; runs: string[]; retracted: string[] });
    assert.deepEqual(json.map((j) => [j.cache_key, j.runs, j.retracted]), [['a:None:', ['r1', 'r2'], ['r1']], ['b:None:', ['r1'], []]]);
  });

  // Trial s36a: retract --reason was stored and shown nowhere.
  it("retract --reason is shown by jobs: its text and --json's retractions", () => {
    assert.equal(cli(db, ['retract', '--run', 'r1', '--job', 'b', '--reason', 'bad node 7']).status, 0);
    const text = cli(db, ['jobs']).stdout.split('\n');
    assert.match(text[1], /^b:None:\t2 events\tlast event #5 \(latest time [^)]+\)\tretracted: run r1 at #5 \("bad node 7"\)$/);
    const json = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { retractions: { run: string; position: number; reason: string | null }[] });
    assert.deepEqual(json.map((j) => j.retractions.map(({ run, position, reason }) => [run, position, reason])), [[['r1', 4, null]], [['r1', 5, 'bad node 7']]]);
  });
});
