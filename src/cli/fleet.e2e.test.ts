import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { ROOT } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const W2 = join(ROOT, 'test/fixtures/torch-2.11/workload2');
// nothing listens there: the commands below must answer before they reach Redis
const NOWHERE = 'redis://127.0.0.1:1';

describe('issue: fleet commands tried by a new user (publish, errors)', () => {
  const db = join(dir, 'fleet.db');

  it('fleet 4: publish --merge --allow-empty of an empty profile says --merge never publishes an empty profile (no advice to give --allow-empty)', () => {
    assert.equal(cli(db, ['ingest', join(W2, 'trace-rank0.log')]).status, 0);
    const r = cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--rank', '0', '--as-of', '0', '--merge', '--allow-empty']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /fixture2:0: has no code ids in the window given \(--as-of\/--exclude-run\): --merge never publishes an empty profile/);
    assert.doesNotMatch(r.stderr, /give --allow-empty if that is what you want/);
    // without --allow-empty the same (--merge, not the missing flag, is why)
    assert.match(cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--as-of', '0', '--merge']).stderr, /--merge never publishes an empty profile/);
    // without --merge the advice stands
    assert.match(cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--as-of', '0']).stderr, /give --allow-empty if that is what you want/);
  });
});
