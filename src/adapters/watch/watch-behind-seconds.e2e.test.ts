import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../../test/support/cli.ts';
import { TORCH } from '../../../test/support/fixtures.ts';
import { tempDir } from '../../../test/support/tmp.ts';

const dir = tempDir('pgo-watch-behind-');

describe('watch --json: behind.seconds is to the millisecond, as every JSON time is (trial 19)', () => {
  it('a log whose mtime has a fraction of a millisecond: no float noise', () => {
    const folder = join(dir, 'traces');
    mkdirSync(folder, { recursive: true });
    const whole = readFileSync(join(TORCH, 'traces', 'warm-local.log'));
    const log = join(folder, 'warm.log');
    writeFileSync(log, whole.subarray(0, 200_000)); // a partial last line: behind
    // an mtime a second and a fraction of a millisecond ago (was: "seconds": 1.996044921875)
    const t = (Date.now() - 1000) / 1000 + 0.0001234567;
    utimesSync(log, t, t);
    const r = cli(join(dir, 'w.db'), ['watch', folder, '--once', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const pass = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report: string; behind?: { bytes: number; seconds: number } }).find((j) => j.report === 'pass')!;
    assert.ok(pass.behind!.bytes > 0);
    assert.ok(pass.behind!.seconds > 0.5, String(pass.behind!.seconds));
    assert.equal(pass.behind!.seconds, Math.round(pass.behind!.seconds * 1000) / 1000, `to the millisecond: ${pass.behind!.seconds}`);
  });
});
