import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLedger } from '../store/ledger.ts';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { TORCH } from '../../test/support/fixtures.ts';

const dir = tempDir();

describe('counts are said in English: one of a thing is singular', () => {
  const obs = join(dir, 'one.jsonl');
  writeFileSync(obs, JSON.stringify({ job: 'one', run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8, 4], stride: [4, 1] }) + '\n{"not": "an observation"}\n');

  it('ingest, replay, jobs and export of one event, one profile, one code id', () => {
    const db = join(dir, 'one.db');
    const i = cli(db, ['ingest', '--skip-invalid', obs]);
    assert.equal(i.stdout, `${obs}: observations: 1 event appended, 0 already in the log, 1 invalid line skipped\n`, i.stderr);
    assert.equal(cli(db, ['replay']).stdout, 'replayed 1 event into 1 profile (0 recompile reasons)\n');
    assert.match(cli(db, ['jobs']).stdout, /^one:None:\t1 event\t/);
    assert.match(cli(db, ['export', '--job', 'one', '--format', 'remote-json', '-o', join(dir, 'one.json')]).stdout, /^wrote \S+ \(remote-json, \d+ bytes, 1 code id\)\n$/);
  });

  it('verify of an empty ledger says it is empty, not that 0 profiles match', async () => {
    const db = join(dir, 'empty.db');
    await (await openLedger(db)).close();
    const v = cli(db, ['verify']);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, 'verify: the ledger is empty: it holds no event, so there is nothing to check\n');
  });

  it('session 20 trial: jobs of an empty ledger says it holds no profile yet (--json stays JSON lines: none)', async () => {
    const db = join(dir, 'empty-jobs.db');
    await (await openLedger(db)).close();
    const j = cli(db, ['jobs']);
    assert.equal(j.status, 0, j.stderr);
    assert.equal(j.stdout, 'jobs: the ledger holds no profile yet (ingest or pull adds them)\n');
    const json = cli(db, ['jobs', '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(json.stdout, '');
  });

  it("session 20 trial: a folder's summary counts its files by kind in English", () => {
    const d = join(dir, 'folder');
    mkdirSync(d);
    writeFileSync(join(d, 'a.jsonl'), readFileSync(obs));
    copyFileSync(join(TORCH, 'traces/warm-local.log'), join(d, 'b.log'));
    copyFileSync(join(TORCH, 'traces/cold-local.log'), join(d, 'c.log'));
    const i = cli(join(dir, 'folder.db'), ['ingest', '--skip-invalid', d]);
    assert.match(i.stdout, /folder \(2 trace files, 1 observations file; 0 not PGO data, skipped\)/, i.stderr);
  });

  // Session 21: stats' storm text wrote its own plurals ("and 1 more values", "had 1 recompile
  // records") and numbers as en-US writes them ("1,505 observations"), not counted()'s.
  it("stats: a storm's values, observations and --fail-over's line are counted as every count is", () => {
    const code = { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'aa' };
    const line = (t: number, n: number) => JSON.stringify({ job: 'st', run: 'r1', time: 1795687200 + t, code, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
    const f = join(dir, 'storm.jsonl');
    writeFileSync(f, [...Array.from({ length: 1500 }, (_, i) => line(i / 1000, 8)), ...[16, 24, 32, 40, 48].map((n, i) => line(2 + i, n))].join('\n') + '\n');
    const db = join(dir, 'storm.db');
    assert.equal(cli(db, ['ingest', f]).status, 0);
    const s = cli(db, ['stats', '--fail-over', '0']);
    assert.equal(s.status, 1, s.stderr);
    assert.match(s.stdout, /: 16 seen 1 time, 24 seen 1 time, 32 seen 1 time, 40 seen 1 time, 48 seen 1 time, and 1 more value in 1505 observations\n$/);
    assert.match(s.stderr, /^over --fail-over 0: st:None: run r1 had 1 recompile record in /);
  });
});
