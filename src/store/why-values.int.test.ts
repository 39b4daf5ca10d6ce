import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { envDuring } from '../../test/support/env.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { openLedger, type NewEvent } from './ledger.ts';
import { dictionaries } from './log.ts';
import { recompileStats } from './stats.ts';
import { verifyLedger } from './verify.ts';
import { explain } from './why.ts';
import { decodeWhyState } from './why-checkpoints.ts';
import { KEEP_ALL, tracks, whyStateText } from './why-fold.ts';

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
        assert.deepEqual(w.dims[0].values, [WANT[2], WANT[0], WANT[1]]);
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

/**
 * A rank change PyTorch logged in a run whose compile started from the profile before another
 * run's rank change made the field dynamic: its record (cached the static tuple that run had,
 * new the tuple it saw) changes nothing in the fold, and its value used to go uncounted.
 */
const rank = (i: number, run: string, _field: 'size' | 'stride', cached: string, value: string): NewEvent => ({
  kind: 'dynamic.logged',
  cacheKey: 'k:None:',
  time: T0 + i * 1000,
  run,
  compileId: '0/1',
  idempotencyKey: `rank-${i}`,
  payload: { code, source: "L['t']", record: { dim_changed: 'all', reason: 'dimensionality change', cached, new: value }, guard: null },
});
const RANK_LOG: NewEvent[] = [
  { kind: 'shape.observed', cacheKey: 'k:None:', time: T0, run: 'r1', idempotencyKey: 'k-0', payload: { code, source: "L['t']", shape: { kind: 'tensor', size: [3, 4], stride: [4, 1] }, automatic_dynamic: true } },
  rank(1, 'a', 'size', '(3, 4)', '(3, 4, 5)'),
  rank(2, 'a', 'stride', '(InferStride(dim=1), 1)', '(InferStride(dim=1), InferStride(dim=2), 1)'),
  // run b loaded the profile of r1 (size (3, 4)) and saw rank 4: the fields are dynamic already
  rank(3, 'b', 'size', '(3, 4)', '(3, 4, 5, 6)'),
  rank(4, 'b', 'stride', '(InferStride(dim=1), 1)', '(InferStride(dim=1), InferStride(dim=2), InferStride(dim=3), 1)'),
];
const RANK_WANT = {
  size: [
    { value: '[3, 4]', count: 1, runs: ['r1'] },
    { value: '[3, 4, 5]', count: 1, runs: ['a'] },
    { value: '[3, 4, 5, 6]', count: 1, runs: ['b'] },
  ],
  stride: [
    // (a contiguous stride is kept as PyTorch keeps it: inferred from the sizes)
    { value: '[S(1), 1]', count: 1, runs: ['r1'] },
    { value: '[S(1), S(2), 1]', count: 1, runs: ['a'] },
    { value: '[S(1), S(2), S(3), 1]', count: 1, runs: ['b'] },
  ],
};

