import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { DIALECTS, execOn, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const line = (t: number, run: string) => `${JSON.stringify({ job: 'j', run, time: t, code: { filename: '/srv/a.py', firstlineno: 1, name: 'f', file_hash: 'x' }, source: "L['x']", kind: 'tensor', size: [2], stride: [1] })}\n`;

// Trial s33a: on PostgreSQL an ingest's dictionary rows (its runs among them) are committed apart
// from the batch that names them, so an ingest that failed after them (or was killed, or lost its
// server) left run r2's row with no event of r2; `--exclude-run r2` was then taken as a run the
// ledger holds, where a SQLite ledger refused it. A run is known by its events. The row is put
// in by hand here: what such an ingest leaves, on either backend.
for (const dialect of DIALECTS)
  describe(`${dialect}: a run's row with no events (a failed PostgreSQL ingest's leftover)`, () => {
    it('--exclude-run of it is no such run, and the runs listed are those with events', () => {
      const db = ledgerAt(dialect, dir, 'left.db');
      writeFileSync(join(dir, 'r1.jsonl'), line(1795687320, 'r1'));
      assert.equal(cli(db, ['ingest', join(dir, 'r1.jsonl')]).status, 0);
      execOn(db, "insert into runs(run) values ('r2')");
      const r = cli(db, ['show', '--exclude-run', 'r2']);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--exclude-run r2: no such run in .*\(runs there: r1; /);
      // a run with events is still taken, and its events are left out
      const ok = cli(db, ['show', '--exclude-run', 'r1']);
      assert.equal(ok.status, 0, ok.stderr);
      // once the run has events, it is known
      writeFileSync(join(dir, 'r2.jsonl'), line(1795687330, 'r2'));
      assert.equal(cli(db, ['ingest', join(dir, 'r2.jsonl')]).status, 0);
      assert.equal(cli(db, ['show', '--exclude-run', 'r2']).status, 0);
    });
  });
