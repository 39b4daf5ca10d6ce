import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/support/fixtures.ts';
import { pickleProfile, sourceNamesOf, unpickleProfile } from './index.ts';

const of = (bytes: Uint8Array) => sourceNamesOf(bytes, unpickleProfile(bytes));

describe("sourceNamesOf: how a pickle's equal source names were shared where it was pickled", () => {
  it("PyTorch's own files: each code state's names their own objects", () => {
    for (const f of ['torch-2.11/local/code_state_fixture_None_.pkl', 'torch-2.11/workload2/code_state_fixture2_1_.pkl', 'multirun/probe3/run2/code_state_probe3_None_.pkl', 'multirun/probe4-local/run3/code_state_probe4_None_.pkl', 'multirun/probe5/run2/code_state_probe5_None_.pkl', 'multirun/probe7/run3/code_state_probe7_None_.pkl', 'torch-2.11/protocols/code_state_p2.pkl', 'torch-2.11/protocols/code_state_p5.pkl']) {
      assert.equal(of(fixture(f)), 'per-code', f);
    }
  });

  it("CPython's big canonical profiles: equal names one object", () => {
    assert.equal(of(fixture('oracle/big-canonical-dev/big-7-1.pkl')), 'shared');
  });

  it('null where the bytes cannot tell: protocols 0 and 1, a name in one code state only', () => {
    assert.equal(of(fixture('torch-2.11/protocols/code_state_p0.pkl')), null);
    assert.equal(of(fixture('torch-2.11/protocols/code_state_p1.pkl')), null);
    const one = unpickleProfile(fixture('torch-2.11/local/code_state_fixture_None_.pkl'));
    for (const k of [...one.codes.keys()].slice(1)) one.codes.delete(k);
    assert.equal(sourceNamesOf(pickleProfile(one), one), null);
  });
});
