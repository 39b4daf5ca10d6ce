import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyBinary, copyReads, copyRows, packEvents, packRows, unpackRows } from './pg-rows.ts';

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

describe('PostgreSQL bridge: packed events and their binary COPY', () => {
  /** COPY's binary format read back by the spec (PostgreSQL's COPY page): the int8 columns as integers, time as float8, the text columns as UTF-8. */
  const decode = (b: Uint8Array): unknown[][] => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    assert.deepEqual([...b.subarray(0, 11)], [...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')]);
    assert.deepEqual([v.getInt32(11), v.getInt32(15)], [0, 0]);
    let at = 19;
    const rows: unknown[][] = [];
    for (;;) {
      const fields = v.getInt16(at);
      at += 2;
      if (fields === -1) break;
      assert.equal(fields, 12);
      const row: unknown[] = [];
      for (let f = 0; f < fields; f++) {
        const len = v.getInt32(at);
        at += 4;
        if (len === -1) row.push(null);
        else if (f === 2 || f === 10) row.push(Buffer.from(b.subarray(at, at + len)).toString('utf8'));
        else if (f === 6) row.push(v.getFloat64(at));
        else row.push(Number(v.getBigInt64(at)));
        if (len !== -1) at += len;
      }
      rows.push(row);
    }
    assert.equal(at, b.length);
    return rows;
  };

  it('issue 11.7: the binary COPY the worker writes holds the values of each row (escapes, unicode, nulls, negatives, -0 as 0, 2^53-1, fractional and odd times)', () => {
    const rows: unknown[][] = [
      [1, 'shape.observed', 113, 5, 35, 1795600000000, 1, 1, 1, null, 7933045113880577],
      [2, 'run.retracted', null, null, 36, 1795600000000.125, null, null, null, 'a\tb\\c\nd\re', 2 ** 53 - 1],
      [3, 'shape.observed', 0, -0, 1, 5e-324, 9007199254740991, 0, -1, '0/1 ☃ \u0000x', 1],
      [4, 'entry.imported', 7, 8, 9, 1e21, 2, 3, -(2 ** 53 - 1), '', 42],
      [1, 'shape.observed', 113, 5, 35, -0, 1, 1, 2, null, 7933045113880578],
      [5, 'shape.observed', -4294967296, -4294967297, 4294967296, NaN, 4294967295, 1, 2, null, 0],
      [6, 'shape.observed', 1, 1, 1, Infinity, 1, 1, 1, null, 1],
    ];
    // positions from a first one on (one block), the last 2^53-1
    const first = 2 ** 53 - rows.length;
    const positions = rows.map((_, i) => first + i);
    const packed = packEvents(rows);
    assert.ok(packed);
    assert.deepEqual(packed.kinds, ['shape.observed', 'run.retracted', 'entry.imported']);
    const want = rows.map((r, i) => [positions[i], ...r].map((x) => (Object.is(x, -0) ? 0 : x)));
    const got = decode(copyBinary(first, packed));
    assert.deepEqual(got, want);
    assert.ok(Object.is(got[4][6], 0)); // -0 as the text format wrote it: 0
    // no compile id anywhere: none crosses
    const plain = rows.map((r) => [...r.slice(0, 9), null, r[10]]);
    assert.equal(packEvents(plain)!.compileIds, null);
    assert.deepEqual(decode(copyBinary(first, packEvents(plain)!)), plain.map((r, i) => [positions[i], ...r].map((x) => (Object.is(x, -0) ? 0 : x))));
    assert.deepEqual(decode(copyBinary(1, packEvents([])!)), []);
  });

  it('issue 11.7: a batch COPY written in parts (header with the first, trailer with the last) is byte for byte the whole', () => {
    const ids = [null, 'a\tb', '☃ \ud83d\ude00', '', null];
    const rows = Array.from({ length: 2503 }, (_, i) => [i % 3, ['shape.observed', 'run.retracted'][i % 2], i % 5 === 0 ? null : i, i, 7, i * 0.5, null, 1, i, ids[i % ids.length], 2 ** 52 + i]);
    for (const packed of [packEvents(rows)!, packEvents(rows.map((r) => [...r.slice(0, 9), null, r[10]]))!]) {
      const whole = copyBinary(5, packed);
      for (const cuts of [[0, 2503], [0, 1, 2503], [0, 1000, 2000, 2503], [0, 2502, 2503], [0, 7, 7, 2503]]) {
        const parts = cuts.slice(1).map((to, j) => copyBinary(5, packed, cuts[j], to));
        assert.deepEqual(Buffer.concat(parts), Buffer.from(whole), `cut at ${cuts.join(', ')}`);
        // bytes reserved at the start (the worker's CopyData header): the same part after them
        const reserved = cuts.slice(1).map((to, j) => copyBinary(5, packed, cuts[j], to, 5));
        reserved.forEach((r, j) => assert.deepEqual(Buffer.from(r.subarray(5)), Buffer.from(parts[j])));
      }
    }
    assert.deepEqual(Buffer.from(copyBinary(1, packEvents([])!, 0, 0)), Buffer.from(copyBinary(1, packEvents([])!)));
  });

  it('issue 11.7: a batch with a value its column does not take is not packed (the store inserts it instead)', () => {
    const good: unknown[] = [1, 'shape.observed', 1, 1, 1, 0, null, null, null, null, 1];
    for (const [j, odd] of [[0, '1'], [5, 1n], [10, undefined], [1, 3], [9, 7], [4, true], [2, 1.5], [10, 2 ** 53], [0, NaN], [6, Infinity], [3, -(2 ** 53)]] as [number, unknown][]) {
      const bad = [...good];
      bad[j] = odd;
      assert.equal(packEvents([good, bad]), undefined, `column ${j}: ${String(odd)}`);
    }
    assert.equal(packEvents([good.slice(0, 10)]), undefined);
    // the time is a float8: any number
    for (const t of [NaN, Infinity, 0.5, -0]) assert.ok(packEvents([[...good.slice(0, 5), t, ...good.slice(6)]]));
  });
  it('issue 11.7: rows read from a binary COPY (a scan page by COPY TO) are the rows written, past the first buffer, text by index, -0 as 0, nulls and 53-bit ints', () => {
    const kinds = ['shape.observed', 'run.retracted', 'shape.described'];
    const ids = [null, 'a\tb', '☃ \ud83d\ude00', '', "it's", '\\N'];
    const rows = Array.from({ length: 3001 }, (_, i) => [
      i % 9 === 0 ? null : i % 4, kinds[i % 3], i % 5 === 0 ? null : -i, i, 2 ** 53 - 1 - i, i % 7 === 0 ? -0 : [NaN, Infinity, -Infinity, 0.1, -1.5e300][i % 5] * (i + 1), null, -(2 ** 52) + i, i * 2 ** 32, ids[i % ids.length], 2 ** 52 + i,
    ]);
    // positions across 2^32 (the high word from 0 to 1)
    const first = 2 ** 32 - 1500;
    const positions = rows.map((_, i) => first + i);
    const data = copyBinary(first, packEvents(rows)!);
    // the COPY's columns: position, then EventRow's (EVENT_COLUMNS): int8, text, float8
    const types = [20, 20, 25, 20, 20, 20, 701, 20, 20, 20, 25, 20];
    assert.ok(copyReads(types));
    assert.ok(!copyReads([20, 16]) && !copyReads([700]) && !copyReads([1700]) && !copyReads([17]) && !copyReads([]));
    const back = unpackRows(copyRows(data, types));
    assert.equal(back.length, rows.length);
    back.forEach((r, i) => {
      const want = [positions[i], ...rows[i]].map((v) => (Object.is(v, -0) ? 0 : v)); // -0 goes as 0 (copyBinary)
      assert.equal(r.length, want.length);
      r.forEach((v, j) => assert.ok(Object.is(v, want[j]), `row ${i} column ${j}: ${String(v)} against ${String(want[j])}`));
    });
    // text columns are indexes into the page's strings, each distinct string once
    const packed = copyRows(data, types);
    assert.deepEqual([...packed.texts!], types.map((t) => (t === 25 ? 1 : 0)));
    assert.equal(packed.strings!.length, kinds.length + ids.length - 1);
    assert.throws(() => copyRows(data, types.slice(1)), /12 fields, 11 expected/);
  });
});

describe('PostgreSQL bridge: a lone float8[] column', () => {
  /** A binary COPY of one float8[] column: each row's array (null: SQL null), as array_send writes it. */
  function copyOfArrays(rows: ((number | null)[] | null)[]): Uint8Array {
    const parts: Buffer[] = [Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]), Buffer.alloc(8)];
    const int = (n: number, bytes: 2 | 4) => {
      const b = Buffer.alloc(bytes);
      if (bytes === 2) b.writeInt16BE(n);
      else b.writeInt32BE(n);
      return b;
    };
    for (const r of rows) {
      parts.push(int(1, 2));
      if (r === null) {
        parts.push(int(-1, 4));
        continue;
      }
      const body: Buffer[] = r.length === 0 ? [int(0, 4), int(0, 4), int(701, 4)] : [int(1, 4), int(r.includes(null) ? 1 : 0, 4), int(701, 4), int(r.length, 4), int(1, 4)];
      for (const x of r) {
        if (x === null) body.push(int(-1, 4));
        else {
          const f = Buffer.alloc(8);
          f.writeDoubleBE(x);
          body.push(int(8, 4), f);
        }
      }
      const b = Buffer.concat(body);
      parts.push(int(b.length, 4), b);
    }
    parts.push(int(-1, 2));
    return new Uint8Array(Buffer.concat(parts));
  }

  it('issue 11.7: comes as its elements, one a row, past the first buffer (a page aggregated by array_agg), null arrays and empty ones giving none', () => {
    const page = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? 1 : 2 ** 52 + i * 2));
    const rows = [page, null, [], [-0, NaN, null, 5]];
    const packed = copyRows(copyOfArrays(rows), [1022]);
    assert.equal(packed.width, 1);
    assert.deepEqual(unpackRows(packed), [...page, -0, NaN, null, 5].map((x) => [x]));
    assert.deepEqual(unpackRows(copyRows(copyOfArrays([null]), [1022])), []);
    assert.ok(copyReads([1022]));
    assert.ok(!copyReads([1022, 20]), 'only as the one column');
  });
});
