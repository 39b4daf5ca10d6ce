import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s23 (5): a record PyTorch logged had two JSON shapes, history's whole one and why's
// `logged` without dim_changed, run, time, origin, code, source or kind. One vocabulary: why
// gives history's.
const dir = tempDir();

for (const dialect of DIALECTS) describe(`why --json's logged record is history --json's record (${dialect})`, () => {
  const db = ledgerAt(dialect, dir, 'probe5.db');
  const traces = [1, 2, 3].map((n) => join(FIXTURES, 'multirun', 'probe5', `run${n}`, 'trace.log.gz'));

  const check = (window: string[]) => {
    const history = cli(db, ['history', '--job', 'probe5', '--json', ...window]);
    assert.equal(history.status, 0, history.stderr);
    const byPosition = new Map(
      history.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { position: number })
        .map((h) => [h.position, h]),
    );
    const why = cli(db, ['why', '--job', 'probe5', '--json', ...window]);
    assert.equal(why.status, 0, why.stderr);
    const logged = (JSON.parse(why.stdout) as { logged: { position: number; kind: string } | null }[]).flatMap((s) => (s.logged ? [s.logged] : []));
    assert.ok(logged.length >= 5, `records logged: ${logged.length}`);
    for (const l of logged) {
      assert.equal(l.kind, 'dynamic.logged');
      assert.deepEqual(l, byPosition.get(l.position));
    }
    return logged.length;
  };

  it('for each dim a record made dynamic, the whole log and a window', () => {
    const r = cli(db, ['ingest', ...traces]);
    assert.equal(r.status, 0, r.stderr);
    check([]);
    // a run left out, and a point before the last run: the rows the window's history holds
    const run1 = (JSON.parse(cli(db, ['history', '--job', 'probe5', '--json']).stdout.split('\n')[0]) as { run: string }).run;
    check(['--exclude-run', run1]);
    check(['--as-of', '150']);
  });
});
