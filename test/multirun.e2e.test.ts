import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { FIXTURES, TORCH } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';

// Three runs of one job that PyTorch 2.11 wrote (fixtures/multirun/README.md): what pgo-ledger
// folds from their traces must be, after each run, the profile file PyTorch left, byte for
// byte, and its render text.
const RUNS = join(FIXTURES, 'multirun');
const run = (n: number, f: string) => join(RUNS, `run${n}`, f);
const PKL = 'code_state_probe3_None_.pkl';
const dir = tempDir();

function ok(r: { status: number; stdout: string; stderr: string }): string {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('three runs PyTorch wrote, read from their traces', () => {
  it('after each run: export is the file PyTorch left, byte for byte, and show its render', () => {
    const db = join(dir, 'runs.db');
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
      const out = join(dir, `export-${n}.pkl`);
      ok(cli(db, ['export', '--job', 'probe3', '--format', 'pickle', '-o', out]));
      assert.deepEqual(readFileSync(out), readFileSync(run(n, PKL)), `run ${n}`);
      assert.equal(ok(cli(db, ['show', '--job', 'probe3'])), readFileSync(run(n, 'render.txt'), 'utf8') + '\n', `run ${n}`);
    }
  });

  it('--as-of each run\'s last event gives that run\'s file; the traces in reverse order give the last', () => {
    const db = join(dir, 'asof.db');
    const ends: number[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
      ends.push(Number((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { position: number }).position));
    }
    for (const [i, end] of ends.entries()) {
      const out = join(dir, `asof-${i + 1}.pkl`);
      ok(cli(db, ['export', '--job', 'probe3', '--as-of', String(end), '--format', 'pickle', '-o', out]));
      assert.deepEqual(readFileSync(out), readFileSync(run(i + 1, PKL)), `as of run ${i + 1}`);
    }
    const rev = join(dir, 'rev.db');
    for (const n of [3, 2, 1]) ok(cli(rev, ['ingest', run(n, 'trace.log.gz')]));
    const out = join(dir, 'rev.pkl');
    ok(cli(rev, ['export', '--job', 'probe3', '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(run(3, PKL)));
  });
});

describe("why on the three runs: PyTorch's records, each from the run that logged it", () => {
  const db = join(dir, 'why.db');
  const runNames: string[] = [];
  for (const n of [1, 2, 3]) {
    ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
    const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
    runNames.push(runs.find((r) => !runNames.includes(r))!);
  }
  type Rec = { name: string; cached: string; new: string };
  const records = [1, 2, 3].map((n) => JSON.parse(readFileSync(run(n, 'records.json'), 'utf8')) as Rec[]);
  // PyTorch's str() of a value (InferStride(dim=1), <AutoDynamic.token: 0>, tuples) as show says it
  const said = (v: string) => {
    const t = v.replace(/InferStride\(dim=(\d+)\)/g, 'S($1)').replace(/<AutoDynamic\.token: 0>/g, '?');
    return t.startsWith('(') ? `[${t.slice(1, -1).replace(/,\s*$/, '')}]` : t;
  };

  it('every dim that a record made dynamic names the run whose records.json holds it, in show\'s words', () => {
    const out = ok(cli(db, ['why', '--job', 'probe3', '--json']));
    assert.doesNotMatch(out, /InferStride|AutoDynamic/);
    type Story = { source: string; became_dynamic: { run: string; kind: string } | null; logged: { cached: string; new: string } | null };
    const stories = JSON.parse(out) as Story[];
    let checked = 0;
    for (const st of stories) {
      if (!st.logged || st.became_dynamic?.kind !== 'dynamic.logged') continue;
      const i = records.findIndex((rs) => rs.some((r) => r.name === st.source && said(r.cached) === st.logged!.cached && said(r.new) === st.logged!.new));
      assert.ok(i >= 0, `${st.source}: ${st.logged.cached} -> ${st.logged.new} is a record PyTorch logged`);
      assert.equal(st.became_dynamic.run, runNames[i], `${st.source}: ${st.logged.cached} -> ${st.logged.new}`);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} dims checked`);
  });

  it('an int that became a tensor (flip): its sizes are dynamic by the int\'s entry, not by a mark', () => {
    const out = ok(cli(db, ['why', '--job', 'probe3', '--code', 'flip']));
    assert.doesNotMatch(out, /mark_dynamic|remove the mark/);
    assert.match(out, /the number of dims \(size\): dynamic in #\d+ [^\n]*\n {4}L\['x'\] was a tensor in some events and an int in others/);
    assert.match(out, /the int itself: static 3 in #\d+ .*dynamic in #\d+ .*\n {4}PyTorch logged at compile 5\/0: scalar change 3 -> 5/);
  });
});

describe("a profile file PyTorch wrote comes back byte for byte (each code state's source names their own objects)", () => {
  const files = [run(1, PKL), run(2, PKL), run(3, PKL), join(TORCH, 'local/code_state_fixture_None_.pkl'), join(TORCH, 'workload2/code_state_fixture2_0_.pkl')];
  for (const [i, file] of files.entries()) {
    it(file.slice(FIXTURES.length + 1), () => {
      const db = join(dir, `file-${i}.db`);
      ok(cli(db, ['ingest', file, '--job', `j${i}`]));
      for (const format of ['pickle', 'remote-json'] as const) {
        const out = join(dir, `file-${i}.${format}`);
        ok(cli(db, ['export', '--job', `j${i}`, '--format', format, '-o', out]));
        const bytes = format === 'pickle' ? readFileSync(out) : Buffer.from((JSON.parse(readFileSync(out, 'utf8')) as { data: string }).data, 'base64');
        assert.deepEqual(bytes, readFileSync(file), format);
      }
    });
  }
});
