import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envDuring } from '../../test/support/env.ts';
import { storedTables } from '../../test/support/tables.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { lineContext, parseObservationLine } from '../adapters/observation-lines.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { AppendMemo, prepareEvent, type PreparedEvent } from './prepare-event.ts';

/**
 * A memo new to a batch takes the outcome an earlier batch's memo kept for the same event but
 * for its time and run (append.ts, carriedMemo): each batch here gives every rest a new memo,
 * runs change from batch to batch, entries change (automatic dynamic off, growing dims), and
 * another writer appends between batches. Every table must be what the append without memos stores.
 */
const pad = 'p'.repeat(40);

function line(i: number, batch: number): string {
  const code = i % 7;
  const source = i % 3;
  const grow = code === 2 ? 3 + Math.floor(batch / 2) : 3;
  const o: Record<string, unknown> = { job: `j${i % 2}`, run: `run-${batch % 3}`, time: 1795600000 + batch * 1000 + i, code: { filename: `/srv/${pad}/m${code}.py`, firstlineno: 10 + code, name: `f${code}`, file_hash: 'ab' } };
  if (source === 2) Object.assign(o, { source: "L['n']", kind: 'scalar', value: code === 4 ? batch % 2 : 7 });
  else Object.assign(o, { source: `L['x${source}']`, kind: 'tensor', size: [8, grow], stride: [grow, 1] });
  if (code === 5 && batch % 4 === 1 && i < 14) Object.assign(o, { automatic_dynamic: false }, source === 2 ? { value: 99 } : { size: [99, grow] });
  return JSON.stringify(o);
}

function otherWriter(other: Ledger, k: number): void {
  const text = JSON.stringify({ job: 'j1', run: 'other', time: 1795600000 + k, code: { filename: `/srv/${pad}/m3.py`, firstlineno: 13, name: 'f3', file_hash: 'ab' }, source: "L['x0']", kind: 'tensor', size: [100 + k, 3], stride: [3, 1], automatic_dynamic: false });
  other.append([parseObservationLine(text, k + 1, lineContext('other.jsonl', {}))]);
}

const tables = (path: string) => storedTables(path);

/** One batch's events; with memos, one new memo per distinct line but for its time (a wire rest). */
function batchOf(b: number, withMemos: boolean): PreparedEvent[] {
  const ctx = lineContext('in.jsonl', {});
  const memos = new Map<string, AppendMemo>();
  return Array.from({ length: 300 }, (_, i) => {
    const text = line(i, b);
    const ev = prepareEvent(parseObservationLine(text, b * 300 + i + 1, ctx));
    if (withMemos && ev.kind === 'shape.observed') {
      const rest = text.replace(/"time":\d+,/, '');
      let m = memos.get(rest);
      if (!m) memos.set(rest, (m = new AppendMemo()));
      ev.memo = m;
    }
    return ev;
  });
}

describe("the append's memos carried across batches", () => {
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '400'); // why's state in the live views, checkpoints between batches

  it('a new memo per rest and batch, runs changing, another writer between batches: every table as without memos', async () => {
    const dir = tempDir();
    const stored: Record<string, unknown[]>[] = [];
    for (const withMemos of [true, false]) {
      const path = join(dir, `${withMemos}.db`);
      const a = await openLedger(path);
      const other = await openLedger(path);
      try {
        for (let b = 0; b < 16; b++) {
          const r = a.appendPrepared(batchOf(b, withMemos));
          assert.equal(r.appended, 300);
          if (b % 5 === 3) otherWriter(other, b);
        }
      } finally {
        await a.close();
        await other.close();
      }
      stored.push(tables(path));
    }
    const [got, want] = stored;
    assert.ok((want.why_checkpoints as unknown[]).length > 4 && (want.history as unknown[]).length > 4);
    assert.deepEqual(got, want);
  });
});

describe("the append's memos and an entry a logged record replaced", () => {
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '400');

  it("a record of the same writer between batches gives an entry memos kept a new object: every table as without memos", async () => {
    const dir = tempDir();
    const stored: Record<string, unknown[]>[] = [];
    // the profile, code id and source of line 0 (job j0, m0.py, L['x0'], size [8, 3])
    const first = parseObservationLine(line(0, 0), 1, lineContext('in.jsonl', {}));
    assert.equal(first.kind, 'shape.observed');
    const record = (b: number) =>
      prepareEvent({
        kind: 'dynamic.logged',
        cacheKey: first.cacheKey,
        time: 1795600000 + b * 1000 + 999,
        idempotencyKey: `record-${b}`,
        payload: { code: first.payload.code, source: first.payload.source, record: { dim_changed: 0, reason: 'size change', cached: '8', new: String(9 + b) }, guard: null },
      });
    for (const withMemos of [true, false]) {
      const path = join(dir, `${withMemos}.db`);
      const a = await openLedger(path);
      try {
        for (let b = 0; b < 12; b++) {
          a.appendPrepared(batchOf(b, withMemos));
          // the fold takes the entry out of its place (applyLoggedRecord gives a new one), changing no other
          if (b % 4 === 1) assert.equal(a.appendPrepared([record(b)]).appended, 1);
        }
      } finally {
        await a.close();
      }
      stored.push(tables(path));
    }
    const [got, want] = stored;
    assert.ok((want.why_checkpoints as unknown[]).length > 4);
    assert.deepEqual(got, want);
  });
});
