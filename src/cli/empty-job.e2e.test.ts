import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Session 20: `--job ''` was read as no --job by retract (`retract --run r1 --job ''` retracted
// r1 in every job) and report ("report needs --job or --all"); elsewhere it said `no profile
// for job ` (a name left blank). An empty job id on the command line is bad input, said before anything runs.
const dir = tempDir();

describe("--job '' is bad input on every command that takes --job", () => {
  const db = join(dir, 'empty-job.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (job: string | undefined, n: number) => JSON.stringify({ job, run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
  writeFileSync(obs, [line('a', 8), line('b', 8)].join('\n') + '\n');
  const noJob = join(dir, 'nojob.jsonl');
  // a line that names no job takes --job's
  writeFileSync(noJob, line(undefined, 8) + '\n');

  it('exit 2 naming --job, and nothing done', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    const before = cli(db, ['jobs', '--json']).stdout;
    for (const args of [
      ['show'], ['history'], ['why'], ['diff', '--from', '1'], ['export', '--format', 'remote-json', '-o', '-'],
      ['publish', 'redis://127.0.0.1:1', '--dry-run'], ['stats'], ['report', '-o', join(dir, 'r.html')],
      ['retract', '--run', 'r1'], ['pull', 'redis://127.0.0.1:1'], ['ingest', noJob],
    ]) {
      for (const job of [['--job', ''], ['--job=']]) {
        const r = cli(db, [...args, ...job]);
        assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /^pgo-ledger: --job is empty: an empty job id names no job; give the job id \(torch\.compiler\.config\.job_id\)/, args[0]);
        assert.equal(r.stdout, '', args[0]);
      }
    }
    // retract took every job and ingest took the lines' own (none): nothing changed
    assert.equal(cli(db, ['jobs', '--json']).stdout, before);
  });
});
