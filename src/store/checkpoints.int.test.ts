import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { renderProfile } from '../model/render.ts';
import { checkpointPositions } from './checkpoints.ts';
import { historyAsOf } from './history.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';
import type { Window } from './window.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

  /** Lines over 3 runs and 2 code ids whose dims turn dynamic at different points; times rise. */
  function lines(from: number, n: number): string {
    const out: string[] = [];
    for (let i = from; i < from + n; i++) {
      const run = `r${(i >> 4) % 3}`;
      const code = { filename: '/m.py', firstlineno: 1 + (i % 2), name: i % 2 ? 'g' : 'f', file_hash: 'h' };
      const size = [i < 40 ? 8 : [8, 16][i % 2], 4 + (i > 90 && run === 'r2' ? 1 : 0)];
      out.push(JSON.stringify({ job: 'c', run, time: new Date(T0 + i * 1000).toISOString(), code, source: i % 3 ? "L['x']" : "L['y']", kind: 'tensor', size, stride: [size[1], 1] }));
    }
    return out.join('\n') + '\n';
  }

  describe('issue 10.1: checkpoints', () => {
    const dir = tempDir();
    let l: Ledger;
    let pid: number;
    const windows: Window[] = [];
    const answers = (w: Window) => JSON.stringify([renderProfile(l.fold(pid, w).profile), historyAsOf(l, pid, w).map((h) => [h.position, h.name, h.dim_changed, h.new])]);

    before(async () => {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '7';
      l = await openLedger(ledgerAt(dialect, dir, 'c.db'));
      for (let k = 0; k < 12; k++) {
        writeFileSync(join(dir, `part${k}.jsonl`), lines(k * 10, 10));
        await ingestFile(l, join(dir, `part${k}.jsonl`));
      }
      pid = l.profileByKey('c:None:')!.id;
      for (let p = 0; p <= 125; p += 3) windows.push({ untilPosition: p });
      for (let t = 0; t <= 125; t += 11) windows.push({ untilTime: T0 + t * 1000 });
      windows.push({ excludeRuns: ['r1'] }, { untilPosition: 100, excludeRuns: ['r2'] }, {});
    });
    after(async () => {
      delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
      await l.close();
    });

    it('issue 10.1: history as of a position from the stored rows equals a fresh fold', () => {
      // excluding a run that does not exist forces the fresh fold and leaves nothing out
      const rows = (w: Window) => historyAsOf(l, pid, w);
      for (const w of windows.filter((x) => x.untilPosition !== undefined && !x.excludeRuns)) assert.deepEqual(rows(w), rows({ ...w, excludeRuns: ["no-such-run"] }));
    });

    it('issue 10.1: the append path writes them, and deleting them changes no answer', () => {
      assert.ok(checkpointPositions(l.sql, pid).length >= 8, String(checkpointPositions(l.sql, pid)));
      const withCp = windows.map(answers);
      l.sql.run('delete from checkpoints');
      assert.deepEqual(windows.map(answers), withCp);
    });

    it('issue 10.1: replay rebuilds them; verify checks them and names a damaged one', () => {
      l.replay();
      assert.ok(checkpointPositions(l.sql, pid).length >= 15);
      const withCp = windows.map(answers);
      assert.deepEqual(verifyLedger(l).differences, []);
      // a checkpoint that says L['x'] of f was static at [8, 4] all along
      const pos = checkpointPositions(l.sql, pid).at(-1)!;
      const other = checkpointPositions(l.sql, pid)[0];
      l.sql.run('update checkpoints set state = (select state from checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', pid, other, pid, pos);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`checkpoint at ${pos} differs`));
      l.replay();
      assert.deepEqual(verifyLedger(l).differences, []);
      assert.deepEqual(windows.map(answers), withCp);
    });

    it('issue 10.1: a retraction after a checkpoint: answers still equal those without checkpoints', () => {
      retractRun(l, 'r2');
      const more = [...windows, { untilPosition: 200 }, { untilTime: Date.now() + 1000 }];
      const withCp = more.map(answers);
      const rows = (w: Window) => historyAsOf(l, pid, w);
      for (const w of more.filter((x) => x.untilPosition !== undefined && !x.excludeRuns)) assert.deepEqual(rows(w), rows({ ...w, excludeRuns: ["no-such-run"] }));
      assert.deepEqual(verifyLedger(l).differences, []);
      l.sql.run('delete from checkpoints');
      assert.deepEqual(more.map(answers), withCp);
    });
  });
});
