import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, fixtureText, oracleCases } from '../../../test/support/fixtures.ts';
import { profileJson } from '../../../test/support/oracle-json.ts';
import { entryOf, type Shape } from '../../model/observation.ts';
import { emptyProfile } from '../../model/profile.ts';
import { renderProfile } from '../../model/render.ts';
import { updateAutomaticDynamic } from '../../model/update.ts';
import { pickleProfile, unpickleProfile } from './index.ts';

const BIG = ['big-7-0', 'big-7-1', 'big-7-2', 'big-7-3', 'big-7-4', 'big-8-0', 'big-8-1'];

describe('pickle writer: CPython bytes for all 600 oracle cases', () => {
  for (const c of oracleCases()) {
    it(`case ${c.id}`, () => {
      const p = emptyProfile();
      for (const o of c.observations) updateAutomaticDynamic(p, c.codes[o.code], o.source, entryOf(o as Shape), c.automatic_dynamic_shapes);
      const want = Buffer.from(c.expected.pickle_p4, 'base64');
      assert.equal(Buffer.from(pickleProfile(p)).toString('base64'), want.toString('base64'));
      // and the reader gives back PyTorch's state
      const back = unpickleProfile(want);
      assert.deepEqual(profileJson(back).map((x, i) => ({ code: c.expected.state[i].code, entries: x.entries })), c.expected.state);
      for (const [proto, b64] of Object.entries(c.expected.pickle_by_protocol ?? {})) {
        assert.equal(renderProfile(unpickleProfile(Buffer.from(b64, 'base64'))), c.expected.render, `protocol ${proto}`);
      }
    });
  }
});

describe('large CPython pickles (big-canonical-dev)', () => {
  for (const name of BIG) {
    it(`${name}: read, then write: identical bytes; state as described`, () => {
      const bytes = fixture(`oracle/big-canonical-dev/${name}.pkl`);
      const p = unpickleProfile(bytes);
      assert.ok(Buffer.from(pickleProfile(p)).equals(bytes));
      const desc = JSON.parse(fixtureText(`oracle/big-canonical-dev/${name}.json`));
      assert.deepEqual(profileJson(p), desc.state);
    });
  }
});

describe('real PyTorch 2.11 profile files', () => {
  const render = fixtureText('torch-2.11/render/eager-cold-run.txt');
  for (const p of [0, 1, 2, 3, 4, 5]) {
    it(`protocol ${p} reads to the cold run's profile${p >= 2 ? ' and writes back byte for byte' : ''}`, () => {
      const bytes = fixture(`torch-2.11/protocols/code_state_p${p}.pkl`);
      const prof = unpickleProfile(bytes);
      assert.equal(renderProfile(prof), render);
      if (p >= 2) {
        const out = pickleProfile(prof, { protocol: p as 2, sourceNames: 'per-code' });
        assert.ok(Buffer.from(out).equals(bytes));
      }
    });
  }
  it('the local file and the tagged run', () => {
    assert.equal(renderProfile(unpickleProfile(fixture('torch-2.11/local/code_state_fixture_None_.pkl'))), render);
    assert.equal(
      renderProfile(unpickleProfile(fixture('torch-2.11/local/code_state_team_job_7_None_v2.pkl'))),
      fixtureText('torch-2.11/render/tagged-run.txt'),
    );
  });
  it('workload 2 (resume functions, int attributes, mark_dynamic, ranks)', () => {
    for (const [file, render2] of [
      ['code_state_fixture2_None_.pkl', 'render-single.txt'],
      ['code_state_fixture2_0_.pkl', 'render-rank0.txt'],
      ['code_state_fixture2_1_.pkl', 'render-rank1.txt'],
    ]) {
      assert.equal(renderProfile(unpickleProfile(fixture(`torch-2.11/workload2/${file}`))), fixtureText(`torch-2.11/workload2/${render2}`), file);
    }
  });
  it('ints past 2**53 round-trip exactly', () => {
    const p = emptyProfile();
    const code = { filename: 'x.py', firstlineno: 1, name: 'f', file_hash: 'x.py' };
    updateAutomaticDynamic(p, code, 'n', entryOf({ kind: 'scalar', value: -(2n ** 80n) }));
    updateAutomaticDynamic(p, code, 'm', entryOf({ kind: 'size', size: [2n ** 64n, -129, 70000, -(2n ** 31n)] }));
    const back = unpickleProfile(pickleProfile(p));
    assert.equal(renderProfile(back), renderProfile(p));
    assert.equal(back.codes.values().next().value!.state.automaticDynamic.get('n')!.scalar, -(2n ** 80n));
  });
});
