import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s32: a dim of 97 values printed them all, with their runs, on one line of about 3 KB.
const dir = tempDir();

describe("why's text lists at most 20 values", () => {
  it('60 values in 30 runs: 20 said and "and 40 more"; --json has all 60', () => {
    const db = join(dir, 'values.db');
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ job: 'v', run: `r${i % 30}`, code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [i + 1, 2], stride: [2, 1] }));
    writeFileSync(join(dir, 'values.jsonl'), lines.join('\n') + '\n');
    assert.equal(cli(db, ['ingest', join(dir, 'values.jsonl')]).status, 0);
    const text = cli(db, ['why']).stdout;
    const seen = text.split('\n').find((l) => l.trimStart().startsWith('values seen: '))!;
    assert.match(seen, /^ {4}values seen: 1 \(1x, runs r0\); 2 \(1x, runs r1\); .*; 20 \(1x, runs r19\); and 40 more \(--json lists them\)$/);
    assert.match(text, /dim 0 of L\['x'\] took 60 values \(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, and 40 more\); only feeding it one value/);
    const [story] = JSON.parse(cli(db, ['why', '--json']).stdout) as { values: unknown[] }[];
    assert.equal(story.values.length, 60);
  });

  // Trial s35b F9: a value only lines with no run fed read `8 (1x)` beside values with runs, as
  // if its runs went unsaid; where no value names a run, no run words at all.
  it('a value only run-less lines fed says "no run" beside values with runs', () => {
    const db = join(dir, 'norun.db');
    const line = (run: string | undefined, n: number, t: number) => JSON.stringify({ job: 'v', run, time: `2026-11-26T10:00:0${t}Z`, code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [n], stride: [1] });
    writeFileSync(join(dir, 'norun.jsonl'), [line(undefined, 8, 0), line('r2', 16, 1), line(undefined, 32, 2)].join('\n') + '\n');
    assert.equal(cli(db, ['ingest', join(dir, 'norun.jsonl')]).status, 0);
    assert.match(cli(db, ['why']).stdout, /^ {4}values seen: 8 \(1x, no run\); 16 \(1x, runs r2\); 32 \(1x, no run\)$/m);
    const plain = join(dir, 'plain.db');
    writeFileSync(join(dir, 'plain.jsonl'), [line(undefined, 8, 0), line(undefined, 16, 1)].join('\n') + '\n');
    assert.equal(cli(plain, ['ingest', join(dir, 'plain.jsonl')]).status, 0);
    assert.match(cli(plain, ['why']).stdout, /^ {4}values seen: 8 \(1x\); 16 \(1x\)$/m);
  });
});
