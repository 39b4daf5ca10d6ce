import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../test/support/tmp.ts';
import { openDatabase } from '../database.ts';
import type { EventRow } from './dialect.ts';

describe('SQLite insertEvents', () => {
  it('statements of many rows give each row the position that one row at a time gives it: taken keys (in the log, earlier in the batch) 0, the rest ascending', async () => {
    const db = await openDatabase(join(tempDir(), 'rows.db'));
    const { sql } = db;
    let x = 99;
    const rnd = (k: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % k);
    const taken = new Set<number>();
    let last = 0;
    const row = (key: number): EventRow => [1, 'shape.observed', 1, 1, 1, 1000, null, null, 7, null, key];
    // batches of several sizes around the statements' 500 and 100 rows; keys drawn from a small range so that many repeat
    for (const [n, range] of [[250, 10_000], [100, 10_000], [100, 50], [340, 400], [99, 400], [1000, 2000], [100, 2000]]) {
      const rows = Array.from({ length: n }, () => row(2 ** 40 + rnd(range)));
      const want = rows.map((r) => (taken.has(r[10]) ? 0 : (taken.add(r[10]), ++last)));
      const got = sql.immediate(() => sql.dialect.insertEvents(sql, rows));
      assert.deepEqual(got, want, `${n} rows of ${range} keys`);
    }
    assert.equal(sql.get<{ n: number }>('select count(*) n from events')!.n, last);
    await db.close();
  });
  it("a statement of one kind takes it as a literal; mixed kinds, and a kind that is no plain word (a quote in it), are bound: each row stores the kind it came with", async () => {
    const db = await openDatabase(join(tempDir(), 'kinds.db'));
    const { sql } = db;
    const kinds = ['shape.observed', 'entry.imported', "it's'); drop table events; --", 'Shape.Observed', 'dynamic.logged'];
    let key = 2 ** 40;
    const rows: EventRow[] = [];
    // statements of 500 and of 100: one kind (a literal), mixed kinds (one odd row among 500), the odd kind, another plain kind; a tail of 37
    const segments: [number, (k: number) => number][] = [[500, () => 0], [500, (k) => (k === 250 ? 3 : 1)], [100, (k) => k % 5], [100, () => 2], [100, () => 4], [37, (k) => (k * 7) % 5]];
    for (const [n, pick] of segments) for (let k = 0; k < n; k++) rows.push([1, kinds[pick(k)], 1, 1, 1, 1000 + k, null, null, k, null, key++]);
    const got = sql.immediate(() => sql.dialect.insertEvents(sql, rows));
    assert.deepEqual(got, rows.map((_, i) => i + 1));
    const stored = sql.allRaw('select position, kind, typeof(kind), time, origin_line, idempotency_key from events order by position');
    assert.deepEqual(stored, rows.map((r, i) => [i + 1, r[1], 'text', r[5], r[8], r[10]]));
    await db.close();
  });
  it('every column of every row is stored as one row at a time stores it, statement after statement of each size and layout (the bind arrays refilled: no value of an earlier statement stays)', async () => {
    const many = await openDatabase(join(tempDir(), 'many.db'));
    const one = await openDatabase(join(tempDir(), 'one.db'));
    let key = 2 ** 40;
    // nulls and values trading places between statements; times and keys past 2**31 (doubles)
    const row = (k: number, kind: string, odd: boolean): EventRow => [
      1 + (k % 3), kind, odd ? null : k % 7, odd ? null : k % 5, 1 + (k % 11), 1.7e12 + k * 1000, odd ? 4 : null, odd ? null : 2, odd ? null : k, odd ? `${k}/0` : null, key++,
    ];
    const batches: EventRow[][] = [];
    for (const [n, mixed, odd] of [[500, false, false], [500, true, true], [500, false, true], [100, true, false], [100, false, true], [100, true, true], [600, false, false], [37, true, false]] as const) {
      batches.push(Array.from({ length: n }, (_, k) => row(k, mixed && k % 2 ? 'entry.imported' : 'shape.observed', odd !== (k % 4 === 0))));
    }
    for (const b of batches) {
      many.sql.immediate(() => many.sql.dialect.insertEvents(many.sql, b));
      one.sql.immediate(() => b.forEach((r) => one.sql.dialect.insertEvents(one.sql, [r])));
    }
    const all = (db: typeof many) => db.sql.allRaw('select * from events order by position');
    assert.equal(all(many).length, batches.flat().length);
    assert.deepEqual(all(many), all(one));
    await many.close();
    await one.close();
  });
  it('a long stretch of one run and origin and no compile id (their values then written into the statements): every column stored, type and all, as one row at a time stores it, taken keys skipped, and where the stretch ends the values are bound again', async () => {
    const many = await openDatabase(join(tempDir(), 'stretch-many.db'));
    const one = await openDatabase(join(tempDir(), 'stretch-one.db'));
    let key = 2 ** 40;
    const row = (k: number, run: number | null, origin: number | null, compile: string | null = null): EventRow => [1 + (k % 4), 'shape.observed', 1 + (k % 7), 1 + (k % 5), 1 + (k % 11), 1.7e12 + k * 1000, run, origin, k, compile, key++];
    const stretch = (n: number, run: number | null, origin: number | null) => Array.from({ length: n }, (_, k) => row(k, run, origin));
    const kinded = (r: EventRow, kind: string) => [r[0], kind, ...r.slice(2)] as EventRow;
    // batches of 10,000 as an ingest writes them: a stretch of 30 statements (one of them of two
    // kinds), on into the next
    // batch; a run that ends inside a statement; a null run; a compile id in one row; a run
    // id that is no integer (bound); one stretch again, its keys partly taken
    const batches: EventRow[][] = [stretch(10_000, 3, 1).map((r, k) => (k === 9_250 ? kinded(r, 'entry.imported') : r)), stretch(5_250, 3, 1).concat(stretch(4_750, 4, 1)), stretch(7_000, null, 2), stretch(6_600, 5, 1).map((r, k) => (k === 6_400 ? row(k, 5, 1, '0/1') : r)), stretch(7_000, 2.5, 1)];
    const again = stretch(8_000, 3, 1);
    for (let k = 0; k < again.length; k += 3) again[k][10] = batches[0][k][10];
    batches.push(again);
    for (const b of batches) {
      const got = many.sql.immediate(() => many.sql.dialect.insertEvents(many.sql, b));
      const want = one.sql.immediate(() => b.map((r) => one.sql.dialect.insertEvents(one.sql, [r])[0]));
      assert.deepEqual(got, want);
    }
    const all = (db: typeof many) =>
      db.sql.allRaw('select *, typeof(profile_id), typeof(run_id), typeof(origin_id), typeof(compile_id), typeof(time), typeof(idempotency_key) from events order by position');
    const stored = all(many);
    assert.equal(stored.length, batches.flat().length - Math.ceil(8_000 / 3));
    assert.deepEqual(stored, all(one));
    await many.close();
    await one.close();
  });
});
