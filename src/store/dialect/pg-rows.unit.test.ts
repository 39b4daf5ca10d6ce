import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyText, packEvents, packRows, unpackRows } from './pg-rows.ts';

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

describe('PostgreSQL bridge: packed events and their COPY text', () => {
  // the text the store's thread wrote before the worker did, a value at a time: the reference
  const value = (v: string | number | null) => (v === null ? '\\N' : typeof v === 'number' ? String(v) : v.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]!));
  const reference = (positions: number[], rows: unknown[][]) => rows.map((r, i) => [positions[i], ...r].map((v) => value(v as string | number | null)).join('\t') + '\n').join('');

  it('issue 11.7: the worker writes the text the row-at-a-time writer wrote, hostile values included (escapes, unicode, nulls, -0, huge and fractional numbers)', () => {
    const rows: unknown[][] = [
      [1, 'shape.observed', 113, 5, 35, 1795600000000, 1, 1, 1, null, 7933045113880577],
      [2, 'run.retracted', null, null, 36, 1795600000000.125, null, null, null, 'a\tb\\c\nd\re', 2 ** 53 - 1],
      [3, 'shape.observed', 0, -0, 1, 5e-324, 9007199254740991, 0, -1, '0/1 ☃ \u0000x', 1],
      [4, 'entry.imported', 7, 8, 9, 1e21, 2, 3, 4, '', 42],
      [1, 'shape.observed', 113, 5, 35, 1795600000000, 1, 1, 2, null, 7933045113880578],
    ];
    const positions = [10, 11, 12, 13, 99];
    const packed = packEvents(rows);
    assert.ok(packed);
    assert.deepEqual(packed.kinds, ['shape.observed', 'run.retracted', 'entry.imported']);
    assert.equal(copyText(positions, packed), reference(positions, rows));
    // no compile id anywhere: none crosses
    const plain = rows.map((r) => [...r.slice(0, 9), null, r[10]]);
    assert.equal(packEvents(plain)!.compileIds, null);
    assert.equal(copyText(positions, packEvents(plain)!), reference(positions, plain));
  });

  it('issue 11.7: a batch with a value its column does not take is not packed (the store inserts it instead)', () => {
    const good: unknown[] = [1, 'shape.observed', 1, 1, 1, 0, null, null, null, null, 1];
    for (const [j, odd] of [[0, '1'], [5, 1n], [10, undefined], [1, 3], [9, 7], [4, true]] as [number, unknown][]) {
      const bad = [...good];
      bad[j] = odd;
      assert.equal(packEvents([good, bad]), undefined, `column ${j}: ${String(odd)}`);
    }
    assert.equal(packEvents([good.slice(0, 10)]), undefined);
  });
});
