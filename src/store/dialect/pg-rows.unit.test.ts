import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packRows, unpackRows } from './pg-rows.ts';

describe('PostgreSQL bridge: packed rows', () => {
  it('issue 11.7: rows of numbers and nulls come back value for value (-0, NaN, infinities, 2^53, null in every column)', () => {
    const rows = [
      [1, null, -0, 0, Number.MAX_SAFE_INTEGER],
      [NaN, Infinity, -Infinity, 2 ** 53, null],
      [null, null, null, null, null],
      [1795600000000.5, -1, 5e-324, Number.MIN_SAFE_INTEGER, 1.7976931348623157e308],
    ];
    const packed = packRows(rows, 5);
    assert.ok(packed);
    const back = unpackRows(packed);
    assert.deepEqual(back, rows); // deepEqual tells -0 from 0 and takes NaN as NaN
    assert.ok(Object.is(back[0][2], -0));
    assert.deepEqual(unpackRows(packRows([], 3)!), []);
  });

  it('issue 11.7: a row with anything else (text, boolean, buffer, bigint, undefined) or of another width is not packed: the page goes as it is', () => {
    for (const odd of ['1', true, Buffer.from('x'), 1n, undefined, { a: 1 }, [1]]) assert.equal(packRows([[1, 2], [3, odd]], 2), undefined, String(odd));
    assert.equal(packRows([[1, 2], [3]], 2), undefined);
    assert.equal(packRows([[1, 2, 3]], 2), undefined);
  });
});
