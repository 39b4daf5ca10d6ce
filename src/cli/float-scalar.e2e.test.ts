import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { FLOAT_PICKLES } from '../codecs/pickle/float-pickles.ts';
import { pickleProfile, unpickleProfile } from '../codecs/pickle/index.ts';
import { DYNAMIC } from '../model/atoms.ts';
import { PyFloat } from '../model/float.ts';
import { makeScalar } from '../model/entry.ts';

const dir = tempDir();

/** CPython's profile of float scalars (L['lr'] 0.5), with `change` applied to its one code state. */
function variant(name: string, change: (entries: Map<string, ReturnType<typeof makeScalar>>) => void): string {
  const p = unpickleProfile(Buffer.from(FLOAT_PICKLES[4], 'base64'));
  change([...p.codes.values()][0].state.automaticDynamic);
  const file = join(dir, name);
  writeFileSync(file, pickleProfile(p, 4));
  return file;
}

describe('a float scalar (specialize_float=False) is called a float', () => {
  const db = join(dir, 'fl.db');
  const r1 = variant('r1.pkl', () => {});
  const r2 = variant('r2.pkl', (e) => {
    e.set("L['lr']", makeScalar(new PyFloat(0.25)));
    e.set("L['n']", makeScalar(7n));
    // came dynamic with no value: nothing tells an int from a float, or a scalar from a tensor
    e.set("L['u']", { scalar: DYNAMIC, size: DYNAMIC, stride: DYNAMIC });
  });
  const r3 = variant('r3.pkl', (e) => e.set("L['n']", makeScalar(8n)));

  it('why says "the float itself" for a float and "the int itself" for an int, PyTorch\'s "fully dynamic scalar or tensor" for an entry that came so', () => {
    for (const [f, run] of [[r1, 'r1'], [r2, 'r2'], [r3, 'r3']]) assert.equal(cli(db, ['ingest', '--job', 'fl', '--run', run, f]).status, 0);
    const w = cli(db, ['why', '--job', 'fl']);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /L\['lr'\] in .*step:\n {2}the float itself: static 0\.5 in #\d+ .*dynamic in #\d+ \(imported pickle, run r2/);
    assert.match(w.stdout, /L\['n'\] in .*step:\n {2}the int itself: static 7 in #\d+ .*dynamic in #\d+ \(imported pickle, run r3/);
    assert.match(w.stdout, /L\['u'\] in .*step:\n {2}fully dynamic scalar or tensor: dynamic in #\d+ \(imported pickle, run r2/);
    assert.doesNotMatch(w.stdout, /the int itself: static 0\.5/);
  });
});