for (const dialect of DIALECTS)
  describe(`${dialect}: why's values seen of a rank change logged where the field was dynamic already`, () => {
    const valuesOf = (l: Awaited<ReturnType<typeof openLedger>>, field: 'size' | 'stride') => explain(l, l.profileByKey('k:None:')!.id, { source: "L['t']", dim: { field } })[0];

    it("count the record's tuple for the field it names (run b's rank 4, after run a's rank 3)", async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'r.db'));
      try {
        l.append(RANK_LOG);
        for (const field of ['size', 'stride'] as const) {
          const s = valuesOf(l, field);
          assert.equal(s.current, '?');
          // the change is run a's record; run b's is the latest PyTorch logged
          assert.equal(s.becameDynamic!.position, field === 'size' ? 2 : 3);
          assert.deepEqual(s.values, RANK_WANT[field]);
        }
      } finally {
        await l.close();
      }
    });

    describe('from why-checkpoints', () => {
      envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '2');
      it('the state a checkpoint holds round-trips; one of an older version (folded without the count) is never started from, and verify passes it', async () => {
        const l = await openLedger(ledgerAt(dialect, tempDir(), 'rc.db'));
        try {
          for (const e of RANK_LOG) l.append([e]);
          const rows = l.sql.allRaw('select position, state from why_checkpoints order by position') as [number, Uint8Array][];
          assert.ok(rows.length >= 2);
          for (const field of ['size', 'stride'] as const) assert.deepEqual(valuesOf(l, field).values, RANK_WANT[field]);
          assert.deepEqual(verifyLedger(l).differences, []);
          // the last checkpoint as an older pgo-ledger wrote it: run b's values left out, version 3
          const [position, state] = rows[rows.length - 1];
          const dict = dictionaries(l.sql);
          const st = decodeWhyState(state, dict, KEEP_ALL);
          const acc = [...st.accs.values()].find((a) => a.source === "L['t']")!;
          for (const field of ['size', 'stride']) tracks(acc).get(field)!.values.delete(field === 'size' ? '[3, 4, 5, 6]' : '[S(1), S(2), S(3), 1]');
          acc.dimsText = undefined;
          for (const t of tracks(acc).values()) t.text = undefined;
          const codeRow = l.sql.get<{ id: number }>('select id from codes')!.id;
          // version 3's form (one piece: a line of dims text a source, then the rows), as an older pgo-ledger wrote it
          const j = JSON.parse(whyStateText(st, () => codeRow, false)) as unknown[][];
          assert.ok(j.length <= 64);
          const piece = deflateRawSync(`\n${j.map((r) => r[3] as string).join('\n')}`);
          const older = Buffer.concat([Buffer.of(0x03, 0, 0, 0, 1, 0, 0, 0, 0), piece, deflateRawSync(JSON.stringify([[], j.map((r) => [r[0], r[1], r[2], r[4], r[5]])]))]);
          older.writeUInt32BE(piece.length, 5);
          l.sql.run('update why_checkpoints set state = ? where position = ?', older, position);
          for (const field of ['size', 'stride'] as const) assert.deepEqual(valuesOf(l, field).values, RANK_WANT[field]);
          // an older row is checked to read, not compared: folded by the older rule, it is no damage
          assert.deepEqual(verifyLedger(l).differences, []);
          l.replay();
          assert.equal(Buffer.from(l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where position = ?', position)!.state)[0], 0x07);
          assert.deepEqual(verifyLedger(l).differences, []);
        } finally {
          await l.close();
        }
      });
    });
  });

/**
 * stats names a record's dim by why's rule (recordDimKey, by recordNamedDim): a record that
 * numbers a dim but whose reason is no size or stride change is folded on the whole field (the
 * rank), as why tells it; stats named it `size[1]` by its number alone.
 */
for (const dialect of DIALECTS)
  it(`${dialect}: stats names a record's dim as why does (a numbered record of no per-dim reason is the whole field's)`, async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 's.db'));
    try {
      l.append([
        { kind: 'shape.observed', cacheKey: 's:None:', time: T0, run: 'r1', idempotencyKey: 's-0', payload: { code, source: "L['t']", shape: { kind: 'tensor', size: [3, 4], stride: [4, 1] }, automatic_dynamic: true } },
        { kind: 'dynamic.logged', cacheKey: 's:None:', time: T0 + 1000, run: 'a', compileId: '0/1', idempotencyKey: 's-1', payload: { code, source: "L['t']", record: { dim_changed: 1, reason: 'other', cached: '(3, 4)', new: '(3, 4, 5)' }, guard: null } },
      ]);
      const [rank] = explain(l, l.profileByKey('s:None:')!.id, { source: "L['t']", dim: { field: 'size' } });
      assert.equal(rank.current, '?');
      assert.equal(rank.becameDynamic!.position, 2);
      const [w] = recompileStats(l, { job: 's' });
      assert.deepEqual(w.dims.map((d) => d.dim), ['size']);
      assert.deepEqual(w.dims[0].values.map((v) => v.value), ['[3, 4]', '[3, 4, 5]']);
    } finally {
      await l.close();
    }
  });

/**
 * PyTorch's own logs: the cold remote run (pid799) started from a profile with L['t'] at rank 2
 * and logged the same rank change as the cold local run (pid576) had, when the ledger held the
 * fields dynamic already: its tuples count too.
 */
it("why's values seen: the cold remote trace's rank change, logged after the cold local one's, counts (3, 4, 5) twice", async () => {
  const l = await openLedger(join(tempDir(), 't.db'));
  try {
    for (const f of ['cold-local.log', 'cold-remote.log']) await ingestFile(l, join(TORCH, 'traces', f));
    const pid = l.profileByKey('fixture:None:')!.id;
    for (const [field, value] of [['size', '[3, 4, 5]'], ['stride', '[S(1), S(2), 1]']] as const) {
      const [s] = explain(l, pid, { source: "L['t']", dim: { field } });
      const v = s.values.find((x) => x.value === value)!;
      assert.equal(v.count, 2, field);
      assert.equal(v.runs.length, 2, field);
    }
  } finally {
    await l.close();
  }
});
