import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { traceEvents, traceReader } from '../adapters/ingest-trace.ts';
import { openLedger, type NewEvent } from './ledger.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

const dir = tempDir();

function fixtureEvents(): NewEvent[] {
  const file = join(TORCH, 'traces/cold-local.log');
  const r = traceReader();
  readFileSync(file, 'utf8').split('\n').forEach((l, i) => r.push(l, i + 1));
  r.end();
  const t = traceEvents(r, file, {});
  assert.ok(t.settled);
  return t.events;
}

for (const dialect of DIALECTS) describe(`${dialect}: watch cursors (issue 12.2)`, () => {
  it('issue 12.2: a cursor is written in the transaction of its events: a failed append leaves neither, a good one both', async () => {
    const db = ledgerAt(dialect, dir, 'c.db');
    const l = await openLedger(db);
    const events = fixtureEvents();
    const cursor = { input: 'file:1:2', identity: 'head:3:abc', offset: 1234, hash: null, complete: false, path: '/x/trace.log', updatedAt: 5 };
    const bad = { ...events[0], payload: { nonsense: true } } as unknown as NewEvent;
    assert.throws(() => l.appendWith([...events, bad], [cursor]));
    assert.equal(l.cursor('file:1:2'), undefined);
    assert.equal(l.profiles().length, 0);
    const r = l.appendWith(events, [cursor]);
    assert.equal(r.appended, events.length);
    assert.deepEqual(l.cursor('file:1:2'), cursor);
    // replaced, not added; and read back by another connection
    l.appendWith([], [{ ...cursor, offset: 99999, complete: true, hash: 'h' }]);
    await l.close();
    const again = await openLedger(db);
    assert.deepEqual(again.cursor('file:1:2'), { ...cursor, offset: 99999, complete: true, hash: 'h' });
    assert.equal(again.profiles()[0].eventCount, events.length);
    await again.close();
  });
});
