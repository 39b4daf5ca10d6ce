import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { openDatabase } from './database.ts';

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
});
