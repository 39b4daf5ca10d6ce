import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { logCountSizes, logCountsUntil, windowEvents } from './log-counts.ts';
import { dictionaries } from './log.ts';
import { whyCheckpointPositions } from './why-checkpoints.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/**
 * The report's counts (logCountSizes: no set of runs for a source in every run) against
 * logCountsUntil's, from the newest why-checkpoint plus a tail that brings what the checkpoint
 * lacks: a run new to the profile for a source in every run, a run of the profile new to a
 * source with its own runs, a new source; and from the log alone where the stored counts
 * cannot be read.
 */
for (const dialect of DIALECTS) describe(dialect, () => {
  const dir = tempDir();
  let l: Ledger;
  let pid: number;
  const line = (run: string, source: string, i: number) =>
    JSON.stringify({ job: 'n', run, time: new Date(Date.UTC(2026, 10, 26) + i * 1000).toISOString(), code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source, kind: 'tensor', size: [8, 4], stride: [4, 1] });
  const sizes = () => {
    const c = logCountsUntil(l.sql, pid);
    const want = [...c.sources.values()].flatMap((m) => [...m.values()]).map((s) => ({ codeId: s.codeId, sourceId: s.sourceId, n: s.n, runs: s.runs.size }));
    return { want: { runs: [...c.runs], sources: want }, have: ((h) => ({ runs: [...h.runs], sources: h.sources }))(logCountSizes(l.sql, dictionaries(l.sql), pid)) };
  };

  before(async () => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '6';
    l = await openLedger(ledgerAt(dialect, dir, 'n.db'));
    // L['a'] in every run, L['b'] in r0 only: the checkpoint writes 0 for a's runs, b's list
    // (the last one late: a time before it holds events after it, not the checkpoint's at #6)
    const head = [line('r0', "L['a']", 0), line('r0', "L['b']", 1), line('r1', "L['a']", 2), line('r0', "L['a']", 3), line('r1', "L['a']", 4), line('r0', "L['a']", 20)];
    writeFileSync(join(dir, 'head.jsonl'), `${head.join('\n')}\n`);
    await ingestFile(l, join(dir, 'head.jsonl'));
    pid = l.profileByKey('n:None:')!.id;
    const tail = [line('r2', "L['a']", 6), line('r1', "L['b']", 7), line('r2', "L['c']", 8)];
    writeFileSync(join(dir, 'tail.jsonl'), `${tail.join('\n')}\n`);
    await ingestFile(l, join(dir, 'tail.jsonl'));
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    await l.close();
  });

  it('issue 10 goal 1: the report\'s counts from the newest why-checkpoint and the tail are logCountsUntil\'s, each source\'s runs counted', () => {
    assert.deepEqual(whyCheckpointPositions(l.sql, pid).length, 1);
    const stored = inflateSync(l.sql.get<{ counts: Uint8Array }>('select counts from why_checkpoints where profile_id = ?', pid)!.counts).toString();
    assert.match(stored, /"sources":\[\[\d+,\d+,5,0\],\[\d+,\d+,1,\[\d+\]\]\]/, 'a in every run (0), b its own list');
    const { want, have } = sizes();
    assert.deepEqual(have.runs, want.runs);
    assert.deepEqual(have.sources, want.sources);
    // a in r0, r1 and the tail's r2; b in r0 and r1; c in r2
    assert.deepEqual(
      have.sources.map((s) => [s.n, s.runs]),
      [
        [6, 3],
        [2, 2],
        [1, 1],
      ],
    );
  });

  // Session 23: the report's counts ignored the window (--as-of, --exclude-run, a retraction):
  // each window's counts against the events window.ts's rule keeps, counted one by one.
  it("session 23: a window's counts (as of a position or a time, runs left out) are those of the events it folds", () => {
    const dict = dictionaries(l.sql);
    const folded = (w: Window) => {
      const left = leftOutRuns(l.sql, pid, w, dict);
      const by = new Map<string, { codeId: number; sourceId: number; n: number; runs: Set<number> }>();
      const runs = new Set<number>();
      let events = 0;
      let lastTime: number | null = null;
      for (const [position, time, codeId, sourceId, runId, kind] of l.sql.allRaw('select position, time, code_id, source_id, run_id, kind from events where profile_id = ? order by position', pid)) {
        if (!inWindow(w, Number(position), Number(time)) || (runId !== null && left.has(dict.run(Number(runId))))) continue;
        events++;
        lastTime = Math.max(lastTime ?? -Infinity, Number(time));
        if (runId !== null) runs.add(Number(runId));
        if (kind !== 'shape.observed') continue;
        const k = `${codeId}:${sourceId}`;
        const s = by.get(k) ?? (by.set(k, { codeId: Number(codeId), sourceId: Number(sourceId), n: 0, runs: new Set() }), by.get(k)!);
        s.n++;
        if (runId !== null) s.runs.add(Number(runId));
      }
      const sort = (a: { codeId: number; sourceId: number }, b: { codeId: number; sourceId: number }) => a.codeId - b.codeId || a.sourceId - b.sourceId;
      return { runs: [...runs].sort(), sources: [...by.values()].map((s) => ({ codeId: s.codeId, sourceId: s.sourceId, n: s.n, runs: s.runs.size })).sort(sort), events, lastTime };
    };
    const p = l.profileByKey('n:None:')!;
    const have = (w: Window) => {
      const h = logCountSizes(l.sql, dict, pid, w);
      const e = windowEvents(l.sql, dict, pid, w, { events: p.eventCount, lastTime: p.lastTime });
      return { runs: [...h.runs].sort(), sources: [...h.sources].sort((a, b) => a.codeId - b.codeId || a.sourceId - b.sourceId), events: e.events, lastTime: e.lastTime };
    };
    const t0 = Date.UTC(2026, 10, 26);
    const windows: Window[] = [
      {},
      ...[0, 3, 6, 7, 8, 9].map((p) => ({ untilPosition: p })),
      { untilTime: t0 + 4000 },
      { untilTime: t0 + 7000 },
      { untilTime: t0 + 20000 },
      { untilTime: t0 + 7000, untilPosition: 8 },
      { excludeRuns: ['r0'] },
      { excludeRuns: ['r1'] },
      { excludeRuns: ['r2'] },
      { untilPosition: 8, excludeRuns: ['r1'] },
    ];
    // (a view checkpoint every 6 events: at #6, which the events and last time of a window past it start from)
    assert.ok(l.sql.get('select 1 from checkpoints where profile_id = ? and position = 6', pid));
    for (const w of windows) assert.deepEqual(have(w), folded(w), JSON.stringify(w));
    // as of the end of r0's first events: r1 and r2 not there yet
    assert.deepEqual(have({ untilPosition: 2 }).sources.map((s) => [s.n, s.runs]), [[1, 1], [1, 1]]);
    assert.deepEqual(have({ excludeRuns: ['r0'] }).sources.map((s) => [s.n, s.runs]), [[3, 2], [1, 1], [1, 1]]);
  });

  it('issue 10 goal 1: stored counts that cannot be read: the log counted from the start, as logCountsUntil counts it', () => {
    l.sql.run('update why_checkpoints set counts = ? where profile_id = ?', Buffer.from([0]), pid);
    const { want, have } = sizes();
    assert.deepEqual(have, want);
    assert.deepEqual(
      have.sources.map((s) => [s.n, s.runs]),
      [
        [6, 3],
        [2, 2],
        [1, 1],
      ],
    );
  });
});
