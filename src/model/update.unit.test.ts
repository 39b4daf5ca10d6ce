import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextOracleCases, oracleCases } from '../../test/support/fixtures.ts';
import { entryJson, entryJsonNext } from '../../test/support/oracle-json.ts';
import { DYNAMIC, InferStride, UNSET, type Atom } from './atoms.ts';
import { PyFloat } from './float.ts';
import { applyLoggedRecord } from './logged-record.ts';
import { join, makeScalar, makeSize, mergeAtom, mergeAtomTup } from './entry.ts';
import { inferStrides } from './infer-strides.ts';
import { entryOf, type Shape } from './observation.ts';
import { emptyProfile } from './profile.ts';
import { updateAutomaticDynamic } from './update.ts';
import { renderProfile } from './render.ts';

describe('the join (PyTorch _merge_atom / _merge_atom_tup / |=)', () => {
  it('unset is the identity, dynamic the top, unequal ints go dynamic', () => {
    assert.equal(mergeAtom<Atom>(UNSET, 3), 3);
    assert.equal(mergeAtom<Atom>(3, UNSET), 3);
    assert.equal(mergeAtom(3, 3), 3);
    assert.equal(mergeAtom(3, 4), DYNAMIC);
    assert.equal(mergeAtom<Atom>(DYNAMIC, 3), DYNAMIC);
    assert.equal(mergeAtom(2n ** 70n, 2n ** 70n), 2n ** 70n);
    assert.equal(mergeAtom(2n ** 70n, 2n ** 70n + 1n), DYNAMIC);
  });
  it('InferStride joins by dim, and keeps the left object when equal', () => {
    const a = new InferStride(1);
    assert.equal(mergeAtom(a, new InferStride(1)), a);
    assert.equal(mergeAtom(a, new InferStride(2)), DYNAMIC);
    assert.equal(mergeAtom<InferStride | number>(a, 1), DYNAMIC);
  });
  it('floats (specialize_float=False) join as Python compares them: 1.0 == 1, nan != nan', () => {
    // torch/_dynamo/pgo.py (v2.11.0) _merge_atom: `x is auto_dynamic or y is auto_dynamic or x != y`
    const half = new PyFloat(0.5);
    assert.equal(mergeAtom<Atom>(half, new PyFloat(0.5)), half);
    assert.equal(mergeAtom<Atom>(half, new PyFloat(0.25)), DYNAMIC);
    const one = new PyFloat(1);
    assert.equal(mergeAtom<Atom>(one, 1), one);
    assert.equal(mergeAtom<Atom>(1, one), 1);
    assert.equal(mergeAtom<Atom>(new PyFloat(2 ** 60), 2n ** 60n + 1n), DYNAMIC);
    const nan = new PyFloat(NaN);
    assert.equal(mergeAtom<Atom>(nan, nan), DYNAMIC);
    assert.equal(mergeAtom<Atom>(new PyFloat(-0), new PyFloat(0)) instanceof PyFloat, true);
    // update_automatic_dynamic's record prints str() of each: the float's repr
    const p = emptyProfile();
    const code = { filename: 'm.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    assert.deepEqual(updateAutomaticDynamic(p, code, "L['lr']", makeScalar(new PyFloat(1e-5))).records, []);
    assert.deepEqual(updateAutomaticDynamic(p, code, "L['lr']", makeScalar(new PyFloat(1e-5))).records, []);
    assert.deepEqual(updateAutomaticDynamic(p, code, "L['lr']", makeScalar(new PyFloat(0.25))).records, [
      { name: "L['lr']", dim_changed: 'scalar', reason: 'scalar change', cached: '1e-05', new: '0.25' },
    ]);
    assert.equal(renderProfile(p), "hash(h)m.py:1:f:\n  L['lr']: fully dynamic scalar or tensor\n\nPGO detected a recompilation due to dynamic shapes. To reduce shape recompilations by compiling dynamically to start, set environment variable TORCH_COMPILE_DYNAMIC_SOURCES=\"L['lr']\"");
  });
  it("a trace's scalar change record of floats applies as the join it logged", () => {
    const e = applyLoggedRecord(makeScalar(new PyFloat(0.5)), { name: "L['lr']", dim_changed: 'scalar', reason: 'scalar change', cached: '0.5', new: '0.25' });
    assert.equal(e?.scalar, DYNAMIC);
    const same = applyLoggedRecord(makeScalar(new PyFloat(1)), { name: "L['lr']", dim_changed: 'scalar', reason: 'scalar change', cached: '1.0', new: '1' });
    assert.ok(same?.scalar instanceof PyFloat);
  });
  it('tuples of different lengths join to dynamic', () => {
    assert.equal(mergeAtomTup([1, 2], [1]), DYNAMIC);
    assert.deepEqual(mergeAtomTup([1, 2], [1, 3]), [1, DYNAMIC]);
    assert.equal(mergeAtomTup(UNSET, DYNAMIC), DYNAMIC);
  });
  it('a scalar joined with a size-only entry keeps both halves', () => {
    const j = join(makeSize([4]), makeScalar(3));
    // the size (4,) turned dynamic: upstream's |= keeps it in excluded_sizes (issue 13.2)
    assert.deepEqual(j, { scalar: 3, size: DYNAMIC, stride: DYNAMIC, excluded_sizes: [4] });
  });
});

describe('stride inference (Dynamo builder)', () => {
  it('rewrites contiguous strides to InferStride', () => {
    const s = inferStrides([2, 3], [3, 1]);
    assert.ok(s[0] instanceof InferStride && s[0].dim === 1);
    assert.equal(s[1], 1);
  });
  it('shares one InferStride between dims that reuse a candidate', () => {
    const s = inferStrides([2, 1, 3], [3, 3, 1]);
    assert.ok(s[0] instanceof InferStride);
    assert.equal(s[0], s[1]);
  });
  it('refuses size and stride of different lengths', () => {
    assert.throws(() => inferStrides([2, 3], [1]), /2 dims but stride has 1/);
  });
});

describe('PyTorch quirks in the logged records', () => {
  it('compares each dim of the old entry with the new observation, not with the join', () => {
    const p = emptyProfile();
    const code = { filename: 'f.py', firstlineno: 1, name: 'f', file_hash: 'f.py' };
    const tensor = (size: number[]): Shape => ({ kind: 'tensor', size, stride: size.map(() => 1) });
    updateAutomaticDynamic(p, code, "L['x']", entryOf(tensor([2, 3])));
    updateAutomaticDynamic(p, code, "L['x']", entryOf(tensor([4, 3])));
    const r = updateAutomaticDynamic(p, code, "L['x']", entryOf(tensor([5, 4])));
    // dim 0 was already dynamic, but PyTorch logs it again (cached AutoDynamic.token)
    assert.deepEqual(
      r.records.map((x) => [x.dim_changed, x.cached, x.new]),
      [
        [0, 'AutoDynamic.token', '5'],
        [1, '3', '4'],
      ],
    );
  });
  it('logs nothing for the first sighting, and nothing with automatic dynamic off', () => {
    const p = emptyProfile();
    const code = { filename: 'f.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    assert.equal(updateAutomaticDynamic(p, code, 'n', makeScalar(1)).records.length, 0);
    const off = updateAutomaticDynamic(p, code, 'n', makeScalar(2), false);
    assert.equal(off.records.length, 0);
    assert.equal(off.entry.scalar, 2);
  });
  it('keeps the first filename for an equal code id', () => {
    const p = emptyProfile();
    updateAutomaticDynamic(p, { filename: '/a/x.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, 'n', makeScalar(1));
    updateAutomaticDynamic(p, { filename: '/b/x.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, 'n', makeScalar(2));
    assert.equal(p.codes.size, 1);
    assert.equal(renderProfile(p).split('\n')[0], 'hash(abc)/a/x.py:3:f:');
  });
});

describe('all 600 oracle cases: every step and every logged record', () => {
  for (const c of oracleCases()) {
    it(`case ${c.id}`, () => {
      const p = emptyProfile();
      c.observations.forEach((o, i) => {
        const r = updateAutomaticDynamic(p, c.codes[o.code], o.source, entryOf(o as Shape), c.automatic_dynamic_shapes);
        const step = c.expected.steps[i];
        assert.deepEqual(entryJson(r.entry), step.after, `step ${i} entry`);
        assert.deepEqual(
          r.records.map((x) => ({ event: 'automatic_dynamic', ...x })),
          step.logged,
          `step ${i} records`,
        );
      });
      assert.equal(renderProfile(p), c.expected.render);
    });
  }
});

describe('issue 13: the layout after 2.11 (oracle/next): every step, record and render of 600 cases', () => {
  for (const c of nextOracleCases()) {
    it(`issue 13.2: next case ${c.id}`, () => {
      const p = emptyProfile();
      c.observations.forEach((o, i) => {
        const r = updateAutomaticDynamic(p, c.codes[o.code], o.source, entryOf(o as Shape), c.automatic_dynamic_shapes);
        const step = c.expected.steps[i];
        assert.deepEqual(entryJsonNext(r.entry), step.after, `step ${i} entry`);
        assert.deepEqual(r.records.map((x) => ({ event: 'automatic_dynamic', ...x })), step.logged, `step ${i} records`);
      });
      assert.equal(p.layout, '2.12');
      assert.equal(renderProfile(p), c.expected.render);
    });
  }
});
