import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { CodeId } from '../model/code-id.ts';
import { decodeView, emptyViewRows, encodeView } from './checkpoints.ts';
import type { Dictionaries } from './log.ts';

const codes: CodeId[] = [1, 2, 3].map((i) => ({ filename: `f${i}.py`, firstlineno: i, name: `fn${i}`, file_hash: '' }));
const dict = { code: (row: number) => codes[row - 1], load: () => {} } as unknown as Dictionaries;
const rowOf = (c: CodeId) => codes.indexOf(c) + 1;
const entry = (size: unknown[]) => ({ scalar: 'unset', size, stride: 'unset' });
/** A view of codes 1 and 2 (rows), as a checkpoint stores it. */
const view = () =>
  decodeView(
    deflateSync(
      JSON.stringify([
        [0, 1, [["L['x']", entry([4, 8])]]],
        [1, 2, [["L['y']", entry([2])]]],
      ]),
    ),
    dict,
  );

describe('checkpoints: a view encoded again', () => {
  it('issue 10.7: with no row changed since, the last bytes again (what a fresh encoding gives); a dirty row or a new code id, encoded anew', () => {
    const v = view();
    const kept = emptyViewRows();
    const first = encodeView(v, rowOf, kept);
    const again = encodeView(v, rowOf, kept);
    assert.equal(again, first, 'not deflated again');
    assert.deepEqual(again, encodeView(v, rowOf));
    // a fold step changed code 1's entry in place and marked its row
    const [k1, c1] = [...v.profile.codes][0];
    c1.state.automaticDynamic.get("L['x']")!.size = [4, 16] as never;
    kept.dirty.add(k1);
    const changed = encodeView(v, rowOf, kept);
    assert.notDeepEqual(changed, first);
    assert.deepEqual(changed, encodeView(v, rowOf));
    // a code id new to the view, its row not marked: anew
    v.profile.codes.set('new', { id: codes[2], state: { automaticDynamic: new Map() } });
    v.codeSeq.set('new', 2);
    const grown = encodeView(v, rowOf, kept);
    assert.notDeepEqual(grown, changed);
    assert.deepEqual(grown, encodeView(v, rowOf));
  });
});
