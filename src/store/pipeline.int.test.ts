import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envDuring } from '../../test/support/env.ts';
import { execOn, freshPgDatabase, textRows } from '../../test/support/postgres.ts';
import { lineContext, parseObservationLine } from '../adapters/observation-lines.ts';
import { openLedger, type AppendResult, type Ledger } from './ledger.ts';
import { prepareEvent, type PreparedEvent } from './prepare-event.ts';

/**
 * Issue 11.7 on PostgreSQL: Ledger.appendPipelined posts a batch's commit and folds the next
 * batch from what this one left while the server writes it; the next batch's transaction
 * checks that under its locks. Whatever another writer does between batches, the tables must
 * be what appendPrepared, batch after batch, stores.
 */
const pad = 'p'.repeat(40);
const BATCH = 300;

function line(i: number, batch: number): string {
  const code = i % 7;
  const source = i % 3;
  const grow = code === 2 ? 3 + Math.floor(batch / 3) : 3;
  const o: Record<string, unknown> = { job: `j${i % 2}`, run: `run-${batch % 3}`, time: 1795600000 + batch * 1000 + i, code: { filename: `/srv/${pad}/m${code}.py`, firstlineno: 10 + code, name: `f${code}`, file_hash: 'ab' } };
  if (source === 2) Object.assign(o, { source: "L['n']", kind: 'scalar', value: code === 4 ? batch % 2 : 7 });
  else Object.assign(o, { source: `L['x${source}']`, kind: 'tensor', size: [8, grow], stride: [grow, 1] });
  return JSON.stringify(o);
}

function batchOf(b: number): PreparedEvent[] {
  const ctx = lineContext('in.jsonl', {});
  return Array.from({ length: BATCH }, (_, i) => prepareEvent(parseObservationLine(line(i, b), b * BATCH + i + 1, ctx)));
}

/** Another writer's event on profile j1, its line k of its own input. */
function otherWriter(other: Ledger, k: number): void {
  const text = JSON.stringify({ job: 'j1', run: 'other', time: 1795600000 + k, code: { filename: `/srv/${pad}/m3.py`, firstlineno: 13, name: 'f3', file_hash: 'ab' }, source: "L['x0']", kind: 'tensor', size: [100 + k, 3], stride: [3, 1] });
  other.append([parseObservationLine(text, k + 1, lineContext('other.jsonl', {}))]);
}

/** Every table but Kysely's, by its key (xid8 columns left out: they differ from run to run). */
function tables(db: string): Record<string, string[][]> {
  const out: Record<string, string[][]> = {};
  for (const [t] of textRows(db, "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely%' order by 1")) {
    const cols = textRows(db, `select string_agg(quote_ident(column_name), ', ' order by ordinal_position) from information_schema.columns where table_schema = 'public' and table_name = '${t}' and data_type <> 'xid8'`)[0][0];
    out[t] = textRows(db, `select ${cols} from ${t} order by 1, 2`);
  }
  return out;
}

describe('issue 11.7: batches whose commits are not waited for (PostgreSQL)', () => {
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '400'); // checkpoints and why's state written by batches folded ahead

  it("another writer appending to a batch's profile between batches: every table as appendPrepared's; each batch's result once it committed, in order", async () => {
    const stored: Record<string, string[][]>[] = [];
    let lagged = 0;
    for (const pipelined of [true, false]) {
      const db = freshPgDatabase();
      const a = await openLedger(db);
      const other = await openLedger(db);
      const results: AppendResult[] = [];
      try {
        for (let b = 0; b < 14; b++) {
          if (pipelined) {
            a.appendPipelined(batchOf(b), (r) => results.push(r));
            // the batch's commit not waited for: its result comes with the next call
            if (results.length < b + 1) lagged++;
          } else results.push(a.appendPrepared(batchOf(b)));
          if (b === 6 || b === 10) otherWriter(other, b);
        }
        a.settle();
      } finally {
        await a.close();
        await other.close();
      }
      assert.deepEqual(
        results.map((r) => [r.appended, r.duplicates]),
        Array.from({ length: 14 }, () => [BATCH, 0]),
      );
      for (let b = 1; b < results.length; b++) assert.ok(results[b].firstPosition! > results[b - 1].lastPosition!);
      stored.push(tables(db));
    }
    assert.ok(lagged >= 4, `${lagged} batches pipelined`);
    const [got, want] = stored;
    assert.equal(want.events.length, 14 * BATCH + 2);
    assert.ok(want.why_checkpoints.length > 4 && want.history.length > 4);
    assert.deepEqual(got, want);
  });

  it('a batch that fails for good throws, with nothing of it nor of the batch folded after it written, and no result for either', async () => {
    const db = freshPgDatabase();
    const a = await openLedger(db);
    // the 8th batch's first event fails as it is written
    const [bad] = batchOf(7);
    execOn(db, `create function boom() returns trigger language plpgsql as $$ begin raise exception 'boom'; end $$;
      create trigger boom before insert on events for each row when (new.idempotency_key = ${bad.idem}) execute function boom()`);
    const results: AppendResult[] = [];
    let failedAt = -1;
    try {
      for (let b = 0; b < 12 && failedAt < 0; b++) {
        try {
          a.appendPipelined(batchOf(b), (r) => results.push(r));
        } catch (e) {
          assert.match((e as Error).message, /boom/);
          failedAt = b;
        }
      }
      assert.equal(failedAt, 8); // met as the batch after it was posted
      assert.doesNotThrow(() => a.settle());
    } finally {
      await a.close();
    }
    assert.equal(results.length, 7);
    assert.deepEqual(textRows(db, 'select count(*), max(position) from events'), [[String(7 * BATCH), String(results[6].lastPosition)]]);
    assert.deepEqual(textRows(db, 'select sum(event_count) from profiles'), [[String(7 * BATCH)]]);
  });
});
