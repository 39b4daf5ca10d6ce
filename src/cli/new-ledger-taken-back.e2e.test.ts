import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const line = JSON.stringify({ job: 'j', run: 'r', time: 1764151200, code: { filename: '/a.py', firstlineno: 1, name: 'f' }, source: 'x', kind: 'size', size: [8, 3] });

describe('watch (as pull) takes back a new ledger where it failed having written nothing (trial s23: an empty ledger was left)', () => {
  it('watch --once of a mistyped path leaves no ledger; one with events written, failure and all, or a pass that succeeded, keeps it', () => {
    const w = join(dir, 'w.db');
    const typo = cli(w, ['watch', join(dir, 'no-such-folder'), '--once']);
    assert.equal(typo.status, 2, typo.stderr);
    assert.match(typo.stderr, /no-such-folder: no such file or folder: --once makes one pass/);
    assert.match(typo.stderr, /nothing was written: the new ledger .*w\.db is removed\n$/);
    assert.ok(!existsSync(w));
    // what was written keeps it
    const folder = join(dir, 'in');
    mkdirSync(folder);
    writeFileSync(join(folder, 'good.jsonl'), line + '\n');
    const b = join(dir, 'b.db');
    const some = cli(b, ['watch', folder, join(dir, 'no-such-folder'), '--once']);
    assert.equal(some.status, 2, some.stderr);
    assert.ok(existsSync(b));
    assert.equal(cli(b, ['verify']).status, 0);
    // a pass that succeeded with nothing to read made the ledger it was asked for
    const e = join(dir, 'e.db');
    mkdirSync(join(dir, 'empty'));
    assert.equal(cli(e, ['watch', join(dir, 'empty'), '--once']).status, 0);
    assert.ok(existsSync(e));
  });
});
