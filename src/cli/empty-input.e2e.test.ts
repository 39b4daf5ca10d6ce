import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

describe('an empty input is no observation lines where lines are what it can be, else refused (README "Two commands")', () => {
  it('empty stdin and an empty .jsonl: 0 events, exit 0; an empty .log or .pkl: refused, exit 2', () => {
    const db = join(dir, 'e.db');
    const stdin = cli(db, ['ingest', '-'], '');
    assert.equal(stdin.status, 0, stdin.stderr);
    assert.equal(stdin.stdout, 'standard input: observations: 0 events appended, 0 already in the log\n');
    for (const name of ['empty.jsonl', 'empty.ndjson', 'empty.txt']) {
      writeFileSync(join(dir, name), '');
      const r = cli(db, ['ingest', join(dir, name)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: observations: 0 events appended/);
    }
    for (const name of ['empty.log', 'code_state_x_None_.pkl']) {
      writeFileSync(join(dir, name), '');
      const r = cli(db, ['ingest', join(dir, name)]);
      assert.equal(r.status, 2, name);
      assert.match(r.stderr, new RegExp(`${name.replace('.', '\\.')}: failed: empty file \\(no PGO data\\)`));
    }
  });
});
