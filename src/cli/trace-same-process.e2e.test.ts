import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s36b: a log ingested with `--run X`, then watched (watch takes no --run) or ingested
// under its own name or another --run, went in again whole: 106 events for one process, every
// value counted twice, and why's advice said other runs kept a dim dynamic: the same process.
// The README's fleet recipe (backfill with ingest --run, then watch) met it.
const dir = tempDir();
const log = join(TORCH, 'traces', 'cold-local.log');
const events = (db: string) => (JSON.parse(cli(db, ['jobs', '--json']).stdout.trim().split('\n')[0]) as { events: number }).events;

describe("a process's log ingested again under another run name", () => {
  it('ingest --run X, then watch: nothing appended, said; why counts each value once', () => {
    const d = join(dir, 'watched');
    mkdirSync(d, { recursive: true });
    copyFileSync(log, join(d, 'cold-local.log'));
    const db = join(dir, 'watch.db');
    assert.equal(cli(db, ['ingest', '--run', 'train-a', join(d, 'cold-local.log')]).status, 0);
    assert.equal(events(db), 53);
    const w = cli(db, ['watch', d, '--once']);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stderr, /cold-local\.log: the same process as run train-a's, in the ledger already: its events go in as that run's\n/);
    assert.equal(events(db), 53);
    const why = cli(db, ['why', '--source', "L['mask_len']"]).stdout;
    assert.match(why, /values seen: 3 \(1x, runs train-a\); 4 \(1x, runs train-a\)/);
    assert.doesNotMatch(why, /events of other runs/);
  });

  it("ingest with the log's own name, then --run Y (a copy of it too): nothing appended, --run said not used", () => {
    const db = join(dir, 'again.db');
    assert.equal(cli(db, ['ingest', log]).status, 0);
    const copy = join(dir, 'copy.log');
    copyFileSync(log, copy);
    for (const f of [log, copy]) {
      const r = cli(db, ['ingest', '--run', 'rY', f]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /trace: 0 events appended, 53 already in the log/);
      assert.match(r.stderr, /the same process as run fixture:pid576@2026-11-26T05:46:07Z's, in the ledger already: its events go in as that run's \(--run rY not used: retract run fixture:pid576@2026-11-26T05:46:07Z and ingest the log again to name it otherwise\)/);
    }
    assert.equal(events(db), 53);
    // retracted, a --run takes it again under that name, as a snapshot's is
    assert.equal(cli(db, ['retract', '--run', 'fixture:pid576@2026-11-26T05:46:07Z']).status, 0);
    const back = cli(db, ['ingest', '--run', 'again', log]);
    assert.match(back.stdout, /53 events appended/);
    assert.match(back.stderr, /which its profile retracted: taken again as run again's, as --run names it/);
  });
});
