import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DYNAMIC, InferStride } from './atoms.ts';
import { markDynamic } from './mark-dynamic.ts';
import { entryOf, type Shape } from './observation.ts';
import { emptyProfile, type Profile } from './profile.ts';
import { updateAutomaticDynamic } from './update.ts';
import { renderEntry } from './render.ts';

const code = { filename: '/w/m.py', firstlineno: 3, name: 'f', file_hash: 'h', closure_hash: null };

/**
 * What `_automatic_dynamic` (variables/builder.py) does for a tensor input: `record_automatic_dynamic`
 * (update_automatic_dynamic of make_tensor, records logged), then for each marked dim in order
 * `frame_state_entry |= make_size([auto_unset, …, auto_dynamic at i, …])`, logging nothing.
 */
function see(p: Profile, size: number[], stride: number[], marks: number[]) {
  const shape: Shape = { kind: 'tensor', size, stride };
  const r = updateAutomaticDynamic(p, code, "L['x']", entryOf(shape));
  return markDynamic(r, marks, size.length);
}

describe('mark_dynamic (torch._dynamo.mark_dynamic, as Dynamo reflects it in the profile)', () => {
  it('a new source: the marked dim turns dynamic, with no record, and excluded_sizes keeps what it was', () => {
    const p = emptyProfile();
    const r = see(p, [8, 128], [128, 1], [0]);
    assert.deepEqual(r.records, []);
    assert.equal(r.before, undefined);
    assert.deepEqual(r.entry.size, [DYNAMIC, 128]);
    assert.deepEqual(r.entry.stride, [new InferStride(1), 1]);
    assert.deepEqual(r.entry.excluded_sizes, [8, 128]);
    assert.equal(renderEntry(r.entry), 'tensor size=[?, 128] stride=[S(1), 1]');
  });
  it('the same tensor again: the observation keeps the size, so |= clears excluded_sizes; the mark changes nothing more', () => {
    const p = emptyProfile();
    see(p, [8, 128], [128, 1], [0]);
    const r = see(p, [8, 128], [128, 1], [0]);
    assert.deepEqual(r.records, []);
    assert.deepEqual(r.entry.size, [DYNAMIC, 128]);
    assert.equal(r.entry.excluded_sizes, null);
    // and once more: nothing changes at all (the fold may then skip the join)
    const again = see(p, [8, 128], [128, 1], [0]);
    assert.equal(again.before, again.entry);
  });
  it('two dims, marked in any order, are joined one at a time in dim order: excluded_sizes is the last join\'s old size', () => {
    const p = emptyProfile();
    const r = see(p, [4, 6, 8], [48, 8, 1], [0, 2]);
    assert.deepEqual(r.entry.size, [DYNAMIC, 6, DYNAMIC]);
    // |= at dim 0 left (4, 6, 8); |= at dim 2 then left (None, 6, 8)
    assert.deepEqual(r.entry.excluded_sizes, [null, 6, 8]);
  });
  it('an unmarked dim that changes is logged as update_automatic_dynamic logs it; the mark adds no record', () => {
    const p = emptyProfile();
    see(p, [8, 128], [128, 1], []);
    const r = see(p, [16, 128], [128, 1], [1]);
    assert.deepEqual(r.records, [{ name: "L['x']", dim_changed: 0, reason: 'size change', cached: '8', new: '16' }]);
    assert.deepEqual(r.entry.size, [DYNAMIC, DYNAMIC]);
    assert.deepEqual(r.entry.excluded_sizes, [null, 128]);
    assert.deepEqual(r.before?.size, [8, 128]);
  });
  it('an observation that keeps the entry and a mark that changes it: before is the entry as it was', () => {
    const p = emptyProfile();
    see(p, [8, 128], [128, 1], []);
    const r = see(p, [8, 128], [128, 1], [1]);
    assert.notEqual(r.before, r.entry);
    assert.deepEqual(r.before?.size, [8, 128]);
    assert.deepEqual(r.entry.size, [8, DYNAMIC]);
    assert.deepEqual(r.entry.excluded_sizes, [8, 128]);
    assert.deepEqual(r.records, []);
  });
  it('a size already dynamic by a rank change stays so (no tuple: excluded_sizes as the rank change left it)', () => {
    const p = emptyProfile();
    see(p, [8, 128], [128, 1], []);
    see(p, [8], [1], []);
    const r = see(p, [8, 128], [128, 1], [0]);
    assert.equal(r.entry.size, DYNAMIC);
    assert.deepEqual(r.entry.excluded_sizes, [8, 128]);
    assert.equal(r.before, r.entry);
  });
});
