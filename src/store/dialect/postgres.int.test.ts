import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshPgDatabase } from '../../../test/support/postgres.ts';
import { openDatabase } from '../database.ts';
import { EVENT_COLUMNS, type EventRow } from './dialect.ts';
import { packEvents } from './pg-rows.ts';

describe('PostgreSQL bridge', () => {
  it('issue 11.7: raw rows of numbers and nulls (packed across the bridge) equal the rows of the same query read as objects', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const q = `select a, b, c from (values (1::int8, null::float8, 'NaN'::float8), (9007199254740991, '-0'::float8, 'Infinity'::float8),
               (null, 1795600000000.25, '-Infinity'::float8), (-5, 5e-324, 1.7976931348623157e308)) v(a, b, c)`;
    const raw = sql.allRaw(q);
    const objects = sql.all<{ a: number | null; b: number | null; c: number | null }>(q).map((r) => [r.a, r.b, r.c]);
    assert.deepEqual(raw, objects);
    assert.equal(raw.length, 4);
    assert.ok(Object.is(raw[1][1], -0));
    // mixed rows (text) go as they are
    assert.deepEqual(sql.allRaw("select 1::int8, 'x', null::text union all select 2, null, 'y'"), [[1, 'x', null], [2, null, 'y']]);
    await db.close();
  });

  it('issue 11.7: a read run again comes by COPY (binary, its parameters written in) with the rows its first run gave, value for value, hostile text and numbers included', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    sql.exec(`create table odd(k int8 primary key, i2 int2, i4 int4, i8 int8, f8 float8, t text, v varchar(20), x xid8, b bool, f4 float4, n numeric)`);
    const texts = ['a\tb', 'back\\slash', "it's", 'new\nline\r', '☃ \u00e9 \ud83d\ude00', '\\N', '', 'plain', '?', "'?'"];
    const floats = [-0, 0, NaN, Infinity, -Infinity, 5e-324, -1.5, 1e300, 0.1, 1795600000000.25, 2 ** 53 + 2];
    const ints = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1)];
    for (let k = 0; k < 60; k++) {
      const at = <T,>(xs: T[]) => (k % 7 === 6 ? null : xs[k % xs.length]);
      sql.run('insert into odd values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', k, k % 5 === 4 ? null : (k * 911) % 32768 - 16384, at(ints.map((v) => v | 0)), at(ints), at(floats), at(texts), at(texts.map((t) => t.slice(0, 20))), k % 5 === 3 ? null : String(2 ** 40 + k), k % 2 === 0, k / 3, k / 7);
    }
    // beyond 53 bits: rounded as Number() rounds their text
    sql.run("insert into odd(k, i8, x) values (100, 9007199254740993, '18446744073709551615'), (101, -9223372036854775808, '9007199254740995')");
    const read = (q: string, ...p: unknown[]) => [sql.allRaw(q, ...p), sql.allRaw(q, ...p), sql.allRaw(q, ...p)];
    const same = ([first, ...again]: unknown[][][]) => {
      for (const rows of again) assert.deepEqual(rows, first);
      assert.ok(first.length > 0);
      // deepEqual takes -0 for 0: each value alike by Object.is
      for (const rows of again) rows.forEach((r, i) => r.forEach((v, j) => assert.ok(Object.is(v, first[i][j]), `row ${i} column ${j}: ${String(v)} against ${String(first[i][j])}`)));
    };
    same(read('select k, i2, i4, i8, f8, t, v, x from odd where k >= ? and t is distinct from ? order by k', 0, "it's"));
    same(read("select k, t, '?' as q from odd where t = ? or k < ? order by k", "it's", 3)); // a literal ? stays
    same(read('select k, i8 from odd where t = ? or k > ? order by k', 'back\\slash', 98)); // a backslash: not written in
    same(read('select k, b, f4, n from odd where k < ? order by k', 50)); // types COPY is not read for: rows as text
    same(read('select k, x::text, x from odd where x is not null and k between ? and ? order by k limit 7', 0, 1000));
    assert.deepEqual(sql.allRaw('select i8, x from odd where k > ? order by k', 99), [[9007199254740992, 18446744073709552000], [-9223372036854775808, 9007199254740996]]);
    await db.close();
  });

  it('issue 11.7: a prefetched page is kept across statements that change none of its rows, and dropped by those that may', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const page = 'select position, profile_id from events where position > ? order by position';
    const insert = (p: number) => sql.run("insert into events(position, profile_id, kind, body_id, time, idempotency_key) values (?, 1, 'shape.observed', 1, 0, ?)", p, p);
    insert(1);
    sql.dialect.prefetchRaw!(sql, page, [0]);
    sql.all('select count(*) from sources'); // a read: kept
    sql.run("insert into sources(source) values ('x')"); // no events: kept
    assert.deepEqual(sql.allRaw(page, 0), [[1, 1]]);
    sql.dialect.prefetchRaw!(sql, page, [0]);
    insert(2); // the events: the page is read again
    assert.deepEqual(sql.allRaw(page, 0), [[1, 1], [2, 1]]);
    sql.immediate(() => {
      sql.dialect.prefetchRaw!(sql, page, [0]);
      sql.exec('savepoint a');
      insert(3);
      sql.dialect.prefetchRaw!(sql, page, [0]);
      sql.exec('rollback to savepoint a'); // transaction control: dropped
      assert.deepEqual(sql.allRaw(page, 0), [[1, 1], [2, 1]]);
    });
    await db.close();
  });

  it('issue 11.7: a write in a transaction goes without waiting: its count is the one a waited write gives, and its failure fails the transaction, which keeps nothing', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const sources = () => sql.all<{ source: string }>('select source from sources order by source').map((r) => r.source);
    sql.run("insert into sources(source) values ('a'), ('b')");
    const waited = sql.run("update sources set source = source || '1' where source in ('a', 'b')").changes;
    const posted = sql.immediate(() => sql.run("update sources set source = source || '2' where source like '%1'").changes);
    assert.deepEqual([waited, posted], [2, 2]);
    assert.equal(sql.immediate(() => sql.run("insert into sources(source) values ('c') on conflict do nothing").changes), 1);
    assert.deepEqual(sources(), ['a12', 'b12', 'c']);
    // a failing write: the transaction fails at its next waiting call (here its commit) and keeps nothing
    assert.throws(() =>
      sql.immediate(() => {
        sql.run("insert into sources(source) values ('d')");
        sql.run("insert into sources(source) values ('a12')"); // unique
      }),
    /duplicate key/);
    assert.deepEqual(sources(), ['a12', 'b12', 'c']);
    // the connection goes on
    assert.equal(sql.immediate(() => sql.run("insert into sources(source) values ('e')").changes), 1);
    // outside a transaction a failure is at once
    assert.throws(() => sql.run("insert into sources(source) values ('e')"), /duplicate key/);
    await db.close();
  });

  it('issue 11.7: a batch by COPY (its binary data written in the worker) stores what the insert stores, hostile text and numbers included', async () => {
    const [copied, inserted] = [await openDatabase(freshPgDatabase()), await openDatabase(freshPgDatabase())];
    const odd = ['a\tb', 'back\\slash', 'new\nline\r', '☃ \u00e9 \ud83d\ude00', '\\N', '', 'plain'];
    const rows: EventRow[] = Array.from({ length: 300 }, (_, i) => [
      1 + (i % 3), i % 7 === 0 ? 'run.retracted' : 'shape.observed', i % 5 === 0 ? null : i, i % 4 === 0 ? null : 2 * i, 1 + i, 1795600000000 + i * 0.125, i % 3 === 0 ? null : 9007199254740991 - i, null, i % 2 ? i : null, i % 2 ? odd[i % odd.length] : null, 2 ** 52 + i,
    ]);
    // odd numbers: -0 (stored as 0), NaN and infinite times, negative and 2^32-edged ids
    const times = [-0, NaN, Infinity, -Infinity, 5e-324, -1.5, 1e300];
    const ids = [-0, -1, -(2 ** 32), 2 ** 32 - 1, 2 ** 32, -(2 ** 53 - 1)];
    for (let i = 0; i < rows.length; i += 11) {
      const r = rows[i];
      r[5] = times[i % times.length];
      r[2] = ids[i % ids.length];
      r[8] = ids[(i + 1) % ids.length];
    }
    const positions = copied.sql.immediate(() => copied.sql.dialect.insertEvents(copied.sql, rows)); // one batch: COPY
    const one = inserted.sql.immediate(() => [0, 100, 200].flatMap((i) => inserted.sql.dialect.insertEvents(inserted.sql, rows.slice(i, i + 100)))); // small batches: the insert
    assert.deepEqual(positions, one);
    const stored = (db: typeof copied) => db.sql.allRaw(`select position, ${EVENT_COLUMNS} from events order by position`);
    assert.deepEqual(stored(copied), stored(inserted));
    assert.deepEqual(stored(copied).map((r) => r[10]), rows.map((r) => r[9]));
    await copied.close();
    await inserted.close();
  });
  it('issue 11.7: a COPY-sized batch holding a key twice, or a key already stored, gets what the insert gives it: the first row of a key, taken keys 0, positions alike', async () => {
    const [copied, inserted] = [await openDatabase(freshPgDatabase()), await openDatabase(freshPgDatabase())];
    const rows = (from: number, repeatAt = -1): EventRow[] =>
      Array.from({ length: 300 }, (_, i) => [1, 'shape.observed', 1, 1, 1 + i, i, null, null, i, null, i === repeatAt ? from : from + i]);
    const stored = (db: typeof copied) => db.sql.allRaw(`select position, ${EVENT_COLUMNS} from events order by position`);
    // keys repeated far apart and side by side, falling but none repeated, stored, partly stored
    const batches = [rows(1000, 299), rows(2000), rows(2000), rows(3000), [...rows(3000).slice(0, 10), ...rows(4000).slice(10)], rows(5000).reverse(), rows(6000, 1)];
    for (const b of batches) {
      // one batch of 300 (COPY where it can), against 3 of 100 (the insert) in one transaction
      // a COPY that meets a taken key fails its transaction as a serialization failure, which the ledger runs again (ledger.ts)
      const copy = () => copied.sql.immediate(() => copied.sql.dialect.insertEvents(copied.sql, b));
      let a: number[];
      try {
        a = copy();
      } catch (e) {
        assert.equal((e as { code?: string }).code, '40001');
        a = copy();
      }
      const one = inserted.sql.immediate(() => [0, 100, 200].flatMap((i) => inserted.sql.dialect.insertEvents(inserted.sql, b.slice(i, i + 100))));
      assert.deepEqual(a.map((p) => p !== 0), one.map((p) => p !== 0));
    }
    const keys = (db: typeof copied) => stored(db).map((r) => [r[5], r[11]]); // body and key: positions differ where a COPY took some and the insert then ran
    assert.deepEqual(keys(copied), keys(inserted));
    assert.equal(stored(copied).length, 300 - 1 + 300 + 300 + 290 + 300 + 300 - 1);
    await copied.close();
    await inserted.close();
  });

  it('issue 11.7: statements posted in a transaction are held back and sent, in order, ahead of the next call: a prefetched page, the counts and a failure come out as when each was sent at once', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const page = 'select position from events where position > ? order by position';
    const insert = (p: number) => sql.run("insert into events(position, profile_id, kind, body_id, time, idempotency_key) values (?, 1, 'shape.observed', 1, 0, ?)", p, p);
    insert(1);
    const r = sql.immediate(() => {
      sql.dialect.prefetchRaw!(sql, page, [0]);
      const held = insert(2); // held back: sent with the next call, where it drops the page taken before it
      const page1 = sql.allRaw(page, 0);
      sql.dialect.prefetchRaw!(sql, page, [0]);
      const counted = sql.run("insert into sources(source) values ('x'), ('y')"); // no events: the page stays
      const page2 = sql.allRaw(page, 0);
      return { page1, page2, held: held.changes, counted: counted.changes };
    });
    assert.deepEqual(r, { page1: [[1], [2]], page2: [[1], [2]], held: 1, counted: 2 });
    // a held-back write that fails: the transaction fails at its commit and keeps nothing
    assert.throws(() =>
      sql.immediate(() => {
        insert(3);
        insert(3);
      }),
    /duplicate key/);
    assert.deepEqual(sql.allRaw(page, 0), [[1], [2]]);
    await db.close();
  });

  it('statements posted in a row go to the server as one query: each count is its own, array parameters and locks included, and a failure among them fails the transaction, which keeps nothing', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const sources = () => sql.all<{ source: string }>('select source from sources order by source').map((r) => r.source);
    const counts = sql.immediate(() => {
      sql.dialect.lock(sql, [3, 1, 2]);
      const added = sql.run("insert into sources(source) values (?), (?), ('c')", "it's", 'b?');
      const renamed = sql.run('update sources set source = source || ? where source in (?, ?)', '!', 'b?', 'c');
      const none = sql.run('delete from sources where source = ?', 'none');
      const locks = sql.get<{ n: number }>("select count(*)::int n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")!.n;
      return [added.changes, renamed.changes, none.changes, locks];
    });
    assert.deepEqual(counts, [3, 2, 0, 4]);
    assert.deepEqual(sources(), ['b?!', 'c!', "it's"]);
    assert.throws(() =>
      sql.immediate(() => {
        sql.run("insert into sources(source) values ('d')");
        sql.run("insert into sources(source) values ('c!')"); // unique
        sql.run("insert into sources(source) values ('e')");
      }),
    /duplicate key/);
    assert.deepEqual(sources(), ['b?!', 'c!', "it's"]);
    // the connection goes on
    assert.equal(sql.immediate(() => sql.run("insert into sources(source) values ('f')").changes), 1);
    await db.close();
  });

  it("a pipelined batch's COPY goes after the statements posted after it that name no events, in its query, and before any that does: their counts are their own, and a statement on the events sees the batch's rows", async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const pg = sql as unknown as { later(fn: () => void): number; settle(ticket: number): void; copyAt(s: string, first: number, e: unknown): void; send(): void };
    const rows: EventRow[] = Array.from({ length: 300 }, (_, i) => [1, 'shape.observed', 1, 1, 1 + i, i, null, null, i, null, 1000 + i]);
    const copy = `copy events(position, ${EVENT_COLUMNS}) from stdin with (format binary)`;
    sql.run("insert into sources(source) values ('a')");
    let counts: number[] = [];
    const ticket = pg.later(() => {
      pg.copyAt(copy, 1, packEvents(rows));
      const renamed = sql.run("update sources set source = source || '!' where source = ?", 'a'); // goes ahead of the COPY
      const seen = sql.run('update events set time = time + 1 where position <= ?', 5); // names events: after it
      counts = [renamed.changes, seen.changes];
    });
    pg.send();
    pg.settle(ticket);
    assert.deepEqual(counts, [1, 5]);
    assert.deepEqual(sql.allRaw('select count(*)::int, sum(time)::int from events'), [[300, rows.reduce((n, r) => n + (r[5] as number), 0) + 5]]);
    assert.deepEqual(sql.allRaw('select source from sources'), [['a!']]);
    // a statement failing ahead of the COPY fails the batch: nothing of it is written, and the connection goes on
    const failed = pg.later(() => {
      pg.copyAt(copy, 301, packEvents(rows.map((r) => [...r.slice(0, 10), 5000 + (r[10] as number)])));
      sql.run('insert into sources(source) values (?)', 'a!'); // unique
    });
    pg.send();
    assert.throws(() => pg.settle(failed), /duplicate key/);
    assert.deepEqual(sql.allRaw('select count(*)::int from events'), [[300]]);
    assert.equal(sql.immediate(() => sql.run("insert into sources(source) values ('b')").changes), 1);
    await db.close();
  });

  it('issue 11.7: a read asked for ahead (Dialect.ask) gives the rows the same read gives when made, as objects or raw, back with a later call or not yet; one left untaken is dropped with its transaction; its failure fails the transaction', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const ask = sql.dialect.ask!;
    sql.exec('create table odd(k int8 primary key, f8 float8, t text)');
    const texts = ["it's", 'a\tb', 'back\\slash', '\u2603 \ud83d\ude00', '', null];
    for (let k = 0; k < 12; k++) sql.run('insert into odd values (?, ?, ?)', k, [-0, 0.1, null, 1795600000000.25][k % 4], texts[k % texts.length]);
    sql.run("update odd set f8 = '-0'::float8 where k = 8"); // a parameter -0 is sent as 0
    const q = 'select k, f8, t from odd where k >= ? and (t is null or t <> ?) order by k';
    const objects = sql.all(q, 1, '');
    const raw = sql.allRaw(q, 1, '');
    const count = 'select count(*)::int n from odd where k < ?';
    const r = sql.immediate(() => {
      ask(sql, q, [1, '']);
      ask(sql, count, [100]);
      ask(sql, q, [2, '']);
      sql.run("insert into sources(source) values ('x')"); // held back, sent with the next call
      sql.get('select 1'); // a call that waits: the asked answers come back with it
      const asObjects = sql.all(q, 1, '');
      const n = sql.get<{ n: number }>(count, 100)!.n;
      ask(sql, q, [1, '']);
      const asRaw = sql.allRaw(q, 1, ''); // its answer not back yet: taken in the worker
      const other = sql.allRaw(q, 2, ''); // other parameters: its own answer
      ask(sql, count, [5]); // never taken
      return { asObjects, n, asRaw, other };
    });
    assert.deepEqual(r.asObjects, objects);
    assert.deepEqual(r.asRaw, raw);
    assert.ok(r.asRaw.some((row) => row[0] === 8 && Object.is(row[1], -0)) && r.asObjects.some((o) => (o as { k: number }).k === 8 && Object.is((o as { f8: number }).f8, -0)));
    assert.deepEqual(r.other, raw.slice(1));
    assert.equal(r.n, 12);
    // the untaken answer went with its transaction: the read is made afresh
    sql.run('insert into odd(k) values (-1)');
    assert.equal(sql.get<{ n: number }>(count, 5)!.n, 6);
    // a failing asked read fails the transaction at its next call that waits, and nothing is kept
    assert.throws(() =>
      sql.immediate(() => {
        sql.run("insert into sources(source) values ('y')");
        ask(sql, 'select 1 / (k - k) from odd where k = ?', [3]);
        sql.get('select 1');
      }),
    /division by zero/);
    assert.deepEqual(sql.all<{ source: string }>('select source from sources order by source').map((s) => s.source), ['x']);
    // outside a transaction an asked read runs when made
    ask(sql, count, [2]);
    assert.equal(sql.get<{ n: number }>(count, 2)!.n, 3);
    await db.close();
  });

  it('issue 11.7: dictionary rows interned in one statement (added and found together) get the ids a lookup finds, new, stored and mixed, in the order asked', async () => {
    const db = await openDatabase(freshPgDatabase());
    const { sql } = db;
    const intern = sql.dialect.internRows!;
    const body = (s: string) => new TextEncoder().encode(s);
    const lookUp = (rows: unknown[][]) => rows.map((r) => sql.dialect.findBody(sql, r[0] as string, r[1] as number, r[2] as Uint8Array)!);
    const a = [['shape.observed', 1, body('{"a":1}')], ['shape.observed', 1, body('x\u0000\\\t☃')], ['run.retracted', 2, new Uint8Array([0x78, 0, 255])]];
    const first = intern(sql, 'bodies', a);
    assert.deepEqual(first, lookUp(a));
    assert.equal(new Set(first).size, 3);
    const b = [a[2], ['shape.observed', 2, body('{"a":1}')], a[0]]; // stored, new (another version), stored
    assert.deepEqual(intern(sql, 'bodies', b), lookUp(b));
    assert.deepEqual(intern(sql, 'bodies', a), first); // all stored
    const runs = ['r1', "it's", 'r\u00e9'].map((r) => [r]);
    const ids = intern(sql, 'runs', runs);
    assert.deepEqual(intern(sql, 'runs', [runs[2], ['r0'], runs[0]]).filter((_, i) => i !== 1), [ids[2], ids[0]]);
    const runOf = new Map(sql.allRaw('select id, run from runs').map((r) => [r[0], r[1]]));
    assert.deepEqual(ids.map((id) => runOf.get(id)), ['r1', "it's", 'r\u00e9']);
    assert.equal(runOf.size, 4);
    await db.close();
  });

  it('issue 11.7: a batch takes its positions as one block (take_positions), by COPY or insert: those nextval gave one by one, a skipped key\'s left unused; the sequence goes on after the block; a take that fails leaves its lock free', async () => {
    const url = freshPgDatabase();
    const db = await openDatabase(url);
    const { sql } = db;
    const rows = (from: number, n: number): EventRow[] => Array.from({ length: n }, (_, i) => [1, 'shape.observed', 1, 1, 1, 0, null, null, i, null, from + i]);
    const a = sql.immediate(() => sql.dialect.insertEvents(sql, rows(1000, 300)));
    assert.deepEqual(a, Array.from({ length: 300 }, (_, i) => 1 + i));
    // by insert (a small batch): the row whose key is taken had its position (302) taken too, as the column's default took it
    const b = sql.immediate(() => sql.dialect.insertEvents(sql, [...rows(7000, 1), ...rows(1000, 1), ...rows(7001, 1)]));
    assert.deepEqual(b, [301, 0, 303]);
    assert.equal(sql.get<{ n: number }>("select nextval(pg_get_serial_sequence('events', 'position')) n")!.n, 304);
    const c = sql.immediate(() => sql.dialect.insertEvents(sql, rows(8000, 300)));
    assert.deepEqual(c, Array.from({ length: 300 }, (_, i) => 305 + i));
    // a COPY that meets a taken key fails (its block 605-904 left unused) and runs again with its keys looked up: a taken one
    // found, its block (905-1204) is taken all the same, as nextval took them, and the insert takes its own (1205-1504)
    const again = () => sql.immediate(() => sql.dialect.insertEvents(sql, rows(1000, 300)));
    assert.throws(again, (e: { code?: string }) => e.code === '40001');
    assert.deepEqual(again(), new Array(300).fill(0));
    const d = sql.immediate(() => sql.dialect.insertEvents(sql, rows(9500, 300)));
    assert.deepEqual(d, Array.from({ length: 300 }, (_, i) => 1505 + i));
    // the sequence at its end: the take fails, the batch with it, and another connection takes the lock at once
    sql.get("select setval(pg_get_serial_sequence('events', 'position'), 9223372036854775807)");
    assert.throws(() => sql.immediate(() => sql.dialect.insertEvents(sql, rows(9000, 300))), /maximum value/);
    const other = await openDatabase(url);
    assert.equal(other.sql.get<{ ok: boolean }>('select pg_try_advisory_lock(1885826931) ok')!.ok, true);
    await other.close();
    assert.equal(sql.get<{ n: number }>('select count(*)::int n from events')!.n, 902);
    await db.close();
  });
});
