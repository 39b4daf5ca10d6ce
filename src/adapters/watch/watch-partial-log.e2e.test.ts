import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../test/support/cli.ts';
import { TORCH } from '../../../test/support/fixtures.ts';
import { tempDir } from '../../../test/support/tmp.ts';

const dir = tempDir('pgo-watch-partial-');

/** A folder holding warm-local.log cut inside a line at `cut` (a log being written); the whole log's bytes. */
function partialLog(name: string, cut: number): { folder: string; log: string; whole: Buffer } {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const whole = readFileSync(join(TORCH, 'traces', 'warm-local.log'));
  assert.notEqual(whole[cut - 1], 0x0a);
  const log = join(folder, 'warm.log');
  writeFileSync(log, whole.subarray(0, cut));
  return { folder, log, whole };
}

/** The JSON lines of one `watch --once --json` of the folder. */
function watchOnce(db: string, folder: string): { report: string; appended?: number; to?: number; behind?: { bytes: number; seconds: number } }[] {
  const r = cli(db, ['watch', folder, '--once', '--json']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('watch: a log not final yet, its last line partial (trial 19)', () => {
  it('a second watch --once reads nothing again; once a line is completed it reads the log again', () => {
    const cut = 200_000;
    const { folder, log, whole } = partialLog('restart', cut);
    const db = join(dir, 'watch.db');
    const inputs = () => watchOnce(db, folder).filter((j) => j.report === 'input');
    const first = inputs();
    assert.equal(first.length, 1);
    assert.ok(first[0].appended! > 0);
    assert.ok(first[0].to! < cut, 'read up to its last newline');
    // Before: the cursor's offset (the last newline) never equals the file's size, so every
    // restart read the log again from 0, each event a duplicate.
    assert.deepEqual(inputs(), [], 'not grown by a line, not settled: nothing is read again');
    appendFileSync(log, whole.subarray(cut, whole.indexOf(0x0a, cut) + 1));
    const grown = inputs();
    assert.equal(grown.length, 1, 'a completed line is read');
    assert.equal(grown[0].to, whole.indexOf(0x0a, cut) + 1);
  });

  it('--json: behind.seconds is to the millisecond, as every JSON time is (an mtime with a fraction of a millisecond: no float noise)', () => {
    const { folder, log } = partialLog('behind', 200_000);
    // an mtime a second and a fraction of a millisecond ago (was: "seconds": 1.996044921875)
    const t = (Date.now() - 1000) / 1000 + 0.0001234567;
    utimesSync(log, t, t);
    const pass = watchOnce(join(dir, 'w.db'), folder).find((j) => j.report === 'pass')!;
    assert.ok(pass.behind!.bytes > 0);
    assert.ok(pass.behind!.seconds > 0.5, String(pass.behind!.seconds));
    assert.equal(pass.behind!.seconds, Math.round(pass.behind!.seconds * 1000) / 1000, `to the millisecond: ${pass.behind!.seconds}`);
  });
});

describe('watch --once of a log being written that gives nothing yet (session 25)', () => {
  // --once makes no later pass, so what a log still lacks is said now (it said nothing, exit 0)
  // and as what it is: a log not finished, not a file that is no trace
  for (const [name, lines, said] of [
    ['an entry not ended', 3, /start\.log: no whole TORCH_TRACE entry yet \(a log still written to: read again once it settles\)/],
    ['no profile key yet', 30, /start\.log: the trace names no PGO cache key yet \(a log still written to/],
  ] as const) {
    it(`${name}: said, and nothing is written`, () => {
      const folder = join(dir, `start-${lines}`);
      mkdirSync(folder, { recursive: true });
      const text = readFileSync(join(TORCH, 'traces', 'warm-local.log'), 'utf8');
      writeFileSync(join(folder, 'start.log'), text.split('\n').slice(0, lines).join('\n') + '\n');
      const r = cli(join(dir, `start-${lines}.db`), ['watch', folder, '--once']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, said);
      assert.doesNotMatch(r.stderr, /not a TORCH_TRACE log/);
    });
  }
});
