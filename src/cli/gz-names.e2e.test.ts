import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES, TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s29a: a gzipped profile file (code_state_probe5_None_.pkl.gz) was refused, "cannot tell
// the profile's job from the file name", though `.gz` of any kind is read and its key is in its name.
describe('a gzipped profile file or remote value is named by the file inside', () => {
  it('code_state_<job>_<rank>_<tag>.pkl.gz and redis_value.json.gz (its redis_key.txt beside it) go in under their keys', () => {
    const dir = tempDir();
    const d = join(dir, 'gz');
    mkdirSync(join(d, 'remote'), { recursive: true });
    const pkl = readFileSync(join(FIXTURES, 'multirun/probe5/run1/code_state_probe5_None_.pkl'));
    writeFileSync(join(d, 'code_state_probe5_None_.pkl.gz'), gzipSync(pkl));
    writeFileSync(join(d, 'remote', 'redis_value.json.gz'), gzipSync(readFileSync(join(TORCH, 'remote', 'redis_value.json'))));
    copyFileSync(join(TORCH, 'remote', 'redis_key.txt'), join(d, 'remote', 'redis_key.txt'));
    const db = join(dir, 'gz.db');
    const r = cli(db, ['ingest', d]);
    assert.equal(r.status, 0, r.stderr);
    const keys = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { cache_key: string }).cache_key).sort();
    assert.deepEqual(keys, ['fixture:None:', 'probe5:None:']);
    // the same profile as the file not gzipped
    const plain = join(dir, 'plain.db');
    copyFileSync(join(FIXTURES, 'multirun/probe5/run1/code_state_probe5_None_.pkl'), join(dir, 'code_state_probe5_None_.pkl'));
    assert.equal(cli(plain, ['ingest', join(dir, 'code_state_probe5_None_.pkl')]).status, 0);
    assert.equal(cli(db, ['show', '--job', 'probe5']).stdout, cli(plain, ['show', '--job', 'probe5']).stdout);
  });
});
