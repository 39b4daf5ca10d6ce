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
    // batches of several sizes around the statement's 100 rows; keys drawn from a small range so that many repeat
    for (const [n, range] of [[250, 10_000], [100, 10_000], [100, 50], [340, 400], [99, 400], [1000, 2000], [100, 2000]]) {
      const rows = Array.from({ length: n }, () => row(2 ** 40 + rnd(range)));
      const want = rows.map((r) => (taken.has(r[10]) ? 0 : (taken.add(r[10]), ++last)));
      const got = sql.immediate(() => sql.dialect.insertEvents(sql, rows));
      assert.deepEqual(got, want, `${n} rows of ${range} keys`);
    }
    assert.equal(sql.get<{ n: number }>('select count(*) n from events')!.n, last);
    await db.close();
  });
});
