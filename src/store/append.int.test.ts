import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { internBatch } from './append.ts';
import { openDatabase } from './database.ts';
import { createInterner } from './intern.ts';
import { prepareEvent, type NewEvent } from './prepare-event.ts';

const code = (i: number) => ({ filename: `/srv/m${i % 3}.py`, firstlineno: 3 + (i % 2), name: 'f', file_hash: 'ab' });

/** Events of every shape internBatch reads: kinds, with and without run, origin, line, compile id. */
function events(n: number, salt: number): NewEvent[] {
  return Array.from({ length: n }, (_, i): NewEvent => {
    const k = i + salt;
    const base = {
      cacheKey: `job${k % 3}:${k % 2 ? 'None' : '1'}:`,
      time: 1795600000000 + k,
      run: k % 4 === 0 ? null : `r${k % 5}`,
      origin: k % 6 === 0 ? null : `file${k % 2}.jsonl`,
      originLine: k % 7 === 0 ? null : k,
      compileId: k % 5 === 0 ? `${k}/0` : null,
      idempotencyKey: `e${k}`,
    };
    if (k % 9 === 0) return { ...base, kind: 'run.retracted', payload: { run: `r${k % 5}` } };
    return { ...base, kind: 'shape.observed', payload: { code: code(k), source: `L['x${k % 4}']`, shape: { kind: 'tensor', size: [k % 3, 4], stride: [4, 1] }, automatic_dynamic: k % 8 !== 0 } };
  });
}

describe('internBatch', () => {
  it('rows made into the arrays of an earlier batch (the append reuses them) are the rows made afresh: longer, shorter and empty batches', async () => {
    const db = await openDatabase(join(tempDir(), 'rows.db'));
    const interner = createInterner(db.sql);
    const reuse: ReturnType<typeof internBatch> = [];
    for (const [n, salt] of [[50, 0], [20, 7], [0, 3], [120, 11], [1, 2]]) {
      const batch = events(n, salt).map((e) => prepareEvent(e));
      const fresh = db.sql.immediate(() => internBatch({ interner }, batch));
      const refilled = db.sql.immediate(() => internBatch({ interner }, batch, reuse));
      assert.equal(refilled, reuse);
      assert.deepEqual(refilled, fresh, `${n} events`);
    }
    await db.close();
  });
});
