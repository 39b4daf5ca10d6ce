import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envDuring } from '../../test/support/env.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { openLedger, type NewEvent } from './ledger.ts';
import { recompileStats } from './stats.ts';
import { explain } from './why.ts';

/**
 * `why`'s values seen are in first-seen order, by position, whatever brought them: PyTorch's
 * records count theirs while why's state folds (why-fold.ts), the observations' and imports'
 * are added from the bodies at read time, and the second used to come after the first.
 */
const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const observed = (i: number, run: string, d0: number): NewEvent => ({
  kind: 'shape.observed',
  cacheKey: 'v:None:',
  time: T0 + i * 1000,
  run,
  idempotencyKey: `obs-${i}`,
  payload: { code, source: "L['x']", shape: { kind: 'tensor', size: [d0, 3], stride: [3, 1] }, automatic_dynamic: true },
});
const logged = (i: number, run: string, cached: string, value: string): NewEvent => ({
  kind: 'dynamic.logged',
  cacheKey: 'v:None:',
  time: T0 + i * 1000,
  run,
  compileId: '0/1',
  idempotencyKey: `rec-${i}`,
  payload: { code, source: "L['x']", record: { dim_changed: 0, reason: 'size change', cached, new: value }, guard: null },
});

/** An observation of 8, a trace's record bringing 16, an observation of 32, then 16 and 8 again. */
const LOG = [observed(0, 'r1', 8), logged(1, 't', '8', '16'), observed(2, 'r2', 32), observed(3, 'r2', 16), observed(4, 'r1', 8)];
/** What a user must get: 8 first (#1), then 16 (the record, #2), then 32 (#3); counts and runs as before. */
const WANT = [
  { value: '8', count: 2, runs: ['r1'] },
  { value: '16', count: 2, runs: ['t', 'r2'] },
  { value: '32', count: 1, runs: ['r2'] },
];

for (const dialect of DIALECTS)
  describe(`${dialect}: why's values seen`, () => {
    it('come in first-seen order across observations and PyTorch records (8, then the record 16, then 32)', async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'v.db'));
      try {
        l.append(LOG);
        const pid = l.profileByKey('v:None:')!.id;
        const [d0] = explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 0 } });
        assert.equal(d0.dynamic, true);
        assert.deepEqual(d0.values, WANT);
        // every dim (no --source) tells the same list
        assert.deepEqual(explain(l, pid).find((s) => s.dim.field === 'size' && s.dim.index === 0)!.values, WANT);
        // a window up to the record: 8, then 16
        assert.deepEqual(explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 0 }, window: { untilPosition: d0.first!.position + 1 } })[0].values.map((v) => v.value), ['8', '16']);
        // stats counts the same values, rarest first: equal counts keep the first-seen order
        const [w] = recompileStats(l, { job: 'v' }).filter((x) => x.dims.length);
        assert.deepEqual(w.dims[0].values, [{ value: '32', count: 1 }, { value: '8', count: 2 }, { value: '16', count: 2 }]);
      } finally {
        await l.close();
      }
    });

    describe('from a why-checkpoint', () => {
      envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '2');
      it('the state read back from a checkpoint gives the same order', async () => {
        const l = await openLedger(ledgerAt(dialect, tempDir(), 'c.db'));
        try {
          // a batch an event, so that checkpoints fall between them
          for (const e of LOG) l.append([e]);
          assert.ok(l.sql.get<{ n: number }>('select count(*) n from why_checkpoints')!.n >= 2);
          const pid = l.profileByKey('v:None:')!.id;
          assert.deepEqual(explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 0 } })[0].values, WANT);
        } finally {
          await l.close();
        }
      });
    });
  });
