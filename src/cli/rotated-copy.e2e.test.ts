import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// README "Rotated files": an observation is known by its input's first event and its line
// number, so a copy whose lines stand where they stood adds nothing, and lines that moved are
// counted again (the profile unchanged, the values why counts not).
const dir = tempDir();
const line = (t: string, n: number) => JSON.stringify({ job: 'rot', run: 'r1', time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
const older = join(dir, 'app.jsonl.2');
const old = join(dir, 'app.jsonl.1');
writeFileSync(older, [line('2026-11-26T10:00:00Z', 8), line('2026-11-26T10:00:01Z', 8), line('2026-11-26T10:00:02Z', 9)].join('\n') + '\n');
writeFileSync(old, [line('2026-11-26T10:01:00Z', 8), line('2026-11-26T10:01:01Z', 8)].join('\n') + '\n');

function ingest(db: string, file: string): string {
  const r = cli(db, ['ingest', file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
const seen8 = (db: string) => JSON.parse(cli(db, ['why', '--job', 'rot', '--source', "L['x']", '--dim', '0', '--json']).stdout)[0].values.find((v: { value: string }) => v.value === '8').count;

describe('rotated observation files', () => {
  const db = join(dir, 'rot.db');

  it('a rotated copy (renamed, gzipped, grown) adds nothing', () => {
    ingest(db, older);
    ingest(db, old);
    const rotated = join(dir, 'rotated.jsonl.1');
    copyFileSync(older, rotated);
    assert.match(ingest(db, rotated), /: 0 events appended, 3 already in the log/);
    const gz = join(dir, 'app.jsonl.2.gz');
    writeFileSync(gz, gzipSync(readFileSync(older)));
    assert.match(ingest(db, gz), /: 0 events appended, 3 already in the log/);
    const grown = join(dir, 'grown.jsonl');
    writeFileSync(grown, readFileSync(older, 'utf8') + line('2026-11-26T10:00:03Z', 8) + '\n');
    assert.match(ingest(db, grown), /: 1 event appended, 3 already in the log/);
    assert.equal(seen8(db), 5);
  });

  it('lines that moved are counted again: the profile and history stay, why counts them', () => {
    const show = cli(db, ['show', '--job', 'rot']).stdout;
    const history = cli(db, ['history', '--job', 'rot', '--json']).stdout;
    const joined = join(dir, 'joined.jsonl');
    writeFileSync(joined, readFileSync(older, 'utf8') + readFileSync(old, 'utf8'));
    assert.match(ingest(db, joined), /: 2 events appended, 3 already in the log/);
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, readFileSync(older, 'utf8').split('\n').slice(1).join('\n'));
    assert.match(ingest(db, cut), /: 2 events appended, 0 already in the log/);
    assert.equal(cli(db, ['show', '--job', 'rot']).stdout, show);
    assert.equal(cli(db, ['history', '--job', 'rot', '--json']).stdout, history);
    assert.equal(seen8(db), 5 + 2 + 1);
  });
});
