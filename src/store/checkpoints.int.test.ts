import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { renderProfile } from '../model/render.ts';
import { reportProfile } from '../report/report-data.ts';
import { checkpointPositions } from './checkpoints.ts';
import { historyAsOf } from './history.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';
import type { Window } from './window.ts';
import { explain } from './why.ts';
import { whyCheckpointPositions } from './why-checkpoints.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

/** An answer, or the error it is (a window before a source's first event has none: explain says so). */
const attempt = <T>(f: () => T): T | string => {
  try {
    return f();
  } catch (e) {
    return (e as Error).message;
  }
};

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
    /** why (every dynamic dim; every dim of each source; one code id; one dim) and the report, over a window. */
    const whyAnswers = (w: Window) =>
      JSON.stringify(
        [
          explain(l, pid, { window: w }),
          attempt(() => explain(l, pid, { window: w, source: "L['x']" })),
          attempt(() => explain(l, pid, { window: w, source: "L['y']", code: 'g' })),
          attempt(() => explain(l, pid, { window: w, source: "L['x']", dim: { field: 'size', index: 1 } })),
          reportProfile(l, l.profileByKey('c:None:')!, w),
        ],
        (_k, x) => (typeof x === 'bigint' ? `${x}n` : x),
      );

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
      // a time bound forces the fresh fold, and one past every event leaves nothing out (an unknown run left out is an error)
      const rows = (w: Window) => historyAsOf(l, pid, w);
      for (const w of windows.filter((x) => x.untilPosition !== undefined && !x.excludeRuns)) assert.deepEqual(rows(w), rows({ ...w, untilTime: Number.MAX_SAFE_INTEGER }));
    });

    it('issue 10.1: the append path writes them, and deleting them changes no answer', () => {
      assert.ok(checkpointPositions(l.sql, pid).length >= 8, String(checkpointPositions(l.sql, pid)));
      assert.deepEqual(verifyLedger(l).differences, []);
      const withCp = windows.map(answers);
      const whyWithCp = windows.map(whyAnswers);
      assert.deepEqual(whyCheckpointPositions(l.sql, pid), checkpointPositions(l.sql, pid));
      l.sql.run('delete from why_checkpoints');
      assert.deepEqual(windows.map(whyAnswers), whyWithCp);
      l.sql.run('delete from checkpoints');
      assert.deepEqual(windows.map(answers), withCp);
      assert.deepEqual(windows.map(whyAnswers), whyWithCp);
    });

    it('issue 10.1: why and the report read the why-checkpoint: one holding another point changes the answer', () => {
      l.replay();
      const [first, , third] = whyCheckpointPositions(l.sql, pid);
      const honest = whyAnswers({ untilPosition: third });
      // the state of `first` stored as that of `third`: a fold from it misses the events between
      l.sql.run('update why_checkpoints set state = (select state from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', pid, first, pid, third);
      assert.notEqual(whyAnswers({ untilPosition: third }), honest);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`why-checkpoint at ${third} differs`));
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', Buffer.from([0]), pid, first);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`why-checkpoint at ${first} is unreadable`));
      // the report's counts of the log: those of `first` stored as those of the newest
      const last = whyCheckpointPositions(l.sql, pid).at(-1)!;
      const report = JSON.stringify(reportProfile(l, l.profileByKey('c:None:')!));
      l.sql.run('update why_checkpoints set counts = (select counts from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', pid, first, pid, last);
      assert.notEqual(JSON.stringify(reportProfile(l, l.profileByKey('c:None:')!)), report);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`log counts of the why-checkpoint at ${last} differ`));
      l.replay();
      assert.deepEqual(verifyLedger(l).differences, []);
      assert.equal(whyAnswers({ untilPosition: third }), honest);
    });

    it("a checkpoint's state that cannot be read costs time, not the answer, and stops no append; its event count or latest time changed is named by verify (trial s25a)", async () => {
      l.replay();
      const honest = windows.map(answers);
      const whyHonest = windows.map(whyAnswers);
      const cps = checkpointPositions(l.sql, pid);
      const [mid, last] = [cps[Math.floor(cps.length / 2)], cps.at(-1)!];
      for (const at of [mid, last]) l.sql.run('update checkpoints set state = ? where profile_id = ? and position = ?', Buffer.from([0x78, 0x9c, 1, 2, 3]), pid, at);
      // was: "incorrect header check" from every read in their ranges
      assert.deepEqual(windows.map(answers), honest);
      assert.deepEqual(windows.map(whyAnswers), whyHonest);
      assert.deepEqual(verifyLedger(l).differences.filter((d) => / is unreadable /.test(d)).map((d) => d.replace(/ \(.*?\):/, ':')), [mid, last].map((at) => `c:None:: checkpoint at ${at} is unreadable: delete it, or run pgo-ledger replay`));
      // an append folds on from the damaged newest one (was: the ingest failed, nothing written)
      writeFileSync(join(dir, 'after-damage.jsonl'), lines(120, 10));
      await ingestFile(l, join(dir, 'after-damage.jsonl'));
      l.replay();
      assert.deepEqual(verifyLedger(l).differences, []);
      // what --as-of a time and the report's counters read without the state
      const at = checkpointPositions(l.sql, pid)[2];
      l.sql.run('update checkpoints set max_time = max_time + 86400000 where profile_id = ? and position = ?', pid, at);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`checkpoint at ${at} says \\d+ events up to it, the latest at \\S+; the log holds \\d+, the latest at`));
      l.replay();
      l.sql.run('update checkpoints set event_count = event_count - 5 where profile_id = ? and position = ?', pid, at);
      assert.equal(verifyLedger(l).differences.length, 1);
      l.replay();
      assert.deepEqual(verifyLedger(l).differences, []);
    });

    it("a why-checkpoint's state with a byte flipped inside a piece (raw deflate, no check of its own) is unreadable by its CRC: answers and appends go on (trial s25c: an internal error in every why and ingest)", async () => {
      l.replay();
      const honest = windows.map(whyAnswers);
      const last = whyCheckpointPositions(l.sql, pid).at(-1)!;
      const state = Buffer.from(l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', pid, last)!.state);
      assert.equal(state[0], 7, 'version 7 (version 6\'s bytes): a CRC-32 at its end');
      // a byte of the first piece (after the version, the piece count and its length)
      state[12] ^= 0x10;
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', state, pid, last);
      assert.deepEqual(windows.map(whyAnswers), honest);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`why-checkpoint at ${last} is unreadable \\(a why-checkpoint's bytes fail their CRC-32`));
      writeFileSync(join(dir, 'after-why-damage.jsonl'), lines(130, 10));
      await ingestFile(l, join(dir, 'after-why-damage.jsonl'));
      l.replay();
      assert.deepEqual(verifyLedger(l).differences, []);
    });

    it('issue 10.1: replay rebuilds them; verify checks them and names a damaged one', () => {
      const whyBefore = windows.map(whyAnswers);
      l.replay();
      assert.ok(checkpointPositions(l.sql, pid).length >= 15);
      assert.deepEqual(whyCheckpointPositions(l.sql, pid), checkpointPositions(l.sql, pid));
      assert.deepEqual(windows.map(whyAnswers), whyBefore);
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
      const whyWithCp = more.map(whyAnswers);
      const rows = (w: Window) => historyAsOf(l, pid, w);
      for (const w of more.filter((x) => x.untilPosition !== undefined && !x.excludeRuns)) assert.deepEqual(rows(w), rows({ ...w, untilTime: Number.MAX_SAFE_INTEGER }));
      assert.deepEqual(verifyLedger(l).differences, []);
      l.sql.run('delete from checkpoints');
      assert.deepEqual(more.map(answers), withCp);
      assert.deepEqual(more.map(whyAnswers), whyWithCp);
    });

    it('issue 10.1: appends after a retraction write why-checkpoints that verify and answer alike', async () => {
      for (let k = 12; k < 16; k++) {
        writeFileSync(join(dir, `part${k}.jsonl`), lines(k * 10, 10));
        await ingestFile(l, join(dir, `part${k}.jsonl`));
      }
      assert.ok(whyCheckpointPositions(l.sql, pid).length >= 3, String(whyCheckpointPositions(l.sql, pid)));
      assert.deepEqual(verifyLedger(l).differences, []);
      const more = [...windows, { untilPosition: 160 }, { untilPosition: 200, excludeRuns: ['r0'] }, {}];
      const whyWithCp = more.map(whyAnswers);
      l.sql.run('delete from why_checkpoints');
      assert.deepEqual(more.map(whyAnswers), whyWithCp);
    });
  });

  describe('issue 10.1: checkpoints of a profile with more entries than a checkpoint\'s worth of events', () => {
    // 60 entries (30 code ids x 2 sources), each seen first in the first 60 events, then again
    const wide = (from: number, n: number) => {
      const out: string[] = [];
      for (let i = from; i < from + n; i++) {
        const e = i % 60;
        const code = { filename: '/w.py', firstlineno: 1 + (e >> 1), name: `f${e >> 1}`, file_hash: 'h' };
        out.push(JSON.stringify({ job: 'wide', run: 'r0', time: new Date(T0 + i * 1000).toISOString(), code, source: e % 2 ? "L['x']" : "L['y']", kind: 'tensor', size: [8, 4], stride: [4, 1] }));
      }
      return out.join('\n') + '\n';
    };
    it('a checkpoint costs the whole state: one is due once as many events as the profile holds entries have come since the last (and the 10 PGO_LEDGER_CHECKPOINT_EVERY asks); answers and verify agree', async () => {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '10';
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 'wide.db'));
      try {
        for (let k = 0; k < 10; k++) {
          writeFileSync(join(dir, `w${k}.jsonl`), wide(k * 20, 20));
          await ingestFile(l, join(dir, `w${k}.jsonl`));
        }
        const pid = l.profileByKey('wide:None:')!.id;
        // the append path, after each batch of 20: 20 events and entries; at 80, 60 since and 60 entries; ...
        assert.deepEqual(checkpointPositions(l.sql, pid), [20, 80, 140, 200]);
        assert.deepEqual(whyCheckpointPositions(l.sql, pid), [20, 80, 140, 200]);
        assert.deepEqual(verifyLedger(l).differences, []);
        const windows: Window[] = [{}, { untilPosition: 45 }, { untilPosition: 150 }, { untilPosition: 199 }];
        const answers = () => JSON.stringify([windows.map((w) => renderProfile(l.fold(pid, w).profile)), windows.map((w) => attempt(() => explain(l, pid, { window: w, source: "L['x']" }))), reportProfile(l, l.profileByKey('wide:None:')!, {})]);
        const withCp = answers();
        // replay: at 10 (10 entries), then each 60 events (its 60 entries)
        l.replay();
        assert.deepEqual(checkpointPositions(l.sql, pid), [10, 70, 130, 190]);
        assert.deepEqual(whyCheckpointPositions(l.sql, pid), [10, 70, 130, 190]);
        assert.deepEqual(verifyLedger(l).differences, []);
        assert.equal(answers(), withCp);
        l.sql.run('delete from checkpoints');
        l.sql.run('delete from why_checkpoints');
        assert.equal(answers(), withCp);
      } finally {
        delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
        await l.close();
      }
    });
  });

  describe('issue 10.1/10.7: events the fold leaves unchanged, only counted', () => {
    it('issue 10.7: a body that changed nothing, brought again after an overwrite, a change or a retraction: the append path and replay (which only count it) give what a fresh fold gives', async () => {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '3';
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 'u.db'));
      try {
        const A = [8, 4];
        const B = [16, 4];
        const C = [8, 5];
        // the same bodies (shapes) in two code ids and two sources; an overwrite (automatic_dynamic
        // false) makes the entry static again, so a body that changed nothing before changes it again
        const seq: [number[], boolean][] = [[A, true], [A, true], [B, true], [A, true], [B, true], [A, false], [A, true], [B, true], [B, true], [C, true], [A, false], [A, true], [A, true], [C, true], [B, true], [A, false], [B, true], [A, true]];
        const line = (i: number, k: number, size: number[], auto: boolean) =>
          JSON.stringify({ job: 'u', run: `r${(i >> 2) % 3}`, time: new Date(T0 + i * 1000).toISOString(), code: { filename: '/m.py', firstlineno: 1 + k, name: k ? 'g' : 'f', file_hash: 'h' }, source: i % 2 ? "L['x']" : "L['y']", kind: 'tensor', size, stride: [size[1], 1], automatic_dynamic: auto });
        let i = 0;
        const batch = async (name: string, n: number) => {
          const out: string[] = [];
          for (let j = 0; j < n; j++, i++) for (const k of [0, 1]) for (const [size, auto] of [seq[i % seq.length], seq[(i * 7) % seq.length]]) out.push(line(i, k, size, auto));
          writeFileSync(join(dir, name), out.join('\n') + '\n');
          await ingestFile(l, join(dir, name));
        };
        for (let b = 0; b < 6; b++) await batch(`u${b}.jsonl`, 9);
        retractRun(l, 'r1');
        for (let b = 6; b < 10; b++) await batch(`u${b}.jsonl`, 9);
        const p = l.profileByKey('u:None:')!;
        assert.ok(whyCheckpointPositions(l.sql, p.id).length >= 10, String(whyCheckpointPositions(l.sql, p.id)));
        assert.ok(historyAsOf(l, p.id).length >= 4);
        // verify folds each checkpoint afresh, step by step (no event only counted)
        assert.deepEqual(verifyLedger(l).differences, []);
        const windows: Window[] = [{}, { excludeRuns: ['r0'] }];
        for (let pos = 1; pos <= p.lastPosition!; pos += 41) windows.push({ untilPosition: pos });
        const answers = () =>
          JSON.stringify(
            windows.map((w) => [renderProfile(l.fold(p.id, w).profile), historyAsOf(l, p.id, w), explain(l, p.id, { window: w }), attempt(() => explain(l, p.id, { window: w, source: "L['x']" })), reportProfile(l, l.profileByKey('u:None:')!, w)]),
            (_k, x) => (typeof x === 'bigint' ? `${x}n` : x),
          );
        const withCp = answers();
        l.sql.run('delete from why_checkpoints');
        l.sql.run('delete from checkpoints');
        assert.equal(answers(), withCp);
        l.replay();
        // (a profile with a retraction gets none from replay: every prefix no longer folds alike)
        assert.deepEqual(verifyLedger(l).differences, []);
        assert.equal(answers(), withCp);
        // and without the retraction: replay writes a why-checkpoint every 3 events of the profile
        l.sql.run("delete from events where kind = 'run.retracted'");
        l.sql.run('update profiles set event_count = (select count(*) from events where profile_id = profiles.id)');
        l.replay();
        assert.ok(whyCheckpointPositions(l.sql, p.id).length >= 20, String(whyCheckpointPositions(l.sql, p.id).length));
        assert.deepEqual(verifyLedger(l).differences, []);
      } finally {
        delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
        await l.close();
      }
    });
  });

  describe('issue 10.1: why-checkpoints over imports and traces', () => {
    it("issue 10.1: imported snapshots, PyTorch's records and described inputs: why and the report from why-checkpoints equal a fold from the start", async () => {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '2';
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 't.db'));
      try {
        // one file a batch, the ledger kept open: the append path keeps why's state from one checkpoint to the next
        for (const f of ['workload2/code_state_fixture2_0_.pkl', 'traces/cold-local.log', 'traces/warm-local.log', 'traces/cold-remote.log']) {
          await ingestFile(l, join(TORCH, f), { defaults: { job: 'fixture', rank: null } });
        }
        const p = l.profiles().find((x) => x.eventCount > 4)!;
        assert.ok(whyCheckpointPositions(l.sql, p.id).length >= 3, String(whyCheckpointPositions(l.sql, p.id)));
        assert.deepEqual(verifyLedger(l).differences, []);
        const last = l.profileByKey(p.cacheKey)!.lastPosition!;
        const windows: Window[] = [{}, { untilTime: Number.MAX_SAFE_INTEGER }]; // (a what-if that leaves nothing out: an unknown run is an error)
        for (let pos = 1; pos <= last; pos++) windows.push({ untilPosition: pos });
        const answers = () =>
          JSON.stringify(
            windows.map((w) => [explain(l, p.id, { window: w }), reportProfile(l, l.profileByKey(p.cacheKey)!, w)]),
            (_k, x) => (typeof x === 'bigint' ? `${x}n` : x),
          );
        const withCp = answers();
        l.sql.run('delete from why_checkpoints');
        assert.equal(answers(), withCp);
        l.replay();
        assert.ok(whyCheckpointPositions(l.sql, p.id).length >= 3);
        assert.equal(answers(), withCp);
        assert.deepEqual(verifyLedger(l).differences, []);
      } finally {
        delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
        await l.close();
      }
    });
  });
});
