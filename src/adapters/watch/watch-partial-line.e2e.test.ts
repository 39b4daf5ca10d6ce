import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../test/support/cli.ts';
import { TORCH } from '../../../test/support/fixtures.ts';
import { tempDir } from '../../../test/support/tmp.ts';

const dir = tempDir('pgo-watch-partial-');

describe('watch: a restart skips a log not final yet whose only new bytes are a partial last line (trial 19)', () => {
  it('a second watch --once reads nothing again; once a line is completed it reads the log again', () => {
    const folder = join(dir, 'traces');
    mkdirSync(folder, { recursive: true });
    const whole = readFileSync(join(TORCH, 'traces', 'warm-local.log'));
    const cut = 200_000; // inside a line: the log is being written
    assert.notEqual(whole[cut - 1], 0x0a);
    const log = join(folder, 'warm.log');
    writeFileSync(log, whole.subarray(0, cut));
    const db = join(dir, 'watch.db');
    const pass = () => {
      const r = cli(db, ['watch', folder, '--once', '--json']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report: string; appended?: number; to?: number }).filter((j) => j.report === 'input');
    };
    const first = pass();
    assert.equal(first.length, 1);
    assert.ok(first[0].appended! > 0);
    assert.ok(first[0].to! < cut, 'read up to its last newline');
    // Before: the cursor's offset (the last newline) never equals the file's size, so every
    // restart read the log again from 0, each event a duplicate.
    assert.deepEqual(pass(), [], 'not grown by a line, not settled: nothing is read again');
    appendFileSync(log, whole.subarray(cut, whole.indexOf(0x0a, cut) + 1));
    const grown = pass();
    assert.equal(grown.length, 1, 'a completed line is read');
    assert.equal(grown[0].to, whole.indexOf(0x0a, cut) + 1);
  });
});
