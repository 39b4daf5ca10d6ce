import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import { makeScalar } from '../model/entry.ts';
import { codeStateFor, emptyProfile } from '../model/profile.ts';

describe('trial s26b: --rank without --tag names the rank\'s untagged profile, as --job alone names J:None:', () => {
  const dir = tempDir();
  const code = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
  const file = (name: string, n: number) => {
    const p = emptyProfile();
    codeStateFor(p, code).automaticDynamic.set("L['n']", makeScalar(n));
    writeFileSync(join(dir, name), pickleProfile(p));
    return join(dir, name);
  };
  it('mj:0: beside mj:0:v2 and mj:1:, mj:1:v2', () => {
    const files = [file('code_state_mj_0_.pkl', 0), file('code_state_mj_0_v2.pkl', 10), file('code_state_mj_1_.pkl', 1), file('code_state_mj_1_v2.pkl', 11)];
    const db = join(dir, 'mj.db');
    assert.equal(cli(db, ['ingest', ...files]).status, 0);
    for (const [rank, want] of [['0', files[0]], ['1', files[2]]] as const) {
      const out = join(dir, `r${rank}.pkl`);
      const r = cli(db, ['export', '--job', 'mj', '--rank', rank, '--format', 'pickle', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(out), readFileSync(want));
    }
    assert.match(cli(db, ['show', '--job', 'mj', '--rank', '0', '--tag', 'v2']).stdout, /L\['n'\]: scalar 10/);
    // no rank given and no mj:None: to prefer: still an error naming them
    const r = cli(db, ['show', '--job', 'mj']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /job mj has several profiles \(mj:0:, mj:0:v2, mj:1:, mj:1:v2\): pick one with --rank\/--tag/);
  });
});
