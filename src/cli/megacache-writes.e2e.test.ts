import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s31: a mega-cache bundle holds a pgo artifact for each profile write (one after each
// compile, each the whole profile so far); each artifact counted as a sighting of every value
// it held, so `why` said L['a']._base's dims were "seen 5 times" where the run's own trace
// (compile 1/2, once) says 1.

/** Each source of the cold run's profile, by its code's name. */
const SOURCES: [string, string][] = [
  ['f', "L['x']"],
  ['f', "L['n']"],
  ['g', "L['a']"],
  ['g', "L['b']"],
  ['g', "L['a']._base"],
  ['h', "L['t']"],
  ['forward', "L['x']"],
  ['forward', "L['self'].scale"],
  ['forward', "L['mask_len']"],
];

type Story = { dim: { field: string; index?: number }; dynamic: boolean; current: string; values: { value: string; count: number }[] };

/** The static dims' values and counts, as `why --json` gives them. */
function staticSeen(db: string): string[] {
  return SOURCES.flatMap(([code, source]) => {
    const r = cli(db, ['why', '--job', 'fixture', '--code', code, '--source', source, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as Story[]).filter((s) => !s.dynamic).map((s) => `${code} ${source} ${s.dim.field}${s.dim.index ?? ''} ${s.current}: ${s.values.map((v) => `${v.value} x${v.count}`).join(', ')}`);
  });
}

for (const dialect of DIALECTS)
  describe(`${dialect}: a mega-cache bundle's writes`, () => {
    const dir = tempDir();

    it("count a code id's sources once a write that compiled it, as the run's trace does; the profile is the trace's", () => {
      const bundle = ledgerAt(dialect, dir, 'bundle.db');
      const trace = ledgerAt(dialect, dir, 'trace.db');
      const r = cli(bundle, ['ingest', '--run', 'cold', join(TORCH, 'megacache', 'eager-cold-run.bin')]);
      assert.equal(r.status, 0, r.stderr);
      // 47 entries in its 9 artifacts; 28 of them a code id's state the write before held too
      assert.match(r.stdout, /megacache: 19 events appended, 28 already in the log, 11 recompile reasons/);
      // said, as "already in the log" of a new ledger read oddly (trial s32)
      assert.match(r.stderr, /eager-cold-run\.bin: 28 entries of its pgo artifacts repeat the same profile's write before them in the bundle \(a code id not compiled in between\): counted already in the log, not joined again$/m);
      assert.equal(cli(trace, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
      const seen = staticSeen(bundle);
      assert.ok(seen.includes("g L['a']._base size0 6: 6 x1"), seen.join('\n'));
      assert.ok(seen.includes("forward L['self'].scale scalar 2: 2 x2"), seen.join('\n'));
      assert.deepEqual(seen, staticSeen(trace));
      assert.equal(cli(bundle, ['show', '--job', 'fixture']).stdout, cli(trace, ['show', '--job', 'fixture']).stdout);
      assert.equal(cli(bundle, ['verify']).status, 0);
      // read again: nothing new
      assert.match(cli(bundle, ['ingest', '--run', 'cold', join(TORCH, 'megacache', 'eager-cold-run.bin')]).stdout, /megacache: 0 events appended, 47 already in the log/);
      // the run's pickle after it: the bundle's last write, the profile's newest snapshot (trial
      // s32: joined again, a sighting more of each value; session 33)
      const pkl = cli(bundle, ['ingest', '--run', 'cold', join(TORCH, 'local', 'code_state_fixture_None_.pkl')]);
      assert.match(pkl.stdout, /pickle: 0 events appended, 9 already in the log/, pkl.stderr);
      assert.doesNotMatch(pkl.stderr, /not used|newest/, 'the same run: nothing to say');
      assert.deepEqual(staticSeen(bundle), staticSeen(trace));
      // the warm run's bundle: its one pgo artifact is the cold run's last write, which it loaded
      // and did not change (trial s32: joined again as the warm run's, 9 events)
      const warm = cli(bundle, ['ingest', '--run', 'warm', join(TORCH, 'megacache', 'eager-warm-run.bin')]);
      assert.match(warm.stdout, /megacache: 0 events appended, 9 already in the log/, warm.stderr);
      assert.match(warm.stderr, /pgo artifact 0 \(fixture:None:\): --run warm not used: the same snapshot as the profile now, joined before as run cold's/);
      assert.deepEqual(staticSeen(bundle), staticSeen(trace));
      // the same bundle under another run: its last write is the profile now, so its earlier
      // writes, joined before, are that bundle's too (trial s33b: 16 of its entries went in again)
      const again = cli(bundle, ['ingest', '--run', 'r2', join(TORCH, 'megacache', 'eager-cold-run.bin')]);
      assert.match(again.stdout, /megacache: 0 events appended, 47 already in the log/, again.stderr);
      assert.deepEqual(staticSeen(bundle), staticSeen(trace));
    });

    it("the bundle's last artifact is the write the run's pickle holds: after the pickle it adds nothing (it was looked for at its own place in the bundle)", () => {
      const db = ledgerAt(dialect, dir, 'pickle-first.db');
      assert.match(cli(db, ['ingest', '--run', 'cold', join(TORCH, 'local', 'code_state_fixture_None_.pkl')]).stdout, /pickle: 9 events appended/);
      // the 8 writes before it add what changed in each (16 events); the last, 3 entries of forward's changed state, is the pickle's
      const r = cli(db, ['ingest', '--run', 'cold', join(TORCH, 'megacache', 'eager-cold-run.bin')]);
      assert.match(r.stdout, /megacache: 16 events appended, 31 already in the log/, r.stderr);
      const scale = JSON.parse(cli(db, ['why', '--job', 'fixture', '--code', 'forward', '--source', "L['self'].scale", '--json']).stdout) as Story[];
      assert.deepEqual(scale.map((s) => s.values.map((v) => v.count)), [[2]], 'compiles 3/0 and 3/1, as the trace says');
      assert.equal(cli(db, ['verify']).status, 0);
      // then the warm run's pickle (the same write): the bundle's earlier writes, read after the
      // pickle, changed nothing of the profile (trial s33b: taken for the newest, and the warm
      // pickle joined again, 9 events, L['self'].scale counted 3 times, runs cold and warm)
      const warm = cli(db, ['ingest', '--run', 'warm', join(TORCH, 'local', 'code_state_fixture_None_.pkl')]);
      assert.match(warm.stdout, /pickle: 0 events appended, 9 already in the log/, warm.stderr);
      const again = JSON.parse(cli(db, ['why', '--job', 'fixture', '--code', 'forward', '--source', "L['self'].scale", '--json']).stdout) as { values: { count: number; runs: string[] }[] }[];
      assert.deepEqual(again.map((s) => s.values.map((v) => [v.count, v.runs])), [[[2, ['cold']]]]);
    });
  });
