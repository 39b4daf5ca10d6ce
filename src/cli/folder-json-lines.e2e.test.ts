import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s29b: in a folder, a .jsonl whose first line was damaged (NUL bytes a crashed writer left,
// a line that is no JSON) passed as "not PGO data" with every good line after it: exit 0,
// nothing named. Given alone, the same files failed, named.
const dir = tempDir();
const line = (job: string, i: number) => JSON.stringify({ job, run: 'r1', time: 1_800_000_000 + i, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8 + (i % 3), 4], stride: [4, 1] });
const lines = (job: string, n: number) => Array.from({ length: n }, (_, i) => line(job, i)).join('\n') + '\n';

describe('a folder: a file named as JSON lines whose first line is damaged fails, named', () => {
  const d = join(dir, 'obs');
  mkdirSync(d);
  writeFileSync(join(d, 'good.jsonl'), lines('good', 5));
  writeFileSync(join(d, 'nul.jsonl'), Buffer.concat([Buffer.alloc(4), Buffer.from(lines('nul', 1000))]));
  writeFileSync(join(d, 'cut.ndjson'), 'broken first line\n' + lines('cut', 3));
  // what stays no PGO data: another program's JSON lines, JSON of other keys, an empty file, text
  writeFileSync(join(d, 'metrics.jsonl'), '{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4}\n');
  // trial s29c: an array first, good lines after it, passed as no PGO data too
  writeFileSync(join(d, 'array.jsonl'), '[1, 2, 3]\n' + lines('array', 2));
  writeFileSync(join(d, 'empty.jsonl'), '');
  writeFileSync(join(d, 'notes.txt'), 'broken first line\n');

  it('ingest: exit 2, each named with its line; the good file and the others as before', () => {
    const r = cli(join(dir, 'i.db'), ['ingest', '--json', d]);
    assert.equal(r.status, 2, r.stderr);
    const [s] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { appended: number; kinds: Record<string, number>; not_pgo: number; failed: { input: string; error: string }[] });
    assert.deepEqual(s.failed.map((f) => f.input).sort(), [join(d, 'array.jsonl'), join(d, 'cut.ndjson'), join(d, 'nul.jsonl')]);
    assert.match(s.failed.find((f) => f.input.endsWith('array.jsonl'))!.error, /array\.jsonl:1: /);
    assert.match(s.failed.find((f) => f.input.endsWith('cut.ndjson'))!.error, /cut\.ndjson:1: /);
    assert.match(s.failed.find((f) => f.input.endsWith('nul.jsonl'))!.error, /nul\.jsonl:1: /);
    assert.equal(s.appended, 5);
    assert.equal(s.not_pgo, 3, 'metrics.jsonl, empty.jsonl, notes.txt');
    assert.match(r.stderr, /3 inputs failed \(the others were ingested\): .*array\.jsonl, .*cut\.ndjson, .*nul\.jsonl\n/);
  });

  it('watch --once: the same two said, the good file ingested', () => {
    const r = cli(join(dir, 'w.db'), ['watch', '--once', d]);
    assert.match(r.stderr, /cut\.ndjson.*:1: /);
    assert.match(r.stderr, /nul\.jsonl.*:1: /);
    assert.equal((JSON.parse(cli(join(dir, 'w.db'), ['jobs', '--json']).stdout) as { job: string; events: number }).events, 5);
  });
});
