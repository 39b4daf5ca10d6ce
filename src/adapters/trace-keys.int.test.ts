import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { FIXTURES, TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { ingestFile } from './ingest-file.ts';

const COLD = join(TORCH, 'traces/cold-local.log');
/** A glog line of the log's own process, before its first: PyTorch's kind of line that gives no event. */
const NOTE = 'V1126 05:46:07.400000 576 torch/_dynamo/utils.py:1] {"some_note": {}}\n';

/** The kinds of the log's events after its first n, in order. */
const kindsAfter = (l: Ledger, n: number) => l.sql.all<{ kind: string }>('select kind from events order by position').slice(n).map((r) => r.kind);
const records = (l: Ledger) => Number(l.sql.get<{ n: number }>('select count(*) as n from history')!.n);

/** The log with its first automatic_dynamic record (its glog line and payload) logged twice, one after the other. */
function recordTwice(log: string): string {
  const lines = log.split('\n');
  const at = lines.findIndex((s) => s.includes('"name": "automatic_dynamic"'));
  let from = at;
  while (!/^[VIWEF]\d{4} /.test(lines[from])) from--;
  let to = at;
  while (!/^[VIWEF]\d{4} /.test(lines[to])) to++;
  return [...lines.slice(0, to), ...lines.slice(from, to), ...lines.slice(to)].join('\n');
}

for (const dialect of DIALECTS) describe(`${dialect}: a trace event's key`, () => {
  const dir = tempDir();
  let n = 0;
  const fresh = () => openLedger(ledgerAt(dialect, dir, `k${n++}.db`));

  it('a line inserted above its events appends nothing again (history lists each record once)', async () => {
    const l = await fresh();
    const first = await ingestFile(l, COLD);
    assert.equal(first.appended, 53);
    assert.equal(records(l), 11);
    const moved = join(dir, `moved-${n}.log`);
    writeFileSync(moved, NOTE + readFileSync(COLD, 'utf8'));
    const again = await ingestFile(l, moved);
    assert.deepEqual([again.appended, again.duplicates], [0, 53]);
    assert.equal(records(l), 11);
    // and lines cut above them: the same
    const cut = join(dir, `cut-${n}.log`);
    writeFileSync(cut, readFileSync(COLD, 'utf8').split('\n').slice(12).join('\n'));
    const third = await ingestFile(l, cut);
    assert.equal(third.appended, 0);
    assert.equal(records(l), 11);
    await l.close();
  });

  it('the same record logged twice in one compile stays two events', async () => {
    const l = await fresh();
    const twice = join(dir, `twice-${n}.log`);
    writeFileSync(twice, recordTwice(readFileSync(COLD, 'utf8')));
    const s = await ingestFile(l, twice);
    assert.equal(s.appended, 54);
    assert.equal(records(l), 12);
    const moved = join(dir, `twice-moved-${n}.log`);
    writeFileSync(moved, NOTE + recordTwice(readFileSync(COLD, 'utf8')));
    assert.equal((await ingestFile(l, moved)).appended, 0);
    await l.close();
  });
});

describe('a ledger written when trace events were keyed by their line', () => {
  it('an unchanged trace ingested into it again appends nothing', async () => {
    // made by pgo-ledger 0.2.0 (main at fb58103): `ingest cold-local.log` (see test/fixtures/README.md)
    const dir = tempDir();
    const db = join(dir, 'old.db');
    writeFileSync(db, gunzipSync(readFileSync(join(FIXTURES, 'ledgers/trace-keys-by-line.db.gz'))));
    const l = await openLedger(db);
    assert.equal(records(l), 11);
    const s = await ingestFile(l, COLD);
    // what that build did not keep goes in: the two ints the compiles were fed once dynamic
    // (create_symbol, scalar.described) and the two entries compiles put of their own code
    // unchanged (entry.imported), a view's base described (session 25), and the four ints
    // compiles specialized (their EQUALS_MATCH guards, scalar.described, session 26); the rest
    // was in the log under its old keys
    assert.deepEqual([s.appended, s.duplicates], [9, 44]);
    assert.deepEqual(kindsAfter(l, 44), ['scalar.described', 'scalar.described', 'shape.described', 'entry.imported', 'scalar.described', 'scalar.described', 'scalar.described', 'scalar.described', 'entry.imported']);
    assert.equal(records(l), 11);
    // a folder's traces go in a batch of files a transaction: the same there
    const folder = join(TORCH, 'traces');
    const f = await ingestFile(l, folder);
    assert.equal(f.appended, 152 - 53);
    assert.equal(records(l), 22);
    await l.close();
  });
});
