import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { beginImmediate, openDatabase } from './database.ts';

describe('SQLite write transactions (Sql.immediate)', () => {
  it('a writer waits for the lock no longer than its busy timeout, is left in no transaction, and writes once the lock is free', async () => {
    const path = join(tempDir(), 'lock.db');
    const a = await openDatabase(path);
    const b = await openDatabase(path, { busyTimeoutMs: 50 });
    a.sql.exec('create table t(x integer)');
    a.sql.immediate(() => {
      a.sql.run('insert into t values (1)');
      const t = Date.now();
      assert.throws(() => b.sql.immediate(() => b.sql.run('insert into t values (2)')), (e: unknown) => (e as { code?: string }).code === 'SQLITE_BUSY');
      assert.ok(Date.now() - t >= 45, 'waited the busy timeout');
    });
    b.sql.immediate(() => b.sql.run('insert into t values (3)'));
    assert.deepEqual(a.sql.allRaw('select x from t order by x'), [[1], [3]]);
    await a.close();
    await b.close();
  });

  it('the wait for the lock retries every kind of busy (SQLite\'s busy handler does: SQLITE_BUSY_RECOVERY while another connection rebuilds the WAL index), and nothing else', () => {
    const busy = (code: string) => Object.assign(new Error('database is locked'), { code });
    const db = (errors: Error[]) => {
      const seen: string[] = [];
      return { seen, pragma: (s: string) => void seen.push(s), exec: (s: string) => { seen.push(s); const e = errors.shift(); if (e) throw e; return db; } };
    };
    const a = db([busy('SQLITE_BUSY'), busy('SQLITE_BUSY_RECOVERY'), busy('SQLITE_BUSY_SNAPSHOT')]);
    assert.equal(beginImmediate(a as never, 1000), true, 'waited');
    assert.deepEqual(a.seen, ['busy_timeout = 0', ...Array(4).fill('BEGIN IMMEDIATE'), 'busy_timeout = 1000']);
    const b = db([]);
    assert.equal(beginImmediate(b as never, 1000), false, 'no wait');
    const c = db([busy('SQLITE_BUSY_RECOVERY'), busy('SQLITE_IOERR')]);
    assert.throws(() => beginImmediate(c as never, 1000), (e: unknown) => (e as { code?: string }).code === 'SQLITE_IOERR');
    assert.equal(c.seen.at(-1), 'busy_timeout = 1000', 'the busy timeout given back');
  });

  it('a throw rolls the whole transaction back; a nested one is a savepoint of it', async () => {
    const db = await openDatabase(join(tempDir(), 'tx.db'));
    const { sql } = db;
    sql.exec('create table t(x integer)');
    assert.throws(() => sql.immediate(() => {
      sql.run('insert into t values (1)');
      throw new Error('no');
    }), /no/);
    sql.immediate(() => {
      sql.run('insert into t values (2)');
      assert.throws(() => sql.immediate(() => {
        sql.run('insert into t values (3)');
        throw new Error('inner');
      }), /inner/);
    });
    assert.deepEqual(sql.allRaw('select x from t'), [[2]]);
    await db.close();
  });

  it('a writer keeps statement journals in memory (no file in /var/tmp), and a statement that fails part-way is still undone alone', async () => {
    const path = join(tempDir(), 'journal.db');
    const db = await openDatabase(path);
    const { sql } = db;
    assert.equal(sql.get<{ temp_store: number }>('pragma temp_store')!.temp_store, 2);
    sql.exec('create table t(x integer primary key, y integer not null)');
    sql.immediate(() => {
      sql.run('insert into t values (1, 1)');
      // a statement of many rows whose last row fails: the rows before it in the statement are undone, not the transaction
      const rows = Array.from({ length: 2000 }, (_, i) => `(${i + 2}, ${i === 1999 ? 'null' : i})`).join(', ');
      assert.throws(() => sql.run(`insert into t values ${rows}`), /NOT NULL/);
      sql.run('insert into t values (3, 3)');
    });
    assert.deepEqual(sql.allRaw('select x, y from t'), [[1, 1], [3, 3]]);
    await db.close();
    const read = await openDatabase(path, { readonly: true });
    assert.equal(read.sql.get<{ temp_store: number }>('pragma temp_store')!.temp_store, 0, 'a reader keeps the default (its sorts may be big)');
    await read.close();
  });
});
