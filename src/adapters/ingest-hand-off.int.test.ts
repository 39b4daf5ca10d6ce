import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { staged } from '../../test/support/staged-ledger.ts';
import { storedTables } from '../../test/support/tables.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { openLedger } from '../store/ledger.ts';
import { ingestObservations } from './ingest-observations.ts';

/** A big file (past 4 MiB) of two jobs, sizes that change, blank lines, and bad lines where asked. */
function bigFile(path: string, n: number, bad: number[] = []): void {
  const lines: string[] = [];
  const padding = 'p'.repeat(120);
  for (let i = 0; i < n; i++) {
    const code = i % 37;
    const dim = (Math.floor(i / 1024) % 4 === 1 ? 16 : 8) * (1 + (code % 3));
    lines.push(
      bad.includes(i)
        ? `{"job": "j0", "code": {"filename": "a.py", "firstlineno": 1, "name": "f"}, "source": ${i}, "kind": "scalar", "value": 1}`
        : JSON.stringify({ job: `j${i % 2}`, run: `run-${Math.floor(i / 9000)}`, time: 1795600000 + Math.floor(i / 1000), code: { filename: `/srv/${padding}/m${code}.py`, firstlineno: 10 + code, name: `f${code}` }, source: `L['x${i % 5}']`, kind: 'tensor', size: [dim, 3], stride: [3, 1] }),
    );
    if (i % 5000 === 4999) lines.push('');
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const TABLES = ['profiles', 'origins', 'sources', 'runs', 'bodies', 'codes', 'events', 'history', 'code_states', 'profile_runs'];
/** The tables; with `checkpoints`, those too (derived data, taken at a transaction's last event of a profile). */
const tables = (path: string, checkpoints = false) => storedTables(path, checkpoints ? [...TABLES, 'checkpoints', 'why_checkpoints'] : TABLES);

describe('a big file between the worker and the writing thread', () => {
  const dir = tempDir();
  const file = join(dir, 'big.jsonl');
  bigFile(file, 65_000, [0, 12_345, 31_000, 64_999]); // the first line bad: the input is named by its second
  const opts = { skipInvalid: true };

  let ref: Promise<{ sum: unknown; skips: string[] }> | undefined;
  const reference = () => (ref ??= worker());
  async function worker(): Promise<{ sum: unknown; skips: string[] }> {
    const l = await openLedger(join(dir, 'worker.db'));
    try {
      const skips: string[] = [];
      const sum = await ingestObservations(l, file, { ...opts, worker: true, onSkip: (m) => skips.push(m) });
      return { sum, skips };
    } finally {
      await l.close();
    }
  }

  async function run(db: string, writes: number, meetFrom?: number): Promise<{ sum: unknown; skips: string[]; sizes: number[] }> {
    const l = await openLedger(join(dir, db));
    try {
      const s = staged(l, writes, meetFrom);
      const skips: string[] = [];
      const sum = await ingestObservations(s.ledger, file, { ...opts, onSkip: (m) => skips.push(m) });
      return { sum, skips, sizes: s.sizes };
    } finally {
      await l.close();
    }
  }

  it('a first file alone: two batches parsed here, the rest by a worker from the line after them; the same log, counts and skipped lines', async () => {
    const ref = await reference();
    const r = await run('alone.db', 0);
    assert.deepEqual(r.sum, ref.sum);
    assert.deepEqual(r.skips, ref.skips);
    assert.equal(r.skips.length, 4);
    assert.deepEqual(r.sizes, [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 4_996]);
    assert.deepEqual(tables(join(dir, 'alone.db'), true), tables(join(dir, 'worker.db'), true), 'the same transactions: the same checkpoints too');
  });

  it("on the worker, a transaction meets another writer: the rest parsed here from the batch's next line, a batch a transaction", async () => {
    const r = await run('met.db', 2, 2);
    const ref = await reference();
    assert.deepEqual(r.sum, ref.sum);
    assert.deepEqual(r.skips, ref.skips, 'each bad line said once: none the worker read past the hand-over twice');
    assert.deepEqual(r.sizes, [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 4_996]);
    assert.deepEqual(tables(join(dir, 'met.db'), true), tables(join(dir, 'worker.db'), true), 'the same transactions: the same checkpoints too');
  });

  it('met from the first transaction: all of it here, a batch a transaction', async () => {
    const r = await run('crowded.db', 0, 1);
    const ref = await reference();
    assert.deepEqual(r.sum, ref.sum);
    assert.deepEqual(r.skips, ref.skips);
    assert.deepEqual(r.sizes, [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 4_996]);
    assert.deepEqual(tables(join(dir, 'crowded.db'), true), tables(join(dir, 'worker.db'), true), 'the same transactions: the same checkpoints too');
  });
});
