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

describe('the append\'s checkpoints', () => {
  it("a new profile's report counts counted along from its first event, and each view's checkpoint rows kept between checkpoints, write the bytes that counts read from the log and rows encoded afresh write", async () => {
    const { writeFileSync } = await import('node:fs');
    const { openLedger } = await import('./ledger.ts');
    const { ingestFile } = await import('../adapters/ingest-file.ts');
    const { verifyLedger } = await import('./verify.ts');
    const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
    // two jobs, the second new in the fourth file; some dims changing now and then (code ids changed between checkpoints), most never
    const lines = (from: number, n: number): string => {
      const out: string[] = [];
      for (let i = from; i < from + n; i++) {
        const job = i >= 300 && i % 3 === 0 ? 'b' : 'a';
        const c = i % 20;
        // code ids 0, 4, 8, 12 and 16 turn dynamic one after another, checkpoints apart; a source new late
        const d0 = c % 4 === 0 && i > 150 + c * 40 ? 16 : 8;
        const source = i > 900 && c === 5 ? "L['z']" : ["L['x']", "L['y']"][i % 2];
        out.push(JSON.stringify({ job, run: `r${Math.floor(i / 250)}`, time: new Date(T0 + i * 1000).toISOString(), code: { ...code(c), firstlineno: 3 + c }, source, kind: 'tensor', size: [d0, 4], stride: [4, 1] }));
      }
      return out.join('\n') + '\n';
    };
    const dir = tempDir();
    const files = Array.from({ length: 14 }, (_, k) => {
      const f = join(dir, `part${k}.jsonl`);
      writeFileSync(f, lines(k * 90, 90));
      return f;
    });
    const tables = (l: Awaited<ReturnType<typeof openLedger>>) => [
      l.sql.allRaw('select profile_id, position, event_count, max_time, hex(state) from checkpoints order by profile_id, position'),
      l.sql.allRaw('select profile_id, position, hex(state), hex(counts) from why_checkpoints order by profile_id, position'),
    ];
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '100';
    try {
      // kept open: the counts and rows carried from batch to batch
      const kept = await openLedger(join(dir, 'kept.db'));
      for (const f of files) await ingestFile(kept, f);
      // opened again for every file: each checkpoint's counts read from the log, its rows encoded afresh (no file crosses two)
      for (const f of files) {
        const fresh = await openLedger(join(dir, 'fresh.db'));
        await ingestFile(fresh, f);
        await fresh.close();
      }
      const fresh = await openLedger(join(dir, 'fresh.db'));
      const want = tables(fresh);
      assert.ok(want[0].length >= 8 && want[1].length >= 8, `${want[0].length} checkpoints, ${want[1].length} why-checkpoints`);
      assert.deepEqual(tables(kept), want);
      assert.deepEqual(verifyLedger(kept).differences, []);
      await kept.close();
      await fresh.close();
    } finally {
      delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    }
  });
});
