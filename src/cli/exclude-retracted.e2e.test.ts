import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s34b: --exclude-run of a run the ledger had retracted changed nothing, and said nothing:
// it read as a what-if that was tried.
const dir = tempDir();
const line = (run: string, size: number) => JSON.stringify({ job: 'j', run, time: 1795687320 + size, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });

for (const dialect of DIALECTS)
  describe(`${dialect}: --exclude-run of a retracted run`, () => {
    it('says it changes nothing where the window holds the retraction, and nothing before it', () => {
      const db = ledgerAt(dialect, dir, 'retracted.db');
      writeFileSync(join(dir, 'r.jsonl'), `${line('r1', 1)}\n${line('r2', 2)}\n`);
      assert.equal(cli(db, ['ingest', join(dir, 'r.jsonl')]).status, 0);
      assert.equal(cli(db, ['retract', '--run', 'r2']).status, 0);
      const after = cli(db, ['show', '--exclude-run', 'r2']);
      assert.equal(after.status, 0, after.stderr);
      assert.match(after.stderr, /note: j:None:: --exclude-run r2 changes nothing here: run r2 was retracted at #3, and answers leave it out already/);
      // before the retraction the what-if does leave r2 out: no such note
      const before = cli(db, ['show', '--exclude-run', 'r2', '--as-of', '2']);
      assert.equal(before.status, 0, before.stderr);
      assert.doesNotMatch(before.stderr, /changes nothing/);
      assert.match(before.stdout, /L\['x'\]: tensor size=\[1\]/);
    });
  });
