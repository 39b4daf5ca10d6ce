import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial 19: an empty job or source in an observation line was said in zod's words ("Too
// small: expected string to have >=1 characters"), where every other bad field says what it takes.
const dir = tempDir();
const line = (o: object) => JSON.stringify({ job: 'j', run: 'r', time: 5, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'scalar', value: 1, ...o });

describe('an observation line with an empty job or source', () => {
  it('is bad input said in the project\'s words, naming the field', () => {
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, [line({ job: '' }), line({ source: '' })].join('\n') + '\n');
    const r = cli(join(dir, 'e.db'), ['ingest', '--skip-invalid', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /empty\.jsonl:1: field job: empty: give the job id \(torch\.compiler\.config\.job_id\), or leave the field out \(or null\) to take --job/);
    assert.match(r.stderr, /empty\.jsonl:2: field source: empty: a source is PyTorch's name of an input, such as L\['x'\]/);
    assert.doesNotMatch(r.stderr, /Too small/);
  });
});
