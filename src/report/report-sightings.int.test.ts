import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { compileOfAttempt } from '../codecs/trace/envelope.ts';
import { describedShapes } from '../store/described-shapes.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import type { Window } from '../store/window.ts';
import { reportProfile } from './report-data.ts';
import { explain } from '../store/why.ts';

// probe3 (test/fixtures/multirun/README.md): three runs of one job, each warm-started from the
// profile file the run before left (get_local_code_state at its start)
const PROBE3 = join(FIXTURES, 'multirun', 'probe3');

for (const dialect of DIALECTS) {
  describe(`${dialect}: the report's observations of a source are the times it was fed, as why counts them (trial s25b)`, () => {
    const dir = tempDir();
    /** The report's observations per code name and source, and its candidates to keep static. */
    const seen = (l: Ledger, window: Window = {}) => {
      const r = reportProfile(l, l.profileByKey('probe3:None:')!, window);
      const obs = new Map<string, number>();
      for (const c of r.codes) for (const s of c.sources) obs.set(`${c.code.split(':').pop()} ${s.source}`, s.observations);
      return { obs, keep: r.keepStatic.map((k) => `${k.code.split(':').pop()} ${k.source} ${k.observations}/${k.runs}`) };
    };
    /** The compiles that described each tensor source (run, compile; a restarted attempt is its compile). */
    const compiles = (l: Ledger, window: Window = {}) => {
      const by = new Map<string, Set<string>>();
      for (const d of describedShapes(l, l.profileByKey('probe3:None:')!.id, window)) {
        const k = `${d.code.name} ${d.source}`;
        if (!by.has(k)) by.set(k, new Set());
        by.get(k)!.add(`${d.run} ${compileOfAttempt(d.compileId!)}`);
      }
      return by;
    };

    it("a warm start's loaded profile is no sighting: at run 2's end glob's L['x'] was fed twice, and is no candidate to keep static (was 3, a candidate)", async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'two.db'));
      for (const n of [1, 2]) await ingestFile(l, join(PROBE3, `run${n}`, 'trace.log.gz'));
      const { obs, keep } = seen(l);
      assert.equal(obs.get("glob L['x']"), 2);
      assert.ok(!keep.some((k) => k.startsWith("glob L['x']")), keep.join('; '));
      // listdict: 1/0 and 1/1 in run 1, 1/0 in run 2 (was 4)
      assert.equal(obs.get("listdict L['xs'][1]"), 3);
      assert.ok(keep.includes("listdict L['xs'][1] 3/2"), keep.join('; '));
      for (const [k, c] of compiles(l)) if (obs.has(k)) assert.equal(obs.get(k), c.size, k);
      await l.close();
    });

    it('over the whole log, and within --as-of, each source is counted once a compile that saw it; a profile file beside the logs adds none', async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'three.db'));
      const ends: number[] = [];
      for (const n of [1, 2, 3]) {
        await ingestFile(l, join(PROBE3, `run${n}`, 'trace.log.gz'));
        ends.push(l.profileByKey('probe3:None:')!.lastPosition!);
      }
      const whole = seen(l);
      // forward compiled 4 times (run 1 0/0; run 2 0/0, 0/1; run 3 0/0): its int attribute too (was 6)
      assert.equal(whole.obs.get("forward L['self']._modules['inner'].k"), 4);
      assert.equal(whole.obs.get("forward L['scale']"), 4);
      for (const window of [{}, { untilPosition: ends[0] }, { untilPosition: ends[1] }]) {
        const { obs } = seen(l, window);
        // (flip's L['x'] was an int in runs 1 and 2, described as no tensor)
        for (const [k, c] of compiles(l, window)) if (obs.has(k) && k !== "flip L['x']") assert.equal(obs.get(k), c.size, `${k} in ${JSON.stringify(window)}`);
      }
      assert.equal(whole.obs.get("flip L['x']"), 3);
      // each run's own profile file: the join of what its compiles fed, no sighting of its own
      for (const n of [1, 2, 3]) await ingestFile(l, join(PROBE3, `run${n}`, 'code_state_probe3_None_.pkl'), { defaults: { run: `file${n}` } });
      assert.deepEqual(seen(l).obs, whole.obs);
      await l.close();
    });

    it('a profile of files only: each file once, as before', async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'files.db'));
      for (const n of [1, 2, 3]) await ingestFile(l, join(PROBE3, `run${n}`, 'code_state_probe3_None_.pkl'), { defaults: { run: `file${n}` } });
      const { obs } = seen(l);
      assert.equal(obs.get("forward L['x']"), 3);
      await l.close();
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`${dialect}: a warm-started compile's put holds what the run loaded; the tensors it was not fed are not counted as fed (trial s25c)`, () => {
    const dir = tempDir();
    const runs = async (set: string, key: string) => {
      const l = await openLedger(ledgerAt(dialect, dir, `${set}.db`));
      for (const n of [1, 2, 3]) await ingestFile(l, join(FIXTURES, 'multirun', set, `run${n}`, 'trace.log.gz'));
      const p = l.profileByKey(key)!;
      const obs = new Map<string, number>();
      const r = reportProfile(l, p);
      for (const c of r.codes) for (const s of c.sources) obs.set(`${c.code.split(':').pop()} ${s.source}`, s.observations);
      return { l, p, obs, keep: r.keepStatic.map((k) => `${k.code.split(':').pop()} ${k.source}`) };
    };
    it("probe5's varlen: [randn(2), randn(2)], then three, then [randn(3)]: xs[1] was fed twice and is no candidate to keep static; why counts it so", async () => {
      const { l, p, obs, keep } = await runs('probe5', 'probe5:None:');
      assert.deepEqual(["L['xs'][0]", "L['xs'][1]", "L['xs'][2]"].map((s) => obs.get(`varlen ${s}`)), [3, 2, 1]);
      assert.ok(!keep.includes("varlen L['xs'][1]"), keep.join('; '));
      const [story] = explain(l, p.id, { code: 'varlen', source: "L['xs'][1]", dim: { field: 'size', index: 0 } });
      assert.deepEqual(story.values.map((v) => [v.value, v.count, v.runs.length]), [['2', 2, 2]]);
      // probe5.py: strided and offset are fed a view in runs 1 and 2 only
      assert.equal(obs.get("strided L['x']._base"), 2);
      assert.equal(obs.get("offset L['x']._base"), 2);
      await l.close();
    });
    it("probe4's expanded: a view in runs 1 and 2, a plain tensor in run 3: its ._base was fed twice", async () => {
      const { l, obs } = await runs('probe4-local', 'probe4:None:');
      assert.equal(obs.get("expanded L['x']._base"), 2);
      assert.equal(obs.get("expanded L['x']"), 3);
      await l.close();
    });
  });
}
