import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { UNSET } from '../model/atoms.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { openLedger } from '../store/ledger.ts';
import { ingestObservations } from './ingest-observations.ts';
import { DIALECTS, ledgerAt, numbersOf, textRows } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();
  let n = 0;
  const db = () => ledgerAt(dialect, dir, `h${n++}.db`);
  const count = (path: string) => numbersOf(path, 'select count(*) n from events')[0];
  /** A failed ingest into a new ledger wrote nothing: a new SQLite file is taken back (said), PostgreSQL's holds no event nor import. */
  const nothingWritten = (path: string, r: { stderr: string }) => {
    if (dialect === 'sqlite') {
      assert.ok(!existsSync(path), 'the new ledger was taken back');
      assert.match(r.stderr, /nothing was written: the new ledger .* is removed/);
    } else {
      assert.equal(numbersOf(path, 'select count(*) n from imports')[0], 0);
      assert.equal(count(path), 0);
    }
  };
  const obs = (o: Record<string, unknown> = {}) =>
    JSON.stringify({ job: 'h', code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'size', size: [2, 3], ...o });

  describe('issue 9.1: idempotency never drops real events', () => {
    it('issue 9.1: same base name in two folders, same first line, different times: every line kept', async () => {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      writeFileSync(join(dir, 'a', 'obs.jsonl'), [obs({ time: 1000 }), obs({ time: 2000 })].join('\n'));
      writeFileSync(join(dir, 'b', 'obs.jsonl'), [obs({ time: 1000 }), obs({ time: 3000 })].join('\n'));
      const l = await openLedger(db());
      assert.equal((await ingestObservations(l, join(dir, 'a', 'obs.jsonl'))).appended, 2);
      const s = await ingestObservations(l, join(dir, 'b', 'obs.jsonl'));
      assert.deepEqual([s.appended, s.duplicates], [1, 1], 'line 2 differs by its time: another event');
      await l.close();
    });
    it('issue 9.1: two events under one idempotency key that differ only in time are both kept', async () => {
      const l = await openLedger(db());
      const ev = (time: number) => ({
        kind: 'shape.observed' as const,
        cacheKey: 'h:None:',
        payload: { code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'x' }, source: 's', shape: { kind: 'scalar' as const, value: 1 }, automatic_dynamic: true },
        time,
        originLine: 1,
        idempotencyKey: 'same',
        idempotencyHash: 42,
      });
      assert.equal(l.append([ev(1)]).appended, 1);
      assert.equal(l.append([ev(2)]).appended, 1, 'a collision, not a duplicate');
      assert.equal(l.append([ev(2)]).duplicates, 1, 'the whole event again is a duplicate');
      await l.close();
    });
  });

  describe('issue 9.2: the same content again is one event', () => {
    it('issue 9.2: stdin, a renamed copy, and flags the lines override add nothing; a run flag for lines without one does', () => {
      const path = db();
      const file = join(dir, 'same.jsonl');
      const text = [obs({ run: 'r1', time: 5 }), obs({ run: 'r1', size: [4, 3] }), obs({ time: 7 })].join('\n') + '\n';
      writeFileSync(file, text);
      assert.equal(cli(path, ['ingest', file]).status, 0);
      assert.equal(count(path), 3);
      assert.equal(cli(path, ['ingest', '-'], text).status, 0);
      copyFileSync(file, join(dir, 'renamed.jsonl'));
      assert.equal(cli(path, ['ingest', join(dir, 'renamed.jsonl')]).status, 0);
      const flags = cli(path, ['ingest', '--job', 'h', '--tag', '', file]);
      assert.equal(flags.status, 0, flags.stderr);
      assert.equal(count(path), 3, 'one event each');
      const run = cli(path, ['ingest', '--run', 'r9', file]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(count(path), 4, 'the one line without a run is another event under --run r9');
    });
  });

  describe('issue 9.3: nothing half-written or half-said', () => {
    it('issue 9.3: a failed mega-cache ingest leaves no imports rows', async () => {
      const { decodeMegaCache, encodeMegaCache } = await import('../codecs/megacache.ts');
      const { readFileSync } = await import('node:fs');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const m = decodeMegaCache(readFileSync(join(TORCH, 'megacache/eager-cold-run.bin')));
      const pgo = m.artifacts.find((a) => a.type === 'pgo')!;
      m.artifacts.push({ ...pgo, content: pgo.content.subarray(0, 20) });
      const file = join(dir, 'half.bin');
      writeFileSync(file, encodeMegaCache(m));
      const path = db();
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 2, r.stderr);
      nothingWritten(path, r);
    });
    it('issue 9.3: a bad line at 15,001 says what was committed, and ingesting again continues', () => {
      const path = db();
      const file = join(dir, 'long.jsonl');
      const good = Array.from({ length: 15000 }, (_, i) => obs({ time: i, size: [i % 7, 3] }));
      writeFileSync(file, [...good, '{"bad": 1}'].join('\n') + '\n');
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /long\.jsonl:15001: field/);
      assert.match(r.stderr, /the first 10000 observation lines of .*long\.jsonl were committed \(10000 events appended, 0 already in the log\), the lines after them were not; fix the line and ingest the file again/);
      assert.equal(count(path), 10000);
      writeFileSync(file, good.join('\n') + '\n');
      const again = cli(path, ['ingest', file, '--json']);
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual([JSON.parse(again.stdout).appended, JSON.parse(again.stdout).duplicates], [5000, 10000]);
    });
  });

  describe('issue 9.5: values that would break the ledger later are refused at parse time', () => {
    const bad: [string, string, RegExp][] = [
      ['time 1e13 s', obs({ time: 1e13 }), /field time: .* not a time between 1970 and 9999/],
      ['a day November has not (was rolled over into December 1)', obs({ time: '2026-11-31T10:00:00Z' }), /field time: "2026-11-31T10:00:00Z" is not a valid time \(no such day/],
      ['a tag with :', obs({ tag: 'a:b' }), /field tag: "a:b" holds ':'/],
      ['a tag that reads as another rank', obs({ tag: '1:x' }), /field tag: "1:x" holds ':'/],
      ['a lone surrogate in a source', obs({ source: 'L[\ud800]' }), /field source: holds a lone UTF-16 surrogate/],
      ['a newline in a job', obs({ job: 'a\nb' }), /field job: holds a control character/],
      ['NUL in a run', obs({ run: 'r\u0000' }), /field run: holds a control character/],
      ['a negative size', obs({ size: [-1, 3] }), /field size\[0\]: -1 is negative/],
      ['a 5,000-digit int', obs({ size: ['9'.repeat(5000), 3] }), /field size\[0\]: 9{20}… \(5000 digits\) is not an int64/],
      ['a 100,000-dim shape', obs({ size: Array(100000).fill(1) }), /field size: 100000 dims, more than 1024/],
      // (a 50 MB source made a 150 MB ledger: trial s24)
      ['a source of 70,000 characters', obs({ source: 'L'.repeat(70000) }), /field source: 70000 characters, more than 65536/],
      ['a code file name of 70,000 characters', obs({ code: { filename: 'a'.repeat(70000), firstlineno: 1, name: 'f', file_hash: 'h' } }), /field code\.filename: 70000 characters, more than 65536/],
    ];
    it('issue 9.5: each bad value is file:line: field …, skipped alone under --skip-invalid; jobs, history, report and verify then work', () => {
      const path = db();
      const file = join(dir, 'values.jsonl');
      writeFileSync(file, [...bad.map(([, l]) => l), obs({ time: 9 })].join('\n') + '\n');
      const r = cli(path, ['ingest', '--skip-invalid', file]);
      assert.equal(r.status, 0, r.stderr);
      bad.forEach(([what, , re], i) => assert.match(r.stderr, new RegExp(`values\\.jsonl:${i + 1}: ${re.source}`), what));
      assert.match(r.stdout, new RegExp(`1 event appended.*${bad.length} invalid lines skipped`));
      for (const args of [['jobs'], ['history', '--job', 'h'], ['verify'], ['report', '--all', '-o', join(dir, 'r.html')]]) {
        const c = cli(path, args);
        assert.equal(c.status, 0, `${args[0]}: ${c.stderr}`);
      }
    });
    it('issue 9.5: a trace ts of 1e300 is said and left out; the ledger stays readable', async () => {
      const { readFileSync } = await import('node:fs');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const log = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').replace(/"ts": [\d.]+/g, '"ts": 1e300').replace(/, "has_payload": "[0-9a-f]+"/g, '');
      const file = join(dir, 'ts.log');
      writeFileSync(file, log);
      const path = db();
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /ts\.log:\d+: field ts: .* not a time between 1970 and 9999/);
      assert.equal(cli(path, ['jobs']).status, 0);
      assert.equal(cli(path, ['history', '--job', 'fixture']).status, 0);
    });
  });

  describe('issue 9.6: ingested data never makes pgo-ledger open a path it names', () => {
    const hashes = (path: string) => textRows(path, 'select filename, file_hash from codes order by filename');
    it('issue 9.6: /dev/zero, a FIFO and /etc/passwd are never read; the path stands in for the hash', async () => {
      const { execFileSync } = await import('node:child_process');
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const file = join(dir, 'paths.jsonl');
      const line = (filename: string) => JSON.stringify({ job: 'p', code: { filename, firstlineno: 1, name: 'f' }, source: 's', kind: 'scalar', value: 1 });
      writeFileSync(file, ['/dev/zero', fifo, '/etc/passwd'].map(line).join('\n'));
      const path = db();
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(hashes(path), [['/dev/zero', '/dev/zero'], ['/etc/passwd', '/etc/passwd'], [fifo, fifo]].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    });
    it('issue 9.6: --hash-files DIR hashes regular files under DIR only (not a symlink out, not a FIFO)', async () => {
      const { execFileSync } = await import('node:child_process');
      const { symlinkSync } = await import('node:fs');
      const src = join(dir, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'model.py'), '123456789');
      symlinkSync('/etc/passwd', join(src, 'out.py'));
      execFileSync('mkfifo', [join(src, 'pipe.py')]);
      const file = join(dir, 'hashed.jsonl');
      const line = (filename: string) => JSON.stringify({ job: 'p', code: { filename, firstlineno: 1, name: 'f' }, source: 's', kind: 'scalar', value: 1 });
      writeFileSync(file, [join(src, 'model.py'), join(src, 'out.py'), join(src, 'pipe.py'), '/etc/passwd'].map(line).join('\n'));
      const path = db();
      const r = cli(path, ['ingest', '--hash-files', src, file]);
      assert.equal(r.status, 0, r.stderr);
      const got = new Map(hashes(path) as [string, string][]);
      assert.equal(got.get(join(src, 'model.py')), 'cbf43926', 'CRC32 of the file under DIR');
      for (const f of [join(src, 'out.py'), join(src, 'pipe.py'), '/etc/passwd']) assert.equal(got.get(f), f);
    });
  });

  describe('issue 9.7: long lines', () => {
    it('issue 9.7: a 2 GB sparse file with no newline fails as file:1: line too long, exit 2', async () => {
      const { truncateSync } = await import('node:fs');
      const file = join(dir, 'sparse.jsonl');
      writeFileSync(file, '');
      truncateSync(file, 2 ** 31);
      const r = cli(db(), ['ingest', '--kind', 'observations', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /sparse\.jsonl:1: line too long \(over 67108864 bytes\)/);
    });
    it('issue 9.7: lines split across many chunks read back whole; a long line after good ones names its line number', async () => {
      const { readLineChunks } = await import('./read-lines.ts');
      const file = join(dir, 'chunks.txt');
      const big = 'x'.repeat(3 << 20);
      writeFileSync(file, `a\r\n${big}\nb\n${'y'.repeat(5000)}\n`);
      const got: string[] = [];
      for await (const c of readLineChunks(file)) for (const l of c) got.push(l.text);
      assert.deepEqual(got, ['a', big, 'b', 'y'.repeat(5000)]);
      await assert.rejects(async () => {
        for await (const _ of readLineChunks(file, 4096));
      }, /chunks\.txt:2: line too long \(over 4096 bytes\)/);
    });
  });

  describe('issue 9.8: pickle expansion', () => {
    it('issue 9.8: a small pickle sharing one CodeState among 1,000 code ids is refused with a clear error, exit 2', async () => {
      const { pickleProfile } = await import('../codecs/pickle/index.ts');
      const entries = new Map();
      for (let j = 0; j < 1000; j++) entries.set(`L['x${j}']`, { scalar: j, size: UNSET, stride: UNSET });
      const state = { automaticDynamic: entries };
      const codes = new Map();
      for (let i = 0; i < 1000; i++) codes.set(`k${i}`, { id: { filename: '/a.py', firstlineno: i, name: 'f', file_hash: 'h' }, state });
      const bytes = pickleProfile({ codes }, 4);
      assert.ok(bytes.length < 100_000, 'a small file');
      const file = join(dir, 'code_state_bomb_None_.pkl');
      writeFileSync(file, bytes);
      const path = db();
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /code_state_bomb_None_\.pkl: failed: pickle holds no valid PGO profile: the profile expands to more than 250000 entries \(at code 250 of 1000/);
      nothingWritten(path, r);
    });
  });

  describe('issue 9.13: input detection and defaults', () => {
    it('issue 9.13: a UTF-8 BOM is accepted (file, stdin, remote value)', async () => {
      const { readFileSync } = await import('node:fs');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const path = db();
      const file = join(dir, 'bom.jsonl');
      writeFileSync(file, '\ufeff' + obs({ time: 1 }) + '\n');
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(cli(path, ['ingest', '-'], '\ufeff' + obs({ time: 2 })).status, 0);
      const value = join(dir, 'bom_value.json');
      writeFileSync(value, '\ufeff' + readFileSync(join(TORCH, 'remote/redis_value.json'), 'utf8'));
      const v = cli(path, ['ingest', '--job', 'fixture', value]);
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /remote-json: \d+ events? appended/);
      assert.equal(count(path) > 2, true);
    });
    it('issue 9.13: an empty .pkl is an error, not 0 observations', () => {
      const file = join(dir, 'code_state_empty_None_.pkl');
      writeFileSync(file, '');
      const r = cli(db(), ['ingest', file]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /code_state_empty_None_\.pkl: failed: empty file/);
    });
    it('issue 9.13: protocol-0 pickles starting with I, F, P or g are pickles; a trace starting with I is a trace', async () => {
      const { kindOfHead } = await import('./ingest-file.ts');
      for (const head of ['I1\n(', 'I01\n', 'F1.5\n', 'Pid\n', 'g0\n', 'ctorch._dynamo.pgo\nCodeId\n']) assert.equal(kindOfHead(Buffer.from(head, 'latin1')), 'pickle', head);
      assert.equal(kindOfHead(Buffer.from('I1126 05:46:07.428000 576 torch/_dynamo/utils.py:2126] {}')), 'trace');
      assert.equal(kindOfHead(Buffer.from('\ufeff{"job": "x"}')), 'observations');
      const file = join(dir, 'p0.pkl');
      writeFileSync(file, 'I1\n.');
      const r = cli(db(), ['ingest', '--job', 'x', file]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /p0\.pkl: failed: pickle holds no valid PGO profile/);
    });
    it('issue 9.13: --as-of -5 is an error', () => {
      const path = db();
      assert.equal(cli(path, ['ingest', '-'], obs({ time: 1 })).status, 0);
      const r = cli(path, ['show', '--job', 'h', '--as-of', '-5']);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, /-5/);
    });
    it('issue 9.13: the progress bar on stdin counts bytes and claims no percentage', async () => {
      const { progressBar } = await import('../cli/progress.ts');
      const { PassThrough } = await import('node:stream');
      const out = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
      let text = '';
      out.on('data', (c) => (text += c));
      const bar = progressBar('-', 'bytes', out as unknown as NodeJS.WriteStream);
      bar.update(100, undefined);
      bar.update(5000, undefined);
      bar.stop();
      assert.match(text, /5000 bytes/);
      assert.doesNotMatch(text, /%/);
    });
  });

  describe('issue 9.14: folders', () => {
    it('issue 9.14: a folder is read recursively, each file as its own kind (cache dir, local-dir export, trace, bundle, remote value with its key, .gz); the rest is counted', async () => {
      const { readFileSync } = await import('node:fs');
      const { gzipSync } = await import('node:zlib');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const top = join(dir, 'cache');
      mkdirSync(join(top, 'dynamo'), { recursive: true });
      mkdirSync(join(top, 'logs', 'deep'), { recursive: true });
      mkdirSync(join(top, 'remote'));
      copyFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'), join(top, 'dynamo', 'code_state_fixture_None_.pkl'));
      writeFileSync(join(top, 'dynamo', 'code_state_fixture_None_.pkl.lock'), '');
      writeFileSync(join(top, 'fxgraph.bin'), Buffer.from([7, 7, 7, 7, 0, 0, 0, 0]));
      copyFileSync(join(TORCH, 'traces/cold-local.log'), join(top, 'logs', 'deep', 'rank0.log'));
      writeFileSync(join(top, 'logs', 'warm.log.gz'), gzipSync(readFileSync(join(TORCH, 'traces/warm-local.log'))));
      copyFileSync(join(TORCH, 'megacache/eager-cold-run.bin'), join(top, 'bundle.bin'));
      copyFileSync(join(TORCH, 'remote/redis_value.json'), join(top, 'remote', 'redis_value.json'));
      copyFileSync(join(TORCH, 'remote/redis_key.txt'), join(top, 'remote', 'redis_key.txt'));
      writeFileSync(join(top, 'obs.jsonl.gz'), gzipSync(obs({ job: 'fixture', time: 3 }) + '\n'));
      const path = db();
      const r = cli(path, ['ingest', top, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.deepEqual(s.kinds, { pickle: 1, trace: 2, megacache: 1, 'remote-json': 1, observations: 1 });
      assert.equal(s.not_pgo, 3, 'the lock file, another artifact and the key file');
      assert.equal(cli(path, ['show', '--job', 'fixture']).status, 0);
      // pgo-ledger's own local-dir export reads back
      const out = join(dir, 'export');
      const e = cli(path, ['export', '--job', 'fixture', '--format', 'local-dir', '-o', out]);
      assert.equal(e.status, 0, e.stderr);
      const back = cli(db(), ['ingest', out, '--json']);
      assert.equal(back.status, 0, back.stderr);
      assert.deepEqual(JSON.parse(back.stdout).kinds, { pickle: 1 });
    });
    it('issue 9.14: a folder with nothing readable is a clear error', () => {
      const empty = join(dir, 'nothing');
      mkdirSync(empty);
      writeFileSync(join(empty, 'a.lock'), '');
      writeFileSync(join(empty, 'b.bin'), Buffer.from([1, 2, 3]));
      const r = cli(db(), ['ingest', empty]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /nothing: failed: nothing to read: 2 files, none a TORCH_TRACE log, profile pickle, mega-cache, remote value or observation lines/);
    });
    it('issue 9.14: a bad pickle in a folder is named as a pickle, not a trace without a cache key', () => {
      const d = join(dir, 'badpkl');
      mkdirSync(d);
      writeFileSync(join(d, 'code_state_x_None_.pkl'), Buffer.from([0x80, 4, 0x95, 1]));
      const r = cli(db(), ['ingest', d]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /code_state_x_None_\.pkl: failed: pickle: /);
      assert.doesNotMatch(r.stderr, /names no PGO cache key/);
    });
  });

  describe('issue 9.15: several inputs', () => {
    it('issue 9.15: one bad input does not stop the rest; one line each; exit 2 and a summary naming it', () => {
      const path = db();
      const good1 = join(dir, 'good1.jsonl');
      const good2 = join(dir, 'good2.jsonl');
      const bad = join(dir, 'bad-input.jsonl');
      writeFileSync(good1, obs({ time: 1 }));
      writeFileSync(good2, obs({ time: 2 }));
      writeFileSync(bad, '{"job": 1}');
      const r = cli(path, ['ingest', good1, bad, good2, join(dir, 'missing.pkl')]);
      assert.equal(r.status, 2);
      assert.match(r.stdout, /good1\.jsonl: observations: 1 event appended/);
      assert.match(r.stdout, /good2\.jsonl: observations: 1 event appended/);
      assert.match(r.stderr, /bad-input\.jsonl: failed: .*bad-input\.jsonl:1: field/);
      assert.match(r.stderr, /2 inputs failed \(the others were ingested\): .*bad-input\.jsonl, .*missing\.pkl/);
      assert.equal(count(path), 2);
    });
    it('issue 9.15: --json names a failure the same way for an input and for a file of a folder: {input, error}', () => {
      const path = db();
      const folder = join(dir, 'json-failures');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'good.jsonl'), obs({ time: 1 }));
      writeFileSync(join(folder, 'bad.jsonl'), '{"job": 1}');
      const bad = join(dir, 'json-bad.jsonl');
      writeFileSync(bad, '{"job": 1}');
      const r = cli(path, ['ingest', '--json', folder, bad]);
      assert.equal(r.status, 2, r.stderr);
      const [inFolder, alone] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(inFolder.failed.length, 1);
      assert.deepEqual(Object.keys(inFolder.failed[0]), ['input', 'error']);
      assert.match(inFolder.failed[0].error, /bad\.jsonl:1: field/);
      assert.deepEqual(Object.keys(alone), ['input', 'error']);
      assert.match(alone.error, /json-bad\.jsonl:1: field/);
    });
    it('issue 9.15: stdin takes every kind, detected from its first bytes (pickle, gzipped trace, remote value with --key)', async () => {
      const { readFileSync } = await import('node:fs');
      const { gzipSync } = await import('node:zlib');
      const { spawnSync } = await import('node:child_process');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const { fileURLToPath } = await import('node:url');
      const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
      const run = (path: string, args: string[], input: Buffer) => spawnSync(process.execPath, ['--import', 'tsx', main, '--db', path, ...args], { input, encoding: 'utf8' });
      const p1 = db();
      const a = run(p1, ['ingest', '--job', 'fixture', '-'], readFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl')));
      assert.equal(a.status, 0, a.stderr);
      assert.match(a.stdout, /^standard input: pickle: \d+ events? appended/);
      const b = run(db(), ['ingest', '-'], gzipSync(readFileSync(join(TORCH, 'traces/cold-local.log'))));
      assert.equal(b.status, 0, b.stderr);
      assert.match(b.stdout, /^standard input: trace: \d+ events? appended/);
      const c = run(db(), ['ingest', '--key', 'pt2:dynamo-pgo::fixture:None::c1', '-'], readFileSync(join(TORCH, 'remote/redis_value.json')));
      assert.equal(c.status, 0, c.stderr);
      assert.match(c.stdout, /^standard input: remote-json: \d+ events? appended/);
    });
  });

  describe('issue 9.5: ids from pickles too', () => {
    it('issue 9.5: a pickled source name with a newline or a lone surrogate is refused, naming the file and field; nothing written', async () => {
      const { pickleProfile } = await import('../codecs/pickle/index.ts');
      for (const [i, source] of ["L['x']\nL['forged']", "L['\ud800']"].entries()) {
        const entries = new Map<string, FrameStateSizeEntry>([[source, { scalar: 1, size: UNSET, stride: UNSET }]]);
        const codes = new Map([['k', { id: { filename: '/a.py', firstlineno: 1, name: 'f', file_hash: 'h' }, state: { automaticDynamic: entries } }]]);
        const file = join(dir, `code_state_ids${i}_None_.pkl`);
        writeFileSync(file, pickleProfile({ codes }, 4));
        const path = db();
        const r = cli(path, ['ingest', file]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`code_state_ids${i}_None_\\.pkl: failed: field source: .* holds a control character or a lone surrogate`));
        nothingWritten(path, r);
      }
    });
  });

  describe('issue 9.5: keys from bundles', () => {
    it('issue 9.5: a mega-cache pgo artifact whose key is no job:rank:tag is a clear error naming the file (exit 2, not an internal error)', async () => {
      const { decodeMegaCache, encodeMegaCache } = await import('../codecs/megacache.ts');
      const { readFileSync } = await import('node:fs');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      // an empty key (trial s27b: named alone it reached the append and failed there, exit 70,
      // and the inputs after it were never read), one part, two
      for (const [i, key] of ['a:b', '', 'job'].entries()) {
        const m = decodeMegaCache(readFileSync(join(TORCH, 'megacache/eager-cold-run.bin')));
        for (const a of m.artifacts) if (a.type === 'pgo') a.key = key;
        const file = join(dir, `badkey${i}.bin`);
        writeFileSync(file, encodeMegaCache(m));
        const path = db();
        const r = cli(path, ['ingest', file]);
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`badkey${i}\\.bin: failed: pgo artifact 0: not a PGO cache key \\(want job:rank:tag\\): ${JSON.stringify(key)}`));
        nothingWritten(path, r);
        // with --job, and a good input after it, which goes in
        const again = db();
        const r2 = cli(again, ['ingest', '--job', 'j', file, join(TORCH, 'megacache/eager-warm-run.bin')]);
        assert.equal(r2.status, 2, r2.stderr);
        assert.match(r2.stderr, /1 input failed \(the others were ingested\)/);
        assert.match(r2.stdout, /eager-warm-run\.bin: megacache: \d+ events appended/);
      }
    });
  });

  describe('issue 9.6: traces too', () => {
    it("a trace entry naming a source with a control character or a lone surrogate is said at its line and left out; the rest goes in (trial s27b: the whole log failed)", async () => {
      const { readFileSync } = await import('node:fs');
      const { TORCH } = await import('../../test/support/fixtures.ts');
      const text = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').split('\n');
      // line 55: compile 0/0's describe_source of L['x']
      assert.match(text[54], /"describe_source": \{"describer_id": 0, "id": 0, "source": "L\['x'\]"\}/);
      // a C1 control too (U+0085, a line break to some readers; trial s27c: taken silently)
      for (const [i, name] of ['x\\u0000', 'x\\u001b[31m', 'x\\udc80', 'x\\u0085'].entries()) {
        const lines = [...text];
        lines[54] = lines[54].replace(`"L['x']"`, `"L['${name}']"`);
        const file = join(dir, `bad-source-${i}.log`);
        writeFileSync(file, lines.join('\n'));
        const r = cli(db(), ['ingest', file]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /trace: 52 events appended, 0 already in the log, 1 problem said above/);
        assert.match(r.stderr, new RegExp(`bad-source-${i}\\.log:55: source "L\\['x\\\\u[0-9a-f]{4}[^"]*'\\]" holds a control character or a lone surrogate; a ledger cannot hold it: what the entry tells of it is left out`));
      }
      // bytes that are no UTF-8 in the source (read as U+FFFD; trial s27b: stored silently as L['x\ufffd\ufffd'])
      const raw = Buffer.from(text.join('\n'), 'utf8');
      const at = raw.indexOf(Buffer.from(`"source": "L['x']"`)) + `"source": "L['x`.length;
      const bad = Buffer.concat([raw.subarray(0, at), Buffer.from([0xff, 0xfe]), raw.subarray(at)]);
      const file = join(dir, 'bad-utf8.log');
      writeFileSync(file, bad);
      const r = cli(db(), ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /trace: 52 events appended, 0 already in the log, 1 problem said above/);
      assert.match(r.stderr, /bad-utf8\.log:55: source "L\['x\ufffd\ufffd'\]" holds U\+FFFD, the replacement character that bytes which are no UTF-8 decode to; a ledger cannot hold it/);
      // an observation line's alike: the line refused, naming it
      const lines = join(dir, 'bad-utf8.jsonl');
      writeFileSync(lines, Buffer.concat([Buffer.from(`{"job": "u", "code": {"filename": "a.py", "firstlineno": 1, "name": "f", "file_hash": "h"}, "source": "L['y`), Buffer.from([0xff, 0xfe]), Buffer.from(`']", "kind": "scalar", "value": 3}\n`)]));
      const o = cli(db(), ['ingest', lines]);
      assert.equal(o.status, 2, o.stderr);
      assert.match(o.stderr, /bad-utf8\.jsonl:1: field source: holds U\+FFFD, the replacement character that bytes which are no UTF-8 decode to/);
    });

    it("issue 9.6: a trace's co_filename naming a FIFO is never opened; the path stands in for the hash", async () => {
      const { execFileSync } = await import('node:child_process');
      const fifo = join(dir, 'trace-fifo.py');
      execFileSync('mkfifo', [fifo]);
      const head = (meta: object) => `V1126 05:46:07.428000 576 torch/_dynamo/utils.py:2126] ${JSON.stringify({ ...meta, frame_id: 0, frame_compile_id: 0, attempt: 0 })}`;
      const file = join(dir, 'co-filename.log');
      writeFileSync(
        file,
        [
          head({ compilation_metrics: { compile_id: '0/0', co_name: 'f', co_filename: fifo, co_firstlineno: 1, compiler_config: JSON.stringify({ job_id: 'tr' }), start_time: 1700000000 } }),
          head({ chromium_event: {} }),
          `\t${JSON.stringify({ name: 'automatic_dynamic', ts: 1700000000000000, args: { compile_id: '0/0', name: "L['x']", dim_changed: 0, reason: 'size change', cached: '2', new: '3' } })}`,
        ].join('\n') + '\n',
      );
      const path = db();
      const r = cli(path, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(textRows(path, 'select filename, file_hash from codes'), [[fifo, fifo]]);
    });
  });
});
