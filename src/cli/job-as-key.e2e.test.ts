import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s35b: `jobs` prints profiles by cache key (`j1:0:`), and `retract --run r3 --job j1:0:`
// said "run r3 has no events in job j1:0:", as if the run were missing rather than the job.
// A job no profile has is said so, in every command's words, and a cache key given as a job
// says which job it is the key of.
const dir = tempDir();

describe('--job given a cache key, or a job the ledger lacks', () => {
  const db = join(dir, 'key.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (rank: number, run: string) =>
    JSON.stringify({ job: 'j1', rank, run, time: '2026-11-26T10:00:00Z', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1] });
  writeFileSync(obs, [line(0, 'r3'), line(1, 'r4')].join('\n') + '\n');

  it('retract names the job as missing, and the key as a profile of j1; nothing retracted', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    const before = cli(db, ['jobs', '--json']).stdout;
    const r = cli(db, ['retract', '--run', 'r3', '--job', 'j1:0:']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgo-ledger: no job j1:0: \(j1:0: is the cache key of a profile of job j1, a job id its first part; the ledger's jobs: j1;/);
    assert.doesNotMatch(r.stderr, /has no events/);
    const other = cli(db, ['retract', '--run', 'r3', '--job', 'j2']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /^pgo-ledger: no job j2 \(the ledger's jobs: j1;/);
    assert.equal(cli(db, ['jobs', '--json']).stdout, before);
    // the job itself: the run is found
    const ok = cli(db, ['retract', '--run', 'r3', '--job', 'j1']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /retracted run r3 in j1:0:/);
  });

  it('show and why say the key is a profile of j1', () => {
    for (const args of [['show'], ['why'], ['history']]) {
      const r = cli(db, [...args, '--job', 'j1:1:']);
      assert.equal(r.status, 2, args[0]);
      assert.match(r.stderr, /^pgo-ledger: no profile for job j1:1: \(j1:1: is the cache key of a profile of job j1, a job id its first part; the ledger's jobs: j1; pgo-ledger jobs lists their profiles\)$/m, args[0]);
    }
  });
});
