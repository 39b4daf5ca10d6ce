import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { verifyLedger } from '../store/verify.ts';
import { ingestFile, type FileIngestSummary } from './ingest-file.ts';
import { TraceBatch } from './ingest-trace.ts';
import { readingOrder } from './reading-order.ts';
import { glogStart } from '../codecs/trace/glog-start.ts';

/** What a ledger holds, as rows (positions included), the migrations' times apart. */
function rows(l: Ledger): string[] {
  const out: string[] = [];
  for (const t of ['events', 'runs', 'codes', 'sources', 'bodies', 'origins', 'profiles', 'history', 'code_states', 'profile_runs', 'checkpoints']) {
    // PostgreSQL's events keep their transaction's id (last), which no two ledgers share
    const all = l.sql.allRaw(`select * from ${t} order by 1, 2`).map((r) => (t === 'events' && l.sql.dialect.name === 'postgres' ? r.slice(0, -1) : r));
    out.push(`## ${t}`, ...all.map((r) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))));
  }
  return out;
}

/**
 * A folder of traces around other kinds and bad files: the same log twice under two names,
 * a pickle between traces, a log naming no profile key, a file that is no trace.
 */
function hostileFolder(dir: string): string {
  const d = join(dir, `folder-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d);
  copyFileSync(join(TORCH, 'traces/cold-local.log'), join(d, 'a-cold-local.log'));
  copyFileSync(join(TORCH, 'traces/cold-local.log'), join(d, 'b-same-log-again.log'));
  copyFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'), join(d, 'code_state_fixture_None_.pkl'));
  copyFileSync(join(TORCH, 'traces/cold-remote.log'), join(d, 'd-cold-remote.log'));
  writeFileSync(join(d, 'e-no-key.log'), 'V1126 05:46:07.429000 10000 torch/_logging/structured.py:28] {"str": ["x.py", 0]}\n');
  copyFileSync(join(TORCH, 'traces/warm-local.log'), join(d, 'f-warm-local.log'));
  const log = readFileSync(join(TORCH, 'traces/warm-remote.log'), 'utf8');
  writeFileSync(join(d, 'g-garbled.log'), log.replace('\n', '\nnot a glog line\n'));
  copyFileSync(join(TORCH, 'workload2/trace-rank1.log'), join(d, 'h-rank1.log'));
  return d;
}

for (const dialect of DIALECTS) describe(dialect, () => {
  const dir = tempDir();
  let n = 0;
  const fresh = () => openLedger(ledgerAt(dialect, dir, `b${n++}.db`));

  it('a folder of traces, a batch of files a transaction, holds what a transaction a file holds', async () => {
    const d = hostileFolder(dir);
    const batched = await fresh();
    const notes: string[] = [];
    const s = await ingestFile(batched, d, { onNote: (m) => notes.push(m) });
    // each file on its own, in the folder's order: its logs (every file here but the pickle) in
    // the order they began, then in name order, then the pickle, named among them (readingOrder)
    const single = await fresh();
    const sum: FileIngestSummary = { kind: 'folder', appended: 0, duplicates: 0, skipped: 0, records: 0, kinds: {}, notPgo: 0, notRegular: 0, failed: [] };
    const names = readdirSync(d).sort();
    assert.equal(names[2], 'code_state_fixture_None_.pkl');
    const logs = readingOrder(
      names.filter((n) => n.endsWith('.log')).map((n) => join(d, n)),
      () => true,
      (p) => glogStart(readFileSync(p).subarray(0, 4096)),
    );
    for (const f of [...logs, join(d, 'code_state_fixture_None_.pkl')]) {
      try {
        const r = await ingestFile(single, f);
        sum.appended += r.appended;
        sum.duplicates += r.duplicates;
        sum.skipped += r.skipped;
        sum.records += r.records;
        sum.kinds![r.kind as 'trace'] = (sum.kinds![r.kind as 'trace'] ?? 0) + 1;
      } catch (e) {
        sum.failed!.push({ input: f, error: (e as Error).message });
      }
    }
    assert.deepEqual(s, sum);
    assert.deepEqual(s.failed!.map((x) => x.input), [join(d, 'e-no-key.log')]);
    assert.match(notes.join('\n'), /e-no-key\.log: trace: failed: .*names no PGO cache key/);
    assert.ok(s.duplicates > 0 && s.appended > 0);
    assert.deepEqual(rows(batched), rows(single));
    assert.deepEqual(verifyLedger(batched).differences, []);
    await batched.close();
    await single.close();
  });

  it('an append that fails in a batch: the batch is written again a file a transaction, the bad file writes none of its events and is named', async () => {
    const d = hostileFolder(dir);
    const l = await fresh();
    const bad = join(d, 'd-cold-remote.log');
    if (!TraceBatch.fits(l)) return; // PostgreSQL: a transaction a file, as before
    // the database refuses the bad file's events, after the files before it went in
    l.sql.exec(`create trigger refuse before insert on events when new.origin_id = (select id from origins where origin = '${bad}') begin select raise(abort, 'refused'); end`);
    const done: [string, string][] = [];
    const batch = new TraceBatch(l, (f, s) => done.push([f, 'failed' in s ? `failed: ${(s.failed as Error).message}` : `appended ${s.appended}`]));
    for (const f of ['a-cold-local.log', 'd-cold-remote.log', 'f-warm-local.log']) await batch.add(join(d, f), {});
    batch.flush();
    assert.deepEqual(done.map(([f, s]) => [f.slice(d.length + 1), s.replace(/\d+/, 'N')]), [
      ['a-cold-local.log', 'appended N'],
      ['d-cold-remote.log', 'failed: refused'],
      ['f-warm-local.log', 'appended N'],
    ]);
    const origins = l.sql.all<{ origin: string }>('select distinct o.origin from events e join origins o on o.id = e.origin_id order by o.origin').map((r) => r.origin);
    assert.deepEqual(origins, [join(d, 'a-cold-local.log'), join(d, 'f-warm-local.log')]);
    // the same files each in its own transaction hold the same
    l.sql.exec('drop trigger refuse');
    const single = await fresh();
    for (const f of ['a-cold-local.log', 'f-warm-local.log']) await ingestFile(single, join(d, f));
    assert.deepEqual(rows(l), rows(single));
    assert.deepEqual(verifyLedger(l).differences, []);
    await l.close();
    await single.close();
  });
});
