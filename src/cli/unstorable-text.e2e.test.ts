import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES, TORCH } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

/**
 * probe3 run 2's TORCH_TRACE log with one payload's text changed and its MD5 made right again
 * (as trial s33a's make-logs.py wrote them): the entry at line `at` (its payload the tab-led
 * lines after it) through `edit`.
 */
function variant(name: string, find: (lines: string[]) => number, edit: (payload: string) => string): string {
  const lines = gunzipSync(readFileSync(join(FIXTURES, 'multirun', 'probe3', 'run2', 'trace.log.gz'))).toString('latin1').split('\n');
  const at = find(lines);
  let end = at + 1;
  while (end < lines.length && lines[end].startsWith('\t')) end++;
  const old = lines.slice(at + 1, end).map((l) => l.slice(1)).join('\n');
  const now = edit(old);
  assert.notEqual(now, old, name);
  const md5 = (t: string) => createHash('md5').update(Buffer.from(t, 'latin1')).digest('hex');
  lines[at] = lines[at].replace(md5(old), md5(now));
  lines.splice(at + 1, end - at - 1, ...now.split('\n').map((l) => `\t${l}`));
  const file = join(dir, name);
  writeFileSync(file, Buffer.from(lines.join('\n'), 'latin1'));
  return file;
}
const reasons = (l: string[]) => l.findIndex((x) => x.includes('"name": "recompile_reasons"'));
const record = (l: string[]) => l.indexOf('\t"name": "automatic_dynamic",') - 2;

// Trial s33a: a NUL in a record's or guard's text: SQLite took the log, PostgreSQL refused all of
// it ("invalid byte sequence for encoding UTF8: 0x00"), so a SQLite ledger could not be copied to
// PostgreSQL; a lone surrogate was kept as one U+FFFD by one store and three by the other, and
// `verify` failed on a fresh ledger.
const LOGS = [
  { name: 'guard-nul.log', find: reasons, edit: (o: string) => JSON.stringify([o.replace("'x'", "'x\u0000'")]), said: /recompile_reasons of compile 0\/1: a reason holds a NUL or a lone surrogate, which the ledger cannot keep as written; skipped/ },
  { name: 'cached-nul.log', find: record, edit: (o: string) => o.replace('"cached": "2"', '"cached": "2\\u0000"'), said: /automatic_dynamic for L\['self'\]._modules\['inner'\].k in compile 0\/0: field cached holds a NUL or a lone surrogate, which the ledger cannot keep as written; skipped/ },
  { name: 'cached-surrogate.log', find: record, edit: (o: string) => o.replace('"cached": "2"', '"cached": "2\\ud800"'), said: /field cached holds a NUL or a lone surrogate/ },
  { name: 'guard-surrogate.log', find: reasons, edit: (o: string) => `["${o.replace("'x'", "'x\\ud800'").replace(/\n/g, '\\n')}"]`, said: /a reason holds a NUL or a lone surrogate/ },
];

for (const dialect of DIALECTS)
  describe(`${dialect}: text the ledger cannot keep as written, in a trace's records`, () => {
    for (const v of LOGS)
      it(`${v.name}: said and skipped, the rest of the log in; verify passes`, () => {
        const file = variant(`${dialect}-${v.name}`, v.find, v.edit);
        const db = ledgerAt(dialect, dir, `${v.name}.db`);
        const r = cli(db, ['ingest', file]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, v.said);
        assert.match(r.stdout, /trace: \d+ events appended/);
        const verify = cli(db, ['verify']);
        assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      });
  });

describe('times to the millisecond (trial s33a: --as-of the time jobs printed held nothing)', () => {
  it("a pickle whose file time has a fraction of a millisecond: --as-of that millisecond holds it", () => {
    const db = join(dir, 'mtime.db');
    const f = join(dir, 'code_state_fixture_None_.pkl');
    copyFileSync(join(TORCH, 'local', 'code_state_fixture_None_.pkl'), f);
    utimesSync(f, 1795687200.123456, 1795687200.123456);
    assert.equal(cli(db, ['ingest', f]).status, 0);
    const time = (JSON.parse(cli(db, ['jobs', '--json']).stdout) as { time: string }).time;
    assert.equal(time, '2026-11-26T10:00:00.123Z');
    const r = cli(db, ['show', '--as-of', time]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, cli(db, ['show']).stdout);
  });

  it("an observation line's seconds with a fraction of a millisecond: that millisecond; two lines within it one event", () => {
    const db = join(dir, 'obs.db');
    const line = (t: number) => `${JSON.stringify({ job: 'obs', time: t, code: { filename: '/srv/a.py', firstlineno: 1, name: 'f', file_hash: 'x' }, source: "L['x']", kind: 'tensor', size: [2], stride: [1] })}\n`;
    writeFileSync(join(dir, 'a.jsonl'), line(1795687320.2505));
    writeFileSync(join(dir, 'b.jsonl'), line(1795687320.2506));
    assert.equal(cli(db, ['ingest', join(dir, 'a.jsonl')]).status, 0);
    const b = cli(db, ['ingest', '--json', join(dir, 'b.jsonl')]);
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual([JSON.parse(b.stdout).appended, JSON.parse(b.stdout).duplicates], [0, 1]);
    assert.match(cli(db, ['show', '--as-of', '2026-11-26T10:02:00.250Z']).stdout, /L\['x'\]/);
  });
});
