import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const line = (run: string, t: string, n: number) => JSON.stringify({ job: 'rj', run, time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
const first = join(dir, 'a.jsonl');
const later = join(dir, 'b.jsonl');
writeFileSync(first, [line('r0', '2026-11-26T10:00:00Z', 8), line('r1', '2026-11-26T10:01:00Z', 9)].join('\n') + '\n');
writeFileSync(later, [line('r1', '2026-11-26T10:02:00Z', 11), line('r1', '2026-11-26T10:02:30Z', 12), line('r2', '2026-11-26T10:03:00Z', 8)].join('\n') + '\n');

for (const dialect of DIALECTS) describe(dialect, () => {
  describe('ingesting a run retracted before', () => {
    const db = ledgerAt(dialect, dir, 'again.db');

    it('ingest says its new events of that run are stored and left out of every answer', () => {
      assert.equal(cli(db, ['ingest', first]).status, 0);
      assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
      const r = cli(db, ['ingest', later]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${later}: observations: 3 events appended, 0 already in the log; 2 of them of run r1, retracted before: stored, and left out of every answer (a retract is for good)\n`);
      // left out indeed: r0's and r2's 8 only, and the log holds them (verify folds it afresh)
      assert.match(cli(db, ['show', '--job', 'rj']).stdout, /L\['x'\]: tensor size=\[8, 4\]/);
      assert.equal(cli(db, ['verify']).status, 0);
      assert.deepEqual(JSON.parse(cli(db, ['jobs', '--json']).stdout).events, 6);
    });

    it('--json names them by run; the same lines again are duplicates and say nothing of it', () => {
      const again = cli(db, ['ingest', '--json', later]);
      assert.deepEqual(JSON.parse(again.stdout), { input: later, kind: 'observations', appended: 0, duplicates: 3, skipped: 0, records: 0 });
      const more = join(dir, 'c.jsonl');
      writeFileSync(more, [line('r1', '2026-11-26T10:04:00Z', 13), line('r3', '2026-11-26T10:05:00Z', 8)].join('\n') + '\n');
      const r = cli(db, ['ingest', '--json', more]);
      assert.deepEqual(JSON.parse(r.stdout), { input: more, kind: 'observations', appended: 2, duplicates: 0, skipped: 0, records: 0, left_out: [{ run: 'r1', appended: 1 }] });
    });

    it('watch says it too, in its text and --json lines', () => {
      const folder = join(dir, `watched-${dialect}`);
      mkdirSync(folder);
      writeFileSync(join(folder, 'e.jsonl'), line('r1', '2026-11-26T10:07:00Z', 14) + '\n');
      const r = cli(db, ['watch', folder, '--once', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const input = JSON.parse(r.stdout.split('\n')[0]);
      assert.deepEqual([input.appended, input.left_out], [1, [{ run: 'r1', appended: 1 }]]);
      writeFileSync(join(folder, 'f.jsonl'), line('r1', '2026-11-26T10:08:00Z', 15) + '\n');
      const t = cli(db, ['watch', folder, '--once']);
      assert.match(t.stdout, /f\.jsonl: observations: 1 event appended, 0 already in the log; 1 of them of run r1, retracted before: stored, and left out of every answer/);
    });

    it('show of a profile whose every run is retracted prints PyTorch\'s render of it (nothing) and says why on stderr', () => {
      const only = ledgerAt(dialect, dir, 'only.db');
      const one = join(dir, `one-${dialect}.jsonl`);
      writeFileSync(one, line('solo', '2026-11-26T10:00:00Z', 8) + '\n');
      assert.equal(cli(only, ['ingest', one]).status, 0);
      assert.equal(cli(only, ['retract', '--run', 'solo']).status, 0);
      const r = cli(only, ['show', '--job', 'rj']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '\n');
      assert.equal(r.stderr, 'pgo-ledger: rj:None: holds no code id (its runs retracted, or none brought one): PyTorch renders such a profile as nothing\n');
      const w = cli(db, ['show', '--job', 'rj', '--as-of', '2026-11-25T00:00:00Z']);
      assert.match(w.stderr, /rj:None: holds no code id in the window given \(--as-of\/--exclude-run\)/);
    });

    it('a profile that never retracted the run takes it as any other', () => {
      const other = join(dir, 'd.jsonl');
      writeFileSync(other, JSON.stringify({ ...JSON.parse(line('r1', '2026-11-26T10:06:00Z', 8)), job: 'other' }) + '\n');
      const r = cli(db, ['ingest', other]);
      assert.equal(r.stdout, `${other}: observations: 1 event appended, 0 already in the log\n`);
    });
  });
});
