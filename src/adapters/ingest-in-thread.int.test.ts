import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { staged } from '../../test/support/staged-ledger.ts';
import { storedTables } from '../../test/support/tables.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { openDatabase } from '../store/database.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { ingestObservations } from './ingest-observations.ts';
import { InputError } from './observation-lines.ts';

/** Lines of two jobs past 4 MiB (a big file): sizes that change, runs, blank lines, a CRLF. */
function bigFile(path: string, n: number, bad?: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = i % 37;
    const dim = (Math.floor(i / 1024) % 4 === 1 ? 16 : 8) * (1 + (code % 3));
    const padding = 'p'.repeat(120); // lines of the bench mix's length, about 270 bytes
    lines.push(
      i + 1 === bad
        ? '{"job": "j0", "code": {"filename": "a.py", "firstlineno": 1, "name": "f"}, "source": 7, "kind": "scalar", "value": 1}'
        : JSON.stringify({ job: `j${i % 2}`, run: `run-${Math.floor(i / 9000)}`, time: 1795600000 + Math.floor(i / 1000), code: { filename: `/srv/${padding}/m${code}.py`, firstlineno: 10 + code, name: `f${code}` }, source: `L['x${i % 5}']`, kind: 'tensor', size: [dim, 3], stride: [3, 1] }) + (i === 7 ? '\r' : ''),
    );
    if (i % 5000 === 4999) lines.push('');
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const TABLES = ['profiles', 'origins', 'sources', 'runs', 'bodies', 'codes', 'events', 'history', 'code_states', 'profile_runs'];
const tables = (path: string) => storedTables(path, TABLES);

/** The ledger as an ingest sees it, its SQLite saying that every write transaction met another writer; and the events each transaction took. */
const crowded = (ledger: Ledger) => staged(ledger, 0, 0);

describe('a big file parsed in-thread (the worker turned off)', () => {
  const dir = tempDir();
  const file = join(dir, 'big.jsonl');
  bigFile(file, 45_000);

  it('stores what the worker stores; a batch a transaction, other writers met or not', async () => {
    const a = await openLedger(join(dir, 'worker.db'));
    const b = await openLedger(join(dir, 'in-thread.db'));
    try {
      const sa = await ingestObservations(a, file, { worker: true });
      const c = crowded(b);
      const sb = await ingestObservations(c.ledger, file, { worker: false });
      assert.deepEqual(sb, sa);
      assert.equal(sa.appended, 45_000);
      assert.deepEqual(c.sizes, [10_000, 10_000, 10_000, 10_000, 5_000]);
    } finally {
      await a.close();
      await b.close();
    }
    assert.deepEqual(tables(join(dir, 'in-thread.db')), tables(join(dir, 'worker.db')));
  });

  it('alone, a batch a transaction; a bad line: the whole batches before it committed, as with the worker', async () => {
    const badFile = join(dir, 'bad.jsonl');
    bigFile(badFile, 30_000, 25_003); // line 25,008 of the file (5 blank lines before it)
    const run = async (db: string, worker: boolean, crowd: boolean) => {
      const l = await openLedger(join(dir, db));
      const c = crowded(l);
      try {
        await assert.rejects(ingestObservations(crowd ? c.ledger : l, badFile, { worker }), (e: unknown) => e instanceof InputError && e.line === 25_008 && /the first 20000 observation lines .* were committed \(20000 events appended/.test(e.message));
      } finally {
        await l.close();
      }
      return c.sizes;
    };
    await run('bad-worker.db', true, false);
    assert.deepEqual(await run('bad-in-thread.db', false, true), [10_000, 10_000]);
    assert.deepEqual(tables(join(dir, 'bad-in-thread.db')), tables(join(dir, 'bad-worker.db')));
    const l = await openLedger(join(dir, 'alone.db'));
    try {
      const sizes: number[] = [];
      const spy = Object.assign(Object.create(l), { appendPipelined: (e: Parameters<Ledger['appendPrepared']>[0], done: (r: ReturnType<Ledger['appendPrepared']>) => void) => (sizes.push(e.length), l.appendPipelined(e, done)) });
      await ingestObservations(spy, file, { worker: false });
      assert.deepEqual(sizes, [10_000, 10_000, 10_000, 10_000, 5_000]);
    } finally {
      await l.close();
    }
  });
});

describe('the event objects a big file is decoded into', () => {
  const dir = tempDir();
  const file = join(dir, 'big.jsonl');
  bigFile(file, 35_000);
  type Events = Parameters<Ledger['appendPrepared']>[0];
  const seen = (events: Events) => events.map((e) => `${e.cacheKey} ${e.idem} ${e.time} ${e.json}`).join('\n');

  it('a batch whose commit is still under way (PostgreSQL) keeps its events while the next is decoded; what it stores is what an append at once stores', async () => {
    const a = await openLedger(join(dir, 'at-once.db'));
    const b = await openLedger(join(dir, 'later.db'));
    try {
      await ingestObservations(a, file, { worker: false });
      // commits that call back at the next batch, as PostgreSQL's pipeline does
      let pending: { events: Events; as: string; done: (r: ReturnType<Ledger['appendPrepared']>) => void } | undefined;
      const arrays: Events[] = [];
      const settle = () => {
        if (!pending) return;
        const p = pending;
        pending = undefined;
        assert.equal(seen(p.events), p.as, 'a batch under way was overwritten');
        p.done(b.appendPrepared(p.events));
      };
      const later = Object.assign(Object.create(b), {
        appendPipelined: (events: Events, done: (r: ReturnType<Ledger['appendPrepared']>) => void) => {
          arrays.push(events);
          settle();
          pending = { events, as: seen(events), done };
        },
        settle,
      });
      const sum = await ingestObservations(later, file, { worker: false });
      assert.equal(sum.appended, 35_000);
      assert.equal(new Set(arrays).size, 2, 'two sets of event objects, in turn');
    } finally {
      await a.close();
      await b.close();
    }
    assert.deepEqual(tables(join(dir, 'later.db')), tables(join(dir, 'at-once.db')));
  });

  it('where each commit calls back before the next batch (SQLite), one set is refilled batch after batch', async () => {
    const l = await openLedger(join(dir, 'one-set.db'));
    try {
      const arrays: Events[] = [];
      const sizes: number[] = [];
      const spy = Object.assign(Object.create(l), { appendPipelined: (events: Events, done: (r: ReturnType<Ledger['appendPrepared']>) => void) => (arrays.push(events), sizes.push(events.length), l.appendPipelined(events, done)) });
      await ingestObservations(spy, file, { worker: false });
      assert.deepEqual(sizes, [10_000, 10_000, 10_000, 5_000]);
      assert.equal(new Set(arrays).size, 1);
    } finally {
      await l.close();
    }
  });
});

describe('a small file parsed here', () => {
  it("go the worker's way too (wire batches decoded into one refilled set of events), and store what the worker stores", async () => {
    const dir = tempDir();
    const big = join(dir, 'big.jsonl');
    bigFile(big, 12_000);
    const small = join(dir, 'small.jsonl');
    writeFileSync(small, readFileSync(big, 'utf8').split('\n').slice(0, 2_500).join('\n') + '\n');
    const a = await openLedger(join(dir, 'small.db'));
    try {
      const arrays: Parameters<Ledger['appendPrepared']>[0][] = [];
      const sizes: number[] = [];
      const spy = Object.assign(Object.create(a), { appendPipelined: (events: Parameters<Ledger['appendPrepared']>[0], done: (r: ReturnType<Ledger['appendPrepared']>) => void) => (arrays.push(events), sizes.push(events.length), a.appendPipelined(events, done)) });
      const sum = await ingestObservations(spy, small, { batchSize: 1_000 });
      assert.equal(sum.appended, 2_500);
      assert.deepEqual(sizes, [1_000, 1_000, 500]);
      assert.equal(new Set(arrays).size, 1);
    } finally {
      await a.close();
    }
    const b = await openLedger(join(dir, 'worker.db'));
    try {
      assert.equal((await ingestObservations(b, small, { worker: true, batchSize: 1_000 })).appended, 2_500);
    } finally {
      await b.close();
    }
    assert.deepEqual(tables(join(dir, 'small.db')), tables(join(dir, 'worker.db')));
  });
});

describe('SQLite: writersMet', () => {
  it('counts the write transactions that found the file changed by another connection, not by its own', async () => {
    const dir = tempDir();
    const path = join(dir, 'l.db');
    const a = await openDatabase(path);
    const b = await openDatabase(path);
    try {
      const put = (db: typeof a, v: string) => db.sql.immediate(() => db.sql.run("insert into meta(key, value) values ('k', ?) on conflict(key) do update set value = excluded.value", v));
      put(b, '1');
      put(b, '2');
      assert.equal(b.sql.writersMet!(), 0);
      put(a, '3');
      put(b, '4');
      assert.equal(b.sql.writersMet!(), 1);
      put(b, '5');
      assert.equal(b.sql.writersMet!(), 1);
      assert.equal(a.sql.writersMet!(), 0, "a's first transaction: nothing of its own to compare with");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
