import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliSpawn } from '../../test/support/cli.ts';
import { oracleCases, TORCH } from '../../test/support/fixtures.ts';
import { decodeMegaCache, encodeMegaCache } from '../codecs/megacache.ts';
import { caseLines } from '../../test/support/oracle-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { recordValue } from '../store/why-fold.ts';
import { migrations } from '../../migrations/index.ts';
import { DIALECTS, execOn, ledgerAt, numbersOf } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();
  const cases = oracleCases();

  /** Many generated observations (for the kill -9 and two-writer tests). */
  function bigFile(path: string, n: number, job: string): void {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(JSON.stringify({ job, run: `run-${i % 7}`, code: { filename: '/srv/m.py', firstlineno: 1 + (i % 50), name: 'f', file_hash: 'abc' }, source: `L['x${i % 13}']`, kind: 'tensor', size: [i % 5, 8], stride: [8, 1] }));
    }
    writeFileSync(path, lines.join('\n') + '\n');
  }

  describe('command line on oracle cases', () => {
    const db = ledgerAt(dialect, dir, 'cases.db');
    const picked = [cases[0], cases[7], cases.find((c) => !c.automatic_dynamic_shapes)!, cases[599]];
    writeFileSync(join(dir, 'cases.jsonl'), picked.flatMap((c) => caseLines(c)).join('\n') + '\n');

    it('ingest, then show, history --json and export --format pickle give PyTorch’s answers', () => {
      const r = cli(db, ['ingest', join(dir, 'cases.jsonl')]);
      assert.equal(r.status, 0, r.stderr);
      for (const c of picked) {
        const show = cli(db, ['show', '--job', `case-${c.id}`]);
        assert.equal(show.status, 0, show.stderr);
        assert.equal(show.stdout, c.expected.render + '\n');
        const hist = cli(db, ['history', '--job', `case-${c.id}`, '--json']);
        const got = hist.stdout.trim() ? hist.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [];
        // PyTorch's records, their values said as show says a dim (`?`, `S(1)`, `[3, 4]`)
        const want = c.expected.steps.flatMap((s) => s.logged).map((r) => ({ ...r, cached: recordValue(String(r.cached)), new: recordValue(String(r.new)) }));
        assert.deepEqual(got.map((g) => ({ event: 'automatic_dynamic', name: g.source, dim_changed: g.dim_changed, reason: g.reason, cached: g.cached, new: g.new })), want);
        for (const g of got) for (const k of ['position', 'code', 'run', 'time']) assert.ok(k in g, k);
        const out = join(dir, `case-${c.id}.pkl`);
        assert.equal(cli(db, ['export', '--job', `case-${c.id}`, '--format', 'pickle', '-o', out]).status, 0);
        assert.equal(readFileSync(out).toString('base64'), c.expected.pickle_p4);
      }
      const v = cli(db, ['verify']);
      assert.equal(v.status, 0);
      assert.match(v.stdout, /4 profiles match the log/);
    });

    it('why explains a dim in plain words, naming the observation', () => {
      const r = cli(db, ['why', '--job', 'case-0', '--source', "L['x']", '--dim', '0']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /dim 0: static 5 in #\d+ \(observation, 2026-11-26T10:00:00.000Z, from .*cases\.jsonl:1\), dynamic in #\d+ \(observation, 2026-11-26T10:00:02.000Z, from .*cases\.jsonl:3\)\n {4}that observation had 8/);
    });

    it('bad usage exits 2 with a message', () => {
      const r = cli(db, ['show', '--job', 'nope']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /no profile for job nope/);
      assert.equal(cli(db, ['frobnicate']).status, 2);
    });
  });

  describe('bad input', () => {
    it('names file, line and field; the batch is not half-written', () => {
      const db = ledgerAt(dialect, dir, 'bad.db');
      const good = caseLines(cases[1]);
      const file = join(dir, 'bad.jsonl');
      writeFileSync(file, [...good, '{"job": "x", "code": {"filename": "a.py", "firstlineno": "ten", "name": "f"}, "source": "s", "kind": "scalar", "value": 1}'].join('\n'));
      const r = cli(db, ['ingest', file]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, new RegExp(`bad\\.jsonl:${good.length + 1}: field code\\.firstlineno: .*number`));
      // nothing of the batch was written: a new SQLite ledger is taken back, PostgreSQL's holds no event
      if (dialect === 'sqlite') {
        assert.ok(!existsSync(db), 'the new ledger was taken back');
        assert.match(r.stderr, /nothing was written: the new ledger .*bad\.db is removed/);
      } else assert.deepEqual(numbersOf(db, 'select count(*) n from events'), [0], 'nothing of the batch was written');
    });
    it('--skip-invalid goes on and reports how many were skipped', () => {
      const db = ledgerAt(dialect, dir, 'skip.db');
      const file = join(dir, 'skip.jsonl');
      writeFileSync(file, ['not json', ...caseLines(cases[2]), '{"job": "x", "code": {"filename": "a.py", "firstlineno": 1, "name": "f"}, "source": "s", "kind": "tensor", "size": [1]}'].join('\n'));
      const r = cli(db, ['ingest', '--skip-invalid', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /2 invalid lines skipped/);
      assert.match(r.stderr, /skip\.jsonl:1: not JSON/);
      assert.match(r.stderr, /field stride: required for kind tensor/);
    });
    it('a mast: job id is refused as PyTorch refuses it', () => {
      const r = cli(ledgerAt(dialect, dir, 'mast.db'), ['ingest', '-'], JSON.stringify({ job: 'mast:x', code: { filename: 'a', firstlineno: 1, name: 'f', file_hash: 'a' }, source: 's', kind: 'scalar', value: 1 }));
      assert.equal(r.status, 2);
      assert.match(r.stderr, /standard input:1: field job: .*prefix 'mast:' is reserved/);
    });
    it("a key PyTorch made itself may start with mast: (get_cache_key's mast:{name}:{version} for a MAST job with no job_id): it is taken", () => {
      // a TORCH_TRACE of such a job: its pgo events name the key, its artifact renders the profile
      const md5 = (t: string) => createHash('md5').update(t).digest('hex');
      const entry = (meta: string, payload: string[]) =>
        [`V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:2126] ${meta.replace(/\}$/, `, "has_payload": "${md5(payload.join('\n'))}"}`)}`, ...payload.map((p) => `\t${p}`)].join('\n');
      const file = join(dir, 'mast-trace.log');
      writeFileSync(file, [
        entry('{"chromium_event": {}}', ['{"name": "pgo.put_local_code_state", "ts": 1795671967428037.0, "args": {"cache_key": "mast:trainer:7:None:"}, "ph": "B"}']),
        entry('{"artifact": {"name": "put_local_code_state", "encoding": "string"}}', ['hash(d02731e6)/srv/train/train.py:24:f:', "  L['x']: tensor size=[?, 4] stride=[4, 1]"]),
      ].join('\n') + '\n');
      const db = ledgerAt(dialect, dir, 'mast-key.db');
      const r = cli(db, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(cli(db, ['jobs']).stdout, /^mast:trainer:7:None:\t1 event/);
    });
    it("a mega-cache pgo artifact under a mast: key: --job names the loading job's key, without it the key stays (_rewrite_cache_key_for_mega_cache)", () => {
      const m = decodeMegaCache(readFileSync(join(TORCH, 'megacache/single-pgo-artifact.bin')));
      for (const a of m.artifacts) if (a.type === 'pgo') a.key = 'mast:trainer:7:None:';
      const file = join(dir, 'mast-bundle.bin');
      writeFileSync(file, encodeMegaCache(m));
      const keys = (db: string) => cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l).cache_key);
      const plain = ledgerAt(dialect, dir, 'mast-bundle.db');
      const r = cli(plain, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(keys(plain), ['mast:trainer:7:None:']);
      const named = ledgerAt(dialect, dir, 'mast-bundle-job.db');
      assert.equal(cli(named, ['ingest', '--job', 'mine', file]).status, 0);
      assert.deepEqual(keys(named), ['mine:None:']);
    });
    it('a database from a newer pgo-ledger is refused and left untouched', () => {
      const db = ledgerAt(dialect, dir, 'newer.db');
      assert.equal(cli(db, ['ingest', '-'], '').status, 0); // a write command creates it (issue 9.10)
      execOn(db, "insert into kysely_migration(name, timestamp) values ('2099-01-01T00-00-future', '2099')");
      const before = dialect === 'sqlite' ? readFileSync(db) : null;
      for (const args of [['jobs'], ['ingest', join(dir, 'bad.jsonl')]]) {
        const r = cli(db, args);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /written by a newer pgo-ledger \(unknown migrations: 2099-01-01T00-00-future\); it was left untouched/);
      }
      if (before) assert.ok(readFileSync(db).equals(before));
      assert.deepEqual(numbersOf(db, 'select count(*) from kysely_migration'), [Object.keys(migrations).length + 1]);
      assert.deepEqual(numbersOf(db, 'select count(*) from events'), [0]);
    });
  });

  describe('real processes: kill -9 and two writers', () => {
    // SQLite's file: its WAL tells when batches are in (PostgreSQL's transactions are the server's)
    if (dialect === 'sqlite') it('a process killed mid-ingest leaves a database that opens and holds whole batches only', async (t) => {
      const db = ledgerAt(dialect, dir, 'killed.db');
      const file = join(dir, 'many.jsonl');
      bigFile(file, 200_000, 'killed');
      const child = cliSpawn(db, ['ingest', file]);
      // kill once the first batches are in
      for (let i = 0; i < 400; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          if (statSync(db + '-wal').size > 2_000_000) break;
        } catch {
          /* not yet */
        }
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const [n] = numbersOf(db, 'select count(*) n from events');
      assert.ok(n > 0 && n < 200_000, `killed mid-way (${n} events)`);
      assert.equal(n % 10_000, 0, 'whole batches of 10000 only');
      t.diagnostic(`killed after ${n} of 200000 events`);
      const v = cli(db, ['verify']);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      // and ingesting again completes it without duplicates
      const again = cli(db, ['ingest', file]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`${200_000 - n} events appended, ${n} already in the log`));
    });

    it('two processes ingesting into one database at once lose nothing', async (t) => {
      const db = ledgerAt(dialect, dir, 'two.db');
      bigFile(join(dir, 'a.jsonl'), 60_000, 'writer-a');
      bigFile(join(dir, 'b.jsonl'), 60_000, 'writer-b');
      assert.equal(cli(db, ['ingest', '-'], '').status, 0); // create it first so both open a migrated file
      const run = (f: string) =>
        new Promise<number>((resolve) => {
          const c = cliSpawn(db, ['ingest', join(dir, f)]);
          c.on('exit', (code) => resolve(code ?? -1));
        });
      const codes = await Promise.all([run('a.jsonl'), run('b.jsonl')]);
      assert.deepEqual(codes, [0, 0]);
      const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(jobs.map((j) => [j.job, j.events]), [['writer-a', 60_000], ['writer-b', 60_000]]);
      const [a, b, nn, distinct] = numbersOf(db, 'select min(position) a, max(position) b, count(*) n, count(distinct position) d from events');
      const positions = { a, b, n: nn };
      assert.equal(distinct, 120_000);
      // SQLite's rowid is gapless; PostgreSQL's sequence may skip (a key taken, a rolled-back batch)
      if (dialect === 'sqlite') assert.deepEqual(positions, { a: 1, b: 120_000, n: 120_000 }, 'gapless');
      else assert.equal(nn, 120_000);
      t.diagnostic(`two writers: ${JSON.stringify(jobs.map((j) => [j.job, j.events]))}, positions ${positions.a}..${positions.b}, ${positions.n} events`);
      assert.equal(cli(db, ['verify']).status, 0);
    });
  });

  describe('interop commands end to end', () => {
    it('ingest a trace folder, export into a base bundle, merge ranks, report, diff', async () => {
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const { decodeMegaCache } = await import('../codecs/megacache.ts');
      const db = ledgerAt(dialect, dir, 'interop.db');
      let r = cli(db, ['ingest', join(TORCH, 'traces'), join(TORCH, 'workload2/trace-rank0.log'), join(TORCH, 'workload2/trace-rank1.log')]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /traces: folder \(4 trace files; 0 not PGO data, skipped\): \d+ events? appended/);
      const bundle = join(dir, 'out.bin');
      r = cli(db, ['export', '--job', 'fixture', '--format', 'megacache', '--base', join(TORCH, 'megacache/inductor-cuda-run.bin'), '-o', bundle]);
      assert.equal(r.status, 0, r.stderr);
      const types = decodeMegaCache(readFileSync(bundle)).artifacts.map((a) => a.type);
      assert.equal(types.filter((t) => t === 'pgo').length, 1);
      assert.equal(types.length, 10 + 8 + 1 + 2);
      r = cli(db, ['merge', '--from', 'fixture2:0:', '--from', 'fixture2:1:', '--into', 'fixture2-all']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /joined fixture2:0: \+ fixture2:1: into fixture2-all:None:/);
      const report = join(dir, 'all.html');
      r = cli(db, ['report', '--all', '-o', report]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /4 profiles/);
      assert.match(readFileSync(report, 'utf8'), /^<!doctype html>/);
      r = cli(db, ['diff', '--job', 'fixture', '--from', '0', '--to', '5', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const changes = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(changes.length > 0 && changes.every((c) => c.change === 'added'));
      const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l).cache_key);
      assert.deepEqual(jobs, ['fixture2-all:None:', 'fixture2:0:', 'fixture2:1:', 'fixture:None:']);
    });
  });
});
