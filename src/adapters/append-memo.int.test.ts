import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envDuring } from '../../test/support/env.ts';
import { storedTables } from '../../test/support/tables.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { prepareEvent } from '../store/prepare-event.ts';
import { ingestObservations } from './ingest-observations.ts';
import { lineContext, parseObservationLine } from './observation-lines.ts';

/**
 * The append's memo (AppendMemo: ids, counts, the fold's kept entry and why's slot, kept for the
 * events of one wire rest) against the append without it: lines parsed one by one, prepared
 * events, the same batches. Lines parsed by the worker (wire batches, a transaction each), of three jobs in turn,
 * runs changing, dims that cycle and grow, automatic_dynamic off now and then, scalars, and
 * another writer appending to a profile between batches (its live view goes stale).
 */
function mixFile(path: string, n: number): void {
  const lines: string[] = [];
  const padding = 'p'.repeat(150);
  for (let i = 0; i < n; i++) {
    const code = i % 23;
    const source = i % 4;
    const cycle = code % 3 === 0 ? [8, 16, 8, 32][Math.floor(i / 512) % 4] : 8;
    const grow = code % 5 === 0 ? 3 + Math.floor(i / 6000) : 3;
    const line: Record<string, unknown> = { job: `j${i % 3}`, run: `run-${Math.floor(i / 4000)}`, time: 1795600000 + Math.floor(i / 100), code: { filename: `/srv/${padding}/m${code}.py`, firstlineno: 10 + code, name: `f${code}`, file_hash: 'ab' } };
    if (source === 3) Object.assign(line, { source: "L['n']", kind: 'scalar', value: code === 4 ? i % 3 : 7 });
    else Object.assign(line, { source: `L['x${source}']`, kind: 'tensor', size: [cycle, grow], stride: [grow, 1] });
    // automatic dynamic off: the observation overwrites the entry (the one change that makes a shape kept before change it again)
    if (code === 7 && i % 1000 < 30) Object.assign(line, { automatic_dynamic: false }, source === 3 ? { value: 99 } : { size: [99, grow] });
    lines.push(JSON.stringify(line));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const BATCH = 2000;

/** What the other writer appends after the k-th batch: a shape that overwrites an entry of job j1 (automatic dynamic off). */
function otherWriter(other: Ledger, k: number): void {
  const text = JSON.stringify({ job: 'j1', run: 'other', time: 1795600000 + k, code: { filename: `/srv/${'p'.repeat(150)}/m4.py`, firstlineno: 14, name: 'f4', file_hash: 'ab' }, source: "L['x0']", kind: 'tensor', size: [100 + k, 3], stride: [3, 1], automatic_dynamic: false });
  other.append([parseObservationLine(text, k + 1, lineContext('other.jsonl', {}))]);
}

describe('the append with its memo (wire batches) stores what the append without it stores', () => {
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '1500'); // why's state in the live views, checkpoints between batches

  it('every table, byte for byte, with another writer appending between batches', async () => {
    const dir = tempDir();
    const file = join(dir, 'mix.jsonl');
    mixFile(file, 24_000);
    const [memoDb, plainDb] = [join(dir, 'memo.db'), join(dir, 'plain.db')];
    const a = await openLedger(memoDb);
    const a2 = await openLedger(memoDb);
    let k = 0;
    try {
      const s = await ingestObservations(a, file, { worker: true, batchSize: BATCH, onProgress: () => otherWriter(a2, k++) });
      assert.equal(s.appended, 24_000);
      assert.ok(s.records > 0);
    } finally {
      await a.close();
      await a2.close();
    }
    const b = await openLedger(plainDb);
    const b2 = await openLedger(plainDb);
    try {
      const ctx = lineContext(file, {});
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      for (let i = 0, j = 0; i < lines.length; i += BATCH, j++) {
        b.appendPrepared(lines.slice(i, i + BATCH).map((t, n) => prepareEvent(parseObservationLine(t, i + n + 1, ctx))));
        otherWriter(b2, j);
      }
      otherWriter(b2, lines.length / BATCH); // the worker's last batch is empty: the progress after it
    } finally {
      await b.close();
      await b2.close();
    }
    const [got, want] = [storedTables(memoDb), storedTables(plainDb)];
    assert.ok((want.why_checkpoints as unknown[]).length > 10 && (want.history as unknown[]).length > 10);
    assert.deepEqual(got, want);
  });
});
