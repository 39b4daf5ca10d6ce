import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s35b F7: `--exclude-run` of a run the ledger holds but the profile read does not (a run
// of another job) passed the check of known runs and changed nothing, silently: it read as a
// what-if that had left the run out. Each command that reads one profile says so, once.
const dir = tempDir();

describe('--exclude-run of a run the profile read holds no event of', () => {
  const db = join(dir, 'other.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (job: string, run: string, n: number, t: number) =>
    JSON.stringify({ job, run, time: `2026-11-26T10:00:0${t}Z`, code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'aa' }, source: "L['x']", kind: 'tensor', size: [n], stride: [1] });
  writeFileSync(obs, [line('a', 'r1', 8, 0), line('a', 'r2', 16, 1), line('b', 'r3', 8, 2)].join('\n') + '\n');
  const note = /^pgo-ledger: note: a:None:: --exclude-run r3 changes nothing here: run r3 has no events in this profile \(its events are in b:None:\)$/m;

  it('why, show, history, diff and export say it changes nothing; the answer is the whole profile', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    for (const args of [['why'], ['show'], ['history'], ['diff', '--from', '1'], ['export', '--format', 'remote-json', '-o', '-']]) {
      const r = cli(db, [...args, '--job', 'a', '--exclude-run', 'r3']);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, note, args[0]);
      assert.equal(r.stderr.match(/changes nothing here/g)!.length, 1, `${args[0]}: said once`);
      assert.equal(r.stdout, cli(db, [...args, '--job', 'a']).stdout, args[0]);
    }
  });

  it("a run the profile holds: no note of it, nor of other profiles' runs", () => {
    const r = cli(db, ['show', '--job', 'b', '--exclude-run', 'r3', '--exclude-run', 'r1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /b:None:: --exclude-run r1 changes nothing here: run r1 has no events in this profile \(its events are in a:None:\)/);
    assert.doesNotMatch(r.stderr, /a:None::/);
    assert.doesNotMatch(r.stderr, /--exclude-run r3 changes nothing/);
  });
});
