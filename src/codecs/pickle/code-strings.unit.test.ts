import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeKey } from '../../model/code-id.ts';
import { fixture } from '../../../test/support/fixtures.ts';
import { codeStringsOf, pickleProfile, sourceNamesOf, unpickleProfile } from './index.ts';

/** A code id's groups by its name (the fixtures' names are one code id each). */
function byName(file: string): Map<string, readonly [number, number, number]> {
  const bytes = fixture(file);
  const groups = codeStringsOf(bytes)!;
  const out = new Map<string, readonly [number, number, number]>();
  for (const { id } of unpickleProfile(bytes).codes.values()) out.set(id.name, groups.get(codeKey(id))!);
  return out;
}

describe("codeStringsOf: which objects a pickle's code id strings were where it was pickled", () => {
  it('a run warm-started from a profile: the code ids it loaded keep their own strings; those it compiled first share the process\'s', () => {
    // probe7's run 2 loaded plain and scalar, and first compiled newer and size (test/fixtures/multirun/README.md)
    const g = byName('multirun/probe7/run2/code_state_probe7_None_.pkl');
    const [plain, scalar, newer, size] = ['plain', 'scalar', 'newer', 'size'].map((n) => g.get(n)!);
    // loaded: one filename object, apart from the new code ids' one
    assert.equal(plain[0], scalar[0]);
    assert.notEqual(plain[0], newer[0]);
    assert.equal(newer[0], size[0]);
    // a loaded name is the unpickler's, not the interned field name 'scalar'; a new one is the interned 'size'
    assert.notEqual(scalar[1], 0);
    assert.equal(size[1], 0);
  });

  it("pickling the profile with them gives PyTorch's bytes back, where sharing by text does not", () => {
    for (const f of ['multirun/probe5/run2/code_state_probe5_None_.pkl', 'multirun/probe7/run2/code_state_probe7_None_.pkl', 'multirun/probe7/run3/code_state_probe7_None_.pkl']) {
      const bytes = fixture(f);
      const p = unpickleProfile(bytes);
      const sourceNames = sourceNamesOf(bytes, p)!;
      assert.deepEqual(Buffer.from(pickleProfile(p, { sourceNames, codeStrings: codeStringsOf(bytes)! })), bytes, f);
      assert.notDeepEqual(Buffer.from(pickleProfile(p, { sourceNames })), bytes, f);
    }
  });

  it('null for a pickle it does not walk: protocols 0 and 1', () => {
    assert.equal(codeStringsOf(fixture('torch-2.11/protocols/code_state_p0.pkl')), null);
    assert.equal(codeStringsOf(fixture('torch-2.11/protocols/code_state_p1.pkl')), null);
  });
});
