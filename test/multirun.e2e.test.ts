import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { cli, cliAs, cliSpawn } from './support/cli.ts';
import { startRedis } from './support/redis-server.ts';
import { FIXTURES, TORCH } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';

// Runs of jobs that PyTorch 2.11 wrote (fixtures/multirun/README.md): what pgo-ledger folds
// from their traces must be, after each run, the profile PyTorch left (its file byte for
// byte, or the value it set in Redis) and its render text; and `why` must name, for each
// dim a record made dynamic, the run that logged it.
const RUNS = join(FIXTURES, 'multirun');
const dir = tempDir();

interface JobRuns {
  set: string;
  /** The profile's flags. */
  key: string[];
  /** The snapshot PyTorch left after each run: the local file, or the Redis value. */
  snapshot: string;
  /** The snapshot's pickle. */
  pickle: (file: string) => Buffer;
  /** Dims at least that a record of the runs made dynamic (default 10). */
  dims?: number;
  /** A rank's own files in each run's folder (`trace-rank0.log.gz`, `render-rank0.txt`, `records-rank0.json`), where a run had several. */
  rank?: number;
}
/** A run's file of the job, by its single-process name (`trace.log.gz`, `render.txt`, `records.json`). */
const ranked = (j: JobRuns, f: string) => (j.rank === undefined ? f : f.replace(/^(trace|render|records)(\.)/, `$1-rank${j.rank}$2`));
const fromValue = (file: string) => Buffer.from((JSON.parse(readFileSync(file, 'utf8')) as { data: string }).data, 'base64');
const JOBS: JobRuns[] = [
  { set: 'probe3', key: ['--job', 'probe3'], snapshot: 'code_state_probe3_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe4-local', key: ['--job', 'probe4'], snapshot: 'code_state_probe4_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe4-remote', key: ['--job', 'team/probe:5', '--tag', 'v1'], snapshot: 'value.json', pickle: fromValue },
  { set: 'probe5', key: ['--job', 'probe5'], snapshot: 'code_state_probe5_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe7', key: ['--job', 'probe7'], snapshot: 'code_state_probe7_None_.pkl', pickle: (f) => readFileSync(f), dims: 9 },
  // warm starts and torch._dynamo.reset() within runs (session 25): which string objects each
  // code id's fields are, by the run and the reset they came after
  { set: 'probe11', key: ['--job', 'probe11'], snapshot: 'code_state_probe11_None_.pkl', pickle: (f) => readFileSync(f), dims: 6 },
  // a training job on two ranks (session 27): a compiled model, loss, optimizer step under an LR
  // schedule and eval; each rank's profile from its own trace
  ...[0, 1].map((rank): JobRuns => ({ set: 'probe12', key: ['--job', 'probe12', '--rank', String(rank)], snapshot: `code_state_probe12_${rank}_.pkl`, pickle: (f) => readFileSync(f), rank })),
  // Inductor on CUDA (session 28): its traces' own entries (Triton kernels, CUDA graphs), two
  // modules' Module.compile(), a call under set_stance("force_eager"), a dtype change
  { set: 'probe15', key: ['--job', 'probe15'], snapshot: 'code_state_probe15_None_.pkl', pickle: (f) => readFileSync(f), dims: 9 },
];

function ok(r: { status: number; stdout: string; stderr: string }): string {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The profile's pickle as pgo-ledger exports it (a remote value's pickle for the remote job). */
function exported(db: string, j: JobRuns, name: string, extra: string[] = []): Buffer {
  const out = join(dir, `${name}.${j.snapshot === 'value.json' ? 'json' : 'pkl'}`);
  ok(cli(db, ['export', ...j.key, ...extra, '--format', j.snapshot === 'value.json' ? 'remote-json' : 'pickle', '-o', out]));
  return j.pickle(out);
}

for (const j of JOBS) {
  const name = j.rank === undefined ? j.set : `${j.set}-rank${j.rank}`;
  const run = (n: number, f: string) => join(RUNS, j.set, `run${n}`, ranked(j, f));
  describe(`${j.set}${j.rank === undefined ? '' : ` rank ${j.rank}`}: three runs PyTorch wrote, read from their traces`, () => {
    it('after each run: the profile PyTorch left, byte for byte, and show its render', () => {
      const db = join(dir, `${name}-runs.db`);
      for (const n of [1, 2, 3]) {
        ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
        assert.deepEqual(exported(db, j, `${name}-${n}`), j.pickle(run(n, j.snapshot)), `run ${n}`);
        assert.equal(ok(cli(db, ['show', ...j.key])), readFileSync(run(n, 'render.txt'), 'utf8') + '\n', `run ${n}`);
      }
    });

    it("--as-of each run's last event gives that run's profile; the traces in reverse order give the last", () => {
      const db = join(dir, `${name}-asof.db`);
      const ends: number[] = [];
      for (const n of [1, 2, 3]) {
        ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
        ends.push((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { position: number }).position);
      }
      for (const [i, end] of ends.entries()) assert.deepEqual(exported(db, j, `${name}-asof-${i}`, ['--as-of', String(end)]), j.pickle(run(i + 1, j.snapshot)), `as of run ${i + 1}`);
      const rev = join(dir, `${name}-rev.db`);
      for (const n of [3, 2, 1]) ok(cli(rev, ['ingest', run(n, 'trace.log.gz')]));
      assert.deepEqual(exported(rev, j, `${name}-rev`), j.pickle(run(3, j.snapshot)));
    });

    it('why: every dim a record made dynamic names the run whose records.json holds it, in show\'s words', () => {
      const db = join(dir, `${name}-why.db`);
      const runNames: string[] = [];
      for (const n of [1, 2, 3]) {
        ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
        const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
        runNames.push(runs.find((r) => !runNames.includes(r))!);
      }
      type Rec = { name: string; dim_changed: string; reason: string; cached: string; new: string };
      const records = [1, 2, 3].map((n) => JSON.parse(readFileSync(run(n, 'records.json'), 'utf8')) as Rec[]);
      // PyTorch's str() of a value (InferStride(dim=1), <AutoDynamic.token: 0>, tuples) as show says it
      const said = (v: string) => {
        const t = v.replace(/InferStride\(dim=(\d+)\)/g, 'S($1)').replace(/<AutoDynamic\.token: 0>|AutoDynamic\.token/g, '?');
        return t.startsWith('(') ? `[${t.slice(1, -1).replace(/,\s*$/, '')}]` : t;
      };
      const out = ok(cli(db, ['why', ...j.key, '--json']));
      assert.doesNotMatch(out, /InferStride|AutoDynamic/);
      type Story = { source: string; dim: { field: string; index?: number | null }; became_dynamic: { run: string; kind: string } | null; logged: { reason: string; cached: string; new: string } | null };
      let checked = 0;
      for (const st of JSON.parse(out) as Story[]) {
        if (!st.logged || st.became_dynamic?.kind !== 'dynamic.logged') continue;
        // a record names no code id: the runs that logged one alike (source, dim, reason, values) all fit
        const dim = st.dim.field === 'scalar' ? 'scalar' : st.dim.index == null ? 'all' : String(st.dim.index);
        const fits = records.flatMap((rs, i) => (rs.some((r) => r.name === st.source && r.dim_changed === dim && r.reason === st.logged!.reason && said(r.cached) === st.logged!.cached && said(r.new) === st.logged!.new) ? [runNames[i]] : []));
        const what = `${st.source} ${dim}: ${st.logged.cached} -> ${st.logged.new}`;
        assert.ok(fits.length, `${what} is a record PyTorch logged`);
        assert.ok(fits.includes(st.became_dynamic.run), `${what}: ${st.became_dynamic.run}, one of ${fits.join(', ')}`);
        checked++;
      }
      assert.ok(checked >= (j.dims ?? 10), `${checked} dims checked`);
    });

    it('the profile PyTorch left, ingested alone, exports byte for byte', () => {
      for (const n of [1, 2, 3]) {
        const db = join(dir, `${name}-alone-${n}.db`);
        ok(cli(db, ['ingest', run(n, j.snapshot), '--job', 'alone']));
        assert.deepEqual(exported(db, { ...j, key: ['--job', 'alone'] }, `${name}-alone-${n}`), j.pickle(run(n, j.snapshot)), `run ${n}`);
      }
    });
  });
}

describe('a folder of a log and the profile file it left, the file named first (session 22: watch.e2e flaked on it)', () => {
  it('watch reads the log first, as a one-shot ingest of the log then the file: the same history', () => {
    const folder = join(dir, 'log-and-file');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(TORCH, 'local', 'code_state_fixture_None_.pkl'), join(folder, 'code_state_fixture_None_.pkl'));
    copyFileSync(join(TORCH, 'traces', 'cold-local.log'), join(folder, 'trace.log'));
    // written a while ago: final to a watch at once
    for (const f of ['code_state_fixture_None_.pkl', 'trace.log']) utimesSync(join(folder, f), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const history = (db: string) => ok(cli(db, ['history', '--job', 'fixture', '--json']));
    const one = join(dir, 'log-then-file.db');
    ok(cli(one, ['ingest', join(folder, 'trace.log'), join(folder, 'code_state_fixture_None_.pkl')]));
    const watched = join(dir, 'watched.db');
    ok(cli(watched, ['watch', folder, '--once', '--settle', '0.1']));
    assert.equal(history(watched), history(one));
    // the records are PyTorch's own, none the file's
    assert.doesNotMatch(history(one), /entry\.imported/);
  });
});

describe("a folder a run, each run's log and the profile file it left (session 23: ingest read a folder in name order)", () => {
  // probe5's runs 1 and 2, each in a folder of its own: the file (code_state_…) is named before the log (trace.log.gz)
  const folder = join(dir, 'runs-folder');
  for (const n of [1, 2]) {
    mkdirSync(join(folder, `run${n}`), { recursive: true });
    for (const f of ['code_state_probe5_None_.pkl', 'trace.log.gz']) {
      copyFileSync(join(RUNS, 'probe5', `run${n}`, f), join(folder, `run${n}`, f));
      // written a while ago: final to a watch at once
      utimesSync(join(folder, `run${n}`, f), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }
  }
  // the tree's logs, then its files (adapters/reading-order.ts)
  const inOrder = ['run1/trace.log.gz', 'run2/trace.log.gz', 'run1/code_state_probe5_None_.pkl', 'run2/code_state_probe5_None_.pkl'].map((f) => join(folder, f));
  const one = join(dir, 'runs-in-order.db');
  const history = (db: string) => ok(cli(db, ['history', '--job', 'probe5', '--json']));
  const why = (db: string) => ok(cli(db, ['why', '--job', 'probe5', '--json']));
  type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; became_dynamic: { kind: string; origin: { name: string } } | null };

  it("ingest of the folder reads the logs before the files: why credits PyTorch's record, not the file", () => {
    ok(cli(one, ['ingest', ...inOrder]));
    const db = join(dir, 'runs-folder.db');
    const r = cli(db, ['ingest', folder]);
    assert.equal(r.status, 0, r.stderr);
    const stories = JSON.parse(why(db)) as Story[];
    // run 1 fed twice() x of [3] then [4]: PyTorch's record in run 1's log made dim 0 dynamic
    const twice = stories.find((s) => s.code.name === 'twice' && s.dim.field === 'size' && s.dim.index === 0)!;
    assert.equal(twice.became_dynamic?.kind, 'dynamic.logged');
    assert.equal(twice.became_dynamic?.origin.name, join(folder, 'run1', 'trace.log.gz'));
    // no dim is credited to a profile file: every log came before it
    for (const s of stories) assert.doesNotMatch(s.became_dynamic?.origin.name ?? '', /\.pkl$/, `${s.code.name} ${s.source}`);
    // and the same answers, positions included, as the files given in that order
    assert.equal(why(db), why(one));
    assert.equal(history(db), history(one));
  });

  it('watch reads the folder in the same order (a gzipped log is a log too)', () => {
    const watched = join(dir, 'runs-watched.db');
    ok(cli(watched, ['watch', folder, '--once', '--settle', '0.1']));
    assert.equal(history(watched), history(one));
  });

  it("a job's cache folder beside its trace folder (cache/ sorts before traces/): the logs first all the same", () => {
    // PyTorch's layout: TORCHINDUCTOR_CACHE_DIR's dynamo/code_state_<job>_None_.pkl (the last run's) and TORCH_TRACE's logs
    const job = join(dir, 'job-folder');
    mkdirSync(join(job, 'cache', 'dynamo'), { recursive: true });
    mkdirSync(join(job, 'traces'), { recursive: true });
    copyFileSync(join(RUNS, 'probe5', 'run2', 'code_state_probe5_None_.pkl'), join(job, 'cache', 'dynamo', 'code_state_probe5_None_.pkl'));
    for (const n of [1, 2]) copyFileSync(join(RUNS, 'probe5', `run${n}`, 'trace.log.gz'), join(job, 'traces', `run${n}.log.gz`));
    const given = join(dir, 'job-in-order.db');
    ok(cli(given, ['ingest', join(job, 'traces', 'run1.log.gz'), join(job, 'traces', 'run2.log.gz'), join(job, 'cache', 'dynamo', 'code_state_probe5_None_.pkl')]));
    const db = join(dir, 'job-folder.db');
    ok(cli(db, ['ingest', job]));
    const stories = JSON.parse(why(db)) as Story[];
    for (const s of stories) assert.doesNotMatch(s.became_dynamic?.origin.name ?? '', /\.pkl$/, `${s.code.name} ${s.source}`);
    assert.equal(why(db), why(given));
    assert.equal(history(db), history(given));
  });
});

describe('values seen with each run\'s profile file beside its log', () => {
  it('a run\'s code_state file counts no value its compiles saw (probe7, probe5: run1/ run2/ run3/, each a log and a pickle)', () => {
    for (const probe of ['probe7', 'probe5']) {
      const traces = join(dir, `${probe}-traces-only.db`);
      for (const n of [1, 2, 3]) ok(cli(traces, ['ingest', join(RUNS, probe, `run${n}`, 'trace.log.gz')]));
      const folder = join(dir, `${probe}-with-files.db`);
      ok(cli(folder, ['ingest', join(RUNS, probe)]));
      type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; values: { value: string; count: number; runs: string[] }[] };
      const values = (db: string) => (JSON.parse(ok(cli(db, ['why', '--job', probe, '--json']))) as Story[]).map((s) => [s.code.name, s.source, s.dim, s.values]);
      assert.deepEqual(values(folder), values(traces), probe);
    }
  });
});

describe('values seen after warm starts', () => {
  it('a value a run only loaded (its get_*_code_state) is not counted as one it saw', () => {
    const db = join(dir, 'values-loaded.db');
    const runNames: string[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')]));
      const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
      runNames.push(runs.find((r) => !runNames.includes(r))!);
    }
    type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; values: { value: string; count: number; runs: string[] }[] };
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe5', '--json']))) as Story[];
    const at = (source: string, field: string) => stories.find((s) => s.code.name === 'forward' && s.source === source && s.dim.field === field)!.values;
    // run 1 fed forward x of 2 rows and self.n = 2; run 2 loaded them, then fed 5 rows and n = 3;
    // run 3 loaded those and fed 5 rows (its compile described them) and n = 3 (dynamic in the
    // profile: no record, and its snapshot holds no value; Dynamo specialized it, as it does an
    // nn.Module's int, and its guard `L['self'].n == 3` tells it, session 26)
    assert.deepEqual(at("L['x']", 'size'), [
      { value: '2', count: 1, runs: [runNames[0]] },
      { value: '5', count: 2, runs: [runNames[1], runNames[2]] },
    ]);
    assert.deepEqual(at("L['self'].n", 'scalar'), [
      { value: '2', count: 1, runs: [runNames[0]] },
      { value: '3', count: 2, runs: [runNames[1], runNames[2]] },
    ]);
  });

  it("a whole field's values are those runs fed, not a snapshot's [?]; stats counts a dim a later rank change took over (session 22's trial)", () => {
    const db = join(dir, 'values-folded.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')]));
    type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; values: { value: string }[] };
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe5', '--json']))) as Story[];
    // twice: run 1 fed [3] then [4] (dim 0 made dynamic), run 2 [5], run 3 [5, 2]
    const size = stories.find((s) => s.code.name === 'twice' && s.dim.field === 'size' && s.dim.index == null)!;
    assert.deepEqual(size.values.map((v) => v.value), ['[3]', '[4]', '[5]', '[5, 2]']);
    for (const s of stories) for (const v of s.values) assert.doesNotMatch(v.value, /\?/, `${s.code.name} ${s.source}`);
    // its dim 0 turned dynamic at run 1's record (3 -> 4); run 3's rank change made the size dynamic whole
    const stats = ok(cli(db, ['stats', '--job', 'probe5']));
    assert.match(stats, /turned dynamic: L\['x'\] size\[0\] in \S+:92:twice at #\d+: 3 seen 1 time, 4 seen 1 time, 5 seen 1 time in 3 observations/);
    assert.doesNotMatch(stats, /no observations of it/);
  });

  it("why: a number of dims static while its size was already dynamic is said so, not \"static [?]\" (session 23)", () => {
    const db = join(dir, 'rank-after-dim.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')]));
    const out = ok(cli(db, ['why', '--job', 'probe5']));
    // twice: run 1's record made dim 0 dynamic ([?], 1 dim), run 3's rank change made the size dynamic whole
    assert.match(out, /\n {2}the number of dims \(size\): static at 1 dim \(\[\?\]: dim 0 already dynamic\) in #\d+ \(compile 13\/1, PyTorch's record, [^\n]*\), dynamic in #\d+ \(compile 10\/0, PyTorch's record/);
    // no whole size or stride is called static beside a dynamic entry
    assert.doesNotMatch(out, /static (at )?\[[^\]\n]*\?/);
    // a whole size all static is said as before
    assert.match(out, /the number of dims \(stride\): static \[1\] in #\d+/);
    // and PyTorch's record's cached [?] is what its profile held, not a value it saw
    assert.match(out, /\n {4}PyTorch's profile held \[\?\], then run \S+ saw \[5, 2\]: /);
  });
});

describe('history --shapes says requires_grad (session 23)', () => {
  it("run 2's grad(randn(3, requires_grad=True)) is told from run 1's grad(randn(3)), as a tensor's repr tells them", () => {
    const db = join(dir, 'requires-grad.db');
    for (const n of [1, 2]) ok(cli(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')]));
    const lines = ok(cli(db, ['history', '--job', 'probe5', '--shapes'])).split('\n');
    const grad = lines.filter((l) => / in grad, /.test(l));
    assert.equal(grad.length, 2, lines.join('\n'));
    assert.match(grad[0], /^compile 7\/0 saw L\['x'\] \[3\] \(stride \[1\], torch\.float32, cpu\) in grad, run probe5:pid490@/);
    assert.match(grad[1], /^compile 7\/0 saw L\['x'\] \[3\] \(stride \[1\], torch\.float32, cpu, requires_grad=True\) in grad, run probe5:pid515@/);
    // a parameter requires grad in both runs
    assert.match(lines[0], /_parameters\['weight'\] \[4, 4\] \(parameter, stride \[4, 1\], torch\.float32, cpu, requires_grad=True\) in forward/);
    type Described = { code: { name: string }; requires_grad: boolean };
    const json = ok(cli(db, ['history', '--job', 'probe5', '--shapes', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as Described);
    assert.deepEqual(json.filter((d) => d.code.name === 'grad').map((d) => d.requires_grad), [false, true]);
  });
});

describe('values seen: what each compile saw', () => {
  type Value = { value: string; count: number; runs: string[] };
  type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; values: Value[] };
  /** The job's runs, in the order of the traces ingested, and its why --json. */
  function ingested(db: string, set: string, job: string): { runs: string[]; stories: Story[] } {
    const runs: string[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, set, `run${n}`, 'trace.log.gz')]));
      const all = (ok(cli(db, ['jobs', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { job: string; runs: string[] }).find((p) => p.job === job)!).runs;
      runs.push(all.find((r) => !runs.includes(r))!);
    }
    return { runs, stories: JSON.parse(ok(cli(db, ['why', '--job', job, '--json']))) as Story[] };
  }
  const dimOf = (s: Story) => (s.dim.field === 'scalar' ? 'scalar' : s.dim.index == null ? s.dim.field : `${s.dim.field}[${s.dim.index}]`);
  const valuesAt = (stories: Story[], code: string, source: string, dim: string) => {
    const s = stories.find((x) => x.code.name === code && x.source === source && dimOf(x) === dim);
    assert.ok(s, `${code} ${source} ${dim}`);
    return s.values.map((v) => [v.value, v.count, v.runs]);
  };

  it("probe5: the sizes each compile's inputs had (a snapshot's dynamic dim holds none), each compile once, credited to its run", () => {
    const { runs: [r1, r2, r3], stories } = ingested(join(dir, 'values-compiles5.db'), 'probe5', 'probe5');
    const at = (code: string, source: string, dim: string) => valuesAt(stories, code, source, dim);
    // twice (w1, w2): run 1 fed [3], then [4]; run 2 [5]; run 3 [5, 2]
    assert.deepEqual(at('twice', "L['x']", 'size'), [['[3]', 1, [r1]], ['[4]', 1, [r1]], ['[5]', 1, [r2]], ['[5, 2]', 1, [r3]]]);
    // the strides Dynamo compares (inferred from the sizes): one per compile, not one per snapshot too
    assert.deepEqual(at('twice', "L['x']", 'stride'), [['[1]', 3, [r1, r2]], ['[S(1), 1]', 1, [r3]]]);
    // np.ones(3), np.ones(5), np.ones((2, 2))
    assert.deepEqual(at('arr', "___from_numpy(L['a'])", 'size'), [['[3]', 1, [r1]], ['[5]', 1, [r2]], ['[2, 2]', 1, [r3]]]);
    // P(randn(3), 2), P(randn(4), 3), P(randn(4, 2), 3)
    assert.deepEqual(at('nt', "L['p'].a", 'size'), [['[3]', 1, [r1]], ['[4]', 1, [r2]], ['[4, 2]', 1, [r3]]]);
    // randn(4, 6)[:, ::2], randn(4, 8)[:, ::2], randn(4, 4): run 3's record, described input and snapshot are one compile
    assert.deepEqual(at('strided', "L['x']", 'stride[1]'), [['2', 2, [r1, r2]], ['1', 1, [r3]]]);
    assert.deepEqual(at('strided', "L['x']", 'size[1]'), [['3', 1, [r1]], ['4', 2, [r2, r3]]]);
    // ints: small(.., 0), (.., 1), (.., 2). Run 3's 2 met a dynamic int: no record, `?` in its
    // snapshot; only its symbol tells it (create_symbol's val: scalar.described)
    assert.deepEqual(at('small', "L['k']", 'scalar'), [['0', 1, [r1]], ['1', 1, [r2]], ['2', 1, [r3]]]);
    // dflt(x) (k=3), dflt(x, 4) in runs 2 and 3 (run 3's from its symbol alone)
    assert.deepEqual(at('dflt', "L['k']", 'scalar'), [['3', 1, [r1]], ['4', 2, [r2, r3]]]);
    // the module's int: M(2, 3), then M(3, 6) twice. Run 3's 3 has no record, and its snapshot
    // holds the `?` it loaded: Dynamo specializes an nn.Module's int attribute (no symbol), and
    // the compile's guard `L['self'].n == 3` tells it (session 26; trial s25d: counted once)
    assert.deepEqual(at('forward', "L['self'].n", 'scalar'), [['2', 1, [r1]], ['3', 2, [r2, r3]]]);
    // cfg read the class attribute in run 1 (Cfg().size, 3) and an instance's in run 2
    // (k.size = 5): run 2's put holds the class attribute it loaded, never fed (its guards name
    // `L['c'].size`), so 3 was fed once (session 26; trial s25d: twice)
    const cfg = (source: string) => valuesAt(JSON.parse(ok(cli(join(dir, 'values-compiles5.db'), ['why', '--job', 'probe5', '--code', 'cfg', '--source', source, '--json']))) as Story[], 'cfg', source, 'scalar');
    assert.deepEqual(cfg("dict(type(L['c']).__dict__)['size']"), [['3', 1, [r1]]]);
    assert.deepEqual(cfg("L['c'].size"), [['5', 1, [r2]]]);
  });

  it('probe4: ints fed once their source was dynamic, told only by their symbols (create_symbol), negative and past 2**53', () => {
    for (const [set, job] of [['probe4-local', 'probe4'], ['probe4-remote', 'team/probe:5']]) {
      const { runs: [r1, r2, r3], stories } = ingested(join(dir, `values-${set}.db`), set, job);
      // neg(x, -3), neg(x, -7); neg(x, 2**40); neg(x, 2**40 + 1) (probe4.py)
      assert.deepEqual(valuesAt(stories, 'neg', "L['k']", 'scalar'), [['-3', 1, [r1]], ['-7', 1, [r1]], ['1099511627776', 1, [r2]], ['1099511627777', 1, [r3]]], set);
    }
  });

  it("probe3: a float (specialize_float=False) fed once it was dynamic, told by its symbol as an int's is", () => {
    const { runs: [r1, r2, r3], stories } = ingested(join(dir, 'values-probe3.db'), 'probe3', 'probe3');
    // outer(x) (scale=1.0) in run 1; in run 2 outer(x), whose 1.0 was the value run 2 loaded (its
    // compile's snapshot of its own code tells it, unchanged: trial s24b), then outer(x, scale=0.5);
    // outer(x) again in run 3, where only its symbol (zf69) tells the 1.0
    assert.deepEqual(valuesAt(stories, 'forward', "L['scale']", 'scalar'), [['1.0', 3, [r1, r2, r3]], ['0.5', 1, [r2]]]);
  });

  for (const probe of ['probe8', 'probe10']) it(`${probe} (real PyTorch, session 24${probe === 'probe10' ? ', the Inductor backend' : ''}): the ints and floats each compile was fed, to the count, and the profile after each run is its render`, () => {
    const db = join(dir, `values-${probe}.db`);
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, probe, `run${n}`, 'trace.log.gz')]));
      assert.equal(ok(cli(db, ['show', '--job', probe])).trimEnd(), readFileSync(join(RUNS, probe, `run${n}`, 'render.txt'), 'utf8').trimEnd(), `run ${n}`);
    }
    const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim()) as { runs: string[] }).runs;
    const stories = JSON.parse(ok(cli(db, ['why', '--job', probe, '--json']))) as Story[];
    // what probe8.py fed each call (every call compiled), as counts and runs a value
    const want = new Map<string, Map<string, { count: number; runs: Set<string> }>>();
    for (const n of [1, 2, 3]) {
      for (const [run, fn, source, value] of JSON.parse(readFileSync(join(RUNS, probe, `run${n}`, 'fed.json'), 'utf8')) as [number, string, string, string][]) {
        const k = `${fn} ${source}`;
        if (!want.has(k)) want.set(k, new Map());
        const v = want.get(k)!.get(value) ?? { count: 0, runs: new Set<string>() };
        v.count++;
        v.runs.add(runs[run - 1]);
        want.get(k)!.set(value, v);
      }
    }
    for (const [k, values] of want) {
      const [fn, source] = [k.slice(0, k.indexOf(' ')), k.slice(k.indexOf(' ') + 1)];
      // (t's p[0] stayed 2 through run 1's second compile, which changed p[1]: told by that
      // compile's snapshot of its own code, unchanged; it went uncounted before)
      assert.deepEqual(valuesAt(stories, fn, source, 'scalar'), [...values].map(([v, { count, runs: r }]) => [v, count, [...r]]), k);
    }
    // the resume function after r's graph break is fed n too
    assert.deepEqual(valuesAt(stories, 'torch_dynamo_resume_in_r_at_31', "L['n']", 'scalar'), [['2', 1, [runs[0]]], ['3', 1, [runs[0]]], ['6', 1, [runs[1]]], ['1152921504606846976', 1, [runs[2]]]]);
    // history --shapes: each int and float a compile was fed as its symbol, a value fed.json
    // names for that run, function and source (trial s25b: it listed tensors only)
    const fed = [1, 2, 3].flatMap((n) => (JSON.parse(readFileSync(join(RUNS, probe, `run${n}`, 'fed.json'), 'utf8')) as [number, string, string, string][]).map(([, fn, source, value]) => `${runs[n - 1]} ${fn} ${source} ${value}`));
    const rows = ok(cli(db, ['history', '--job', probe, '--shapes', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { run: string; code: { name: string }; source: string; kind: string; scalar?: number | string | { float: string }; specialized?: boolean });
    const scalars = rows.filter((r) => r.kind === 'scalar.described');
    assert.equal(rows.length - scalars.length, rows.filter((r) => r.kind === 'shape.described').length);
    const said = (v: NonNullable<(typeof rows)[number]['scalar']>) => (typeof v === 'object' ? v.float : String(v));
    for (const r of scalars) assert.ok(fed.includes(`${r.run} ${r.code.name.replace(/^torch_dynamo_resume_in_r_at_31$/, 'r')} ${r.source} ${said(r.scalar!)}`), JSON.stringify(r));
    // every one the traces hold: f's n and g's float s specialized in run 1's first compiles
    // (their guards: 2, 0.5), then in their three runs once dynamic (3, 0, -4; 0.25, 2.0,
    // 1e-05), and 2**60 whole
    assert.deepEqual(scalars.filter((r) => r.code.name === 'f').map((r) => [r.scalar, r.specialized]), [[2, true], [3, false], [0, false], [-4, false]]);
    assert.deepEqual(scalars.filter((r) => r.code.name === 'g').map((r) => [r.scalar, r.specialized]), [[{ float: '0.5' }, true], [{ float: '0.25' }, false], [{ float: '2.0' }, false], [{ float: '1e-05' }, false]]);
    assert.ok(scalars.some((r) => r.scalar === '1152921504606846976'));
    assert.match(ok(cli(db, ['history', '--job', probe, '--shapes', '--code', 'g'])), /^compile 1\/1 saw L\['s'\] 0\.25 \(a float, as its symbol: dynamic\) in g, run /m);
  });

  it("probe4: a dim run 1 marked dynamic, which later runs fed other values: the mark is why, not the later runs (retracting them would leave it dynamic)", () => {
    const db = join(dir, 'values-probe4-local.db');
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe4', '--code', 'marked', '--source', "L['x']", '--dim', '0', '--json']))) as (Story & { advice: string })[];
    // run 1: mark_dynamic(x, 0), x = randn(5); run 2: randn(6); run 3: randn(7), mark_static (probe4.py)
    assert.deepEqual(stories.map((s) => s.values.map((v) => v.value)), [['5', '6', '7']]);
    assert.doesNotMatch(stories[0].advice, /would keep dim 0 .* static/);
    assert.match(stories[0].advice, /^run probe4:pid\d+@\S+ wrote it dynamic in its own profile \(put_local_code_state at compile 7\/0\) with no record logged: Dynamo logs none for a dim marked dynamic/);
    // the mark alone is not all: runs 2 and 3 fed 6 and 7 (trial s24b: it said only "remove the mark")
    assert.match(stories[0].advice, /remove the mark and feed it one value \(it was fed 5, 6, 7\) to keep it static/);
    // and what the advice would have had retracted leaves it dynamic indeed
    const [, r2, r3] = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
    assert.match(ok(cli(db, ['show', '--job', 'probe4', '--exclude-run', r2, '--exclude-run', r3])), /marked[\s\S]*?L\['x'\]: tensor size=\[\?\]/);
  });

  it("probe7: plain's sizes, and a restarted attempt's inputs (broken's 5/0_1) counted with its compile's record once", () => {
    const { runs: [r1, r2, r3], stories } = ingested(join(dir, 'values-compiles7.db'), 'probe7', 'probe7');
    // plain: randn(2), randn(3); randn(4); randn(5, 1)
    assert.deepEqual(valuesAt(stories, 'plain', "L['x']", 'size'), [['[2]', 1, [r1]], ['[3]', 1, [r1]], ['[4]', 1, [r2]], ['[5, 1]', 1, [r3]]]);
    assert.deepEqual(valuesAt(stories, 'broken', "L['x']", 'size[0]'), [['3', 1, [r2]], ['4', 1, [r3]]]);
  });

  it('why-checkpoints (every 10 events) change no value seen: with them, deleted, and after replay, the same answer; verify passes', () => {
    const plain = join(dir, 'values-plain5.db');
    const { stories } = ingested(plain, 'probe5', 'probe5');
    const db = join(dir, 'values-checkpoints5.db');
    const env = { ...process.env, PGO_LEDGER_CHECKPOINT_EVERY: '10' };
    for (const n of [1, 2, 3]) assert.equal(cliAs(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')], { env }).status, 0);
    const sql = new Database(db);
    const count = () => (sql.prepare('select count(*) n from why_checkpoints').get() as { n: number }).n;
    // (one an ingest: the append writes one past every 10 events of a profile)
    assert.ok(count() >= 3, `${count()} why-checkpoints`);
    const why = () => JSON.parse(ok(cli(db, ['why', '--job', 'probe5', '--json']))) as Story[];
    const want = JSON.stringify(stories.map((s) => s.values));
    assert.equal(JSON.stringify(why().map((s) => s.values)), want);
    ok(cli(db, ['verify']));
    sql.prepare('delete from why_checkpoints').run();
    assert.equal(count(), 0);
    assert.equal(JSON.stringify(why().map((s) => s.values)), want);
    assert.equal(cliAs(db, ['replay'], { env }).status, 0);
    assert.ok(count() >= 3);
    assert.equal(JSON.stringify(why().map((s) => s.values)), want);
    ok(cli(db, ['verify']));
    sql.close();
  });

  it('stats counts the values at each dim it reports as why does (probe5, probe7)', () => {
    for (const [set, job] of [['probe5', 'probe5'], ['probe7', 'probe7']]) {
      const db = join(dir, `values-stats-${set}.db`);
      const { stories } = ingested(db, set, job);
      let agreed = 0;
      for (const w of ok(cli(db, ['stats', '--job', job, '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { dims: { code: { name: string }; source: string; dim: string; values: { value: string; count: number }[]; observations: number }[] })) {
        for (const d of w.dims) {
          // (a dim a later rank change took over is no dim of the profile now: why tells it not)
          const s = stories.find((x) => x.code.name === d.code.name && x.source === d.source && dimOf(x) === d.dim);
          if (!s) continue;
          const sorted = (v: { value: string; count: number }[]) => v.map((x) => `${x.value}:${x.count}`).sort();
          assert.deepEqual(sorted(d.values), sorted(s.values), `${d.code.name} ${d.source} ${d.dim}`);
          assert.equal(d.observations, s.values.reduce((n, v) => n + v.count, 0));
          agreed++;
        }
      }
      assert.ok(agreed >= 5, `${set}: ${agreed} dims`);
    }
    // the counts themselves, each compile's value once (snapshots' dynamic dims held run 2's and run 3's)
    const stats = ok(cli(join(dir, 'values-stats-probe5.db'), ['stats', '--job', 'probe5']));
    assert.match(stats, /turned dynamic: L\['x'\] size\[1\] in \S+:56:strided at #\d+: 3 seen 1 time, 4 seen 2 times in 3 observations/);
    assert.match(stats, /turned dynamic: L\['x'\] size in \S+:92:twice at #\d+: \[3\] seen 1 time, \[4\] seen 1 time, \[5\] seen 1 time, \[5, 2\] seen 1 time in 4 observations/);
    assert.match(stats, /turned dynamic: L\['x'\] stride in \S+:92:twice at #\d+: \[S\(1\), 1\] seen 1 time, \[1\] seen 3 times in 4 observations/);
  });
});

describe('retracting a run that a merge joined in (session 22 trial)', () => {
  it('names the profiles merged from it after the run came, not those merged before', () => {
    const db = join(dir, 'retract-merged.db');
    const trace = (n: number) => join(RUNS, 'probe7', `run${n}`, 'trace.log.gz');
    ok(cli(db, ['ingest', trace(1)]));
    ok(cli(db, ['merge', '--from', 'probe7', '--into', 'early']));
    ok(cli(db, ['ingest', trace(2), trace(3)]));
    ok(cli(db, ['merge', '--from', 'probe7', '--into', 'late']));
    const runs = (ok(cli(db, ['jobs', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { job: string; runs: string[] }).find((p) => p.job === 'probe7')!).runs;
    const r = cli(db, ['retract', '--run', runs[1]]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /a merge joined probe7:None: into late:None: after the run came, and the merged profile keeps what was joined: merge into a new target/);
    assert.doesNotMatch(r.stderr, /early/);
  });
});

describe('retracting a run that later runs warm-started from', () => {
  const set = JOBS[0];
  const file = (n: number) => join(RUNS, set.set, `run${n}`, set.snapshot);
  /** The three runs' traces ingested one by one: the runs' names, in order. */
  const threeRuns = (db: string) => {
    const runNames: string[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
      const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
      runNames.push(runs.find((r) => !runNames.includes(r))!);
    }
    return runNames;
  };
  it("says the later runs carry it; retracting them too gives the profile before it; why's advice says so", () => {
    const db = join(dir, 'retract.db');
    const [r1, r2, r3] = threeRuns(db);
    // run 2 made L['xs'][0] dim 0 dynamic (size change 3 -> 1); run 3 started from run 2's file
    const why = ok(cli(db, ['why', ...set.key, '--code', 'listdict', '--source', "L['xs'][0]", '--dim', '0']));
    // the fold without run 2, and without run 3 too, says what each retraction leaves (session 35)
    assert.ok(why.includes(`pgo-ledger retract --run ${r2} undoes that run, but run ${r3} warm-started from a profile that held what run ${r2} brought (get_*_code_state), and PyTorch writes what it loaded into each profile it writes: retracting runs ${r2}, ${r3} (pgo-ledger retract --run ${r2}; pgo-ledger retract --run ${r3}) would keep dim 0 of L['xs'][0] static at 3`), why);
    const r = cli(db, ['retract', '--run', r2]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stderr.includes(`probe3:None:: run ${r2} is left out of its answers, but run ${r3} warm-started`), r.stderr);
    assert.ok(r.stderr.includes(`(pgo-ledger retract --run ${r3})`), r.stderr);
    // the profile still holds run 2's effects through run 3's snapshots: as before the retraction
    assert.deepEqual(exported(db, set, 'retract-2'), set.pickle(file(3)));
    const again = cli(db, ['retract', '--run', r3]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stderr, '', 'the last run: nothing carries it');
    assert.deepEqual(exported(db, set, 'retract-23'), set.pickle(file(1)));
    assert.ok(r1);
  });

  it('retract --json gives what its notes say, for a tool (trial s28b: only stderr prose): the profiles, and the runs that carry it', () => {
    const db = join(dir, 'retract-json.db');
    const [, r2, r3] = threeRuns(db);
    const r = cli(db, ['retract', '--run', r2, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { run: r2, retracted: ['probe3:None:'], already: [], carried: [{ cache_key: 'probe3:None:', runs: [r3], snapshots: [] }], merged: [] });
    assert.ok(r.stderr.includes(`run ${r2} is left out of its answers, but run ${r3} warm-started`), r.stderr);
    assert.deepEqual(JSON.parse(ok(cli(db, ['retract', '--run', r2, '--json']))), { run: r2, retracted: [], already: ['probe3:None:'], carried: [], merged: [] });
  });
});

// Session 22: a profile file PyTorch wrote, ingested with no run (a pickle here; a mega-cache
// or a remote value alike), later than a run, holds what that run brought as a warm-started
// run's snapshots do; retract and why named only the runs.
describe('retracting a run that a later snapshot with no run carries', () => {
  // probe4's run 3 file read after runs 1 and 2's logs: its entries that changed in run 3 (expanded's
  // L['x'], its stride) no log told, and they hold the dim run 2 made dynamic. (Session 29: a
  // file's entries the logs held add nothing, so run 2's own file carries nothing any more.)
  const set = JOBS[1];
  const file = (n: number) => join(RUNS, set.set, `run${n}`, set.snapshot);
  const dim1 = ['--code', 'expanded', '--source', "L['x']", '--dim', '1'];
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  it('retract, why and retractRun name the snapshot (format, file, position); one older than the run is not named', () => {
    const logs = (db: string, runs: number[]) => {
      for (const n of runs) ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
      return (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[]; position: number });
    };
    const db = join(dir, 'retract-snapshot.db');
    const [r1, r2] = logs(db, [1, 2]).runs;
    const later = join(dir, 'run3-later.pkl');
    copyFileSync(file(3), later);
    const at = logs(db, []).position + 1;
    ok(cli(db, ['ingest', later, ...set.key]));
    const named = `the pickle snapshot ${later} (#${at}), ingested with no run and written later than run ${r2} (by its file's time: a copy that did not keep it tells otherwise), holds what run ${r2} brought too (PyTorch writes what it loaded into each profile it writes): no run names it, so no retraction leaves it out`;
    const why = ok(cli(db, ['why', ...set.key, ...dim1]));
    // why's advice names it where it holds the dim dynamic itself (session 35: its entry, not its time alone)
    assert.ok(why.includes(`pgo-ledger retract --run ${r2} undoes that run, but dim 1 of L['x'] stays dynamic without it: the pickle snapshot ${later} (#${at}), ingested with no run and written later than run ${r2} (by its file's time: a copy that did not keep it tells otherwise), holds it dynamic: no run names it, so no retraction leaves it out`), why);
    const r = cli(db, ['retract', '--run', r2]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, `pgo-ledger: note: probe4:None:: run ${r2} is left out of its answers, but ${named}\n`);
    // run 1 came before the snapshot's time too: it carries run 1 as well
    const r1r = cli(db, ['retract', '--run', r1]);
    assert.equal(r1r.status, 0, r1r.stderr);
    assert.match(r1r.stderr, new RegExp(`run ${esc(r1)} is left out of its answers, but .*the pickle snapshot ${esc(later)} \\(#${at}\\)`));
    // the same file dated before run 2 started (a copy that kept its time): not named
    const db3 = join(dir, 'retract-snapshot-older.db');
    logs(db3, [1, 2]);
    const older = join(dir, 'run3-older.pkl');
    copyFileSync(file(3), older);
    utimesSync(older, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    ok(cli(db3, ['ingest', older, ...set.key]));
    const why3 = ok(cli(db3, ['why', ...set.key, ...dim1]));
    assert.ok(!why3.includes(older), why3);
    // the same file again, rewritten (run 3's profile over run 2's, as PyTorch rewrites its cache
    // file after each run), read after run 1's log alone: named once, with both positions (trial s27a: once a read)
    const db2 = join(dir, 'retract-snapshot-again.db');
    const p0 = logs(db2, [1]).position + 1;
    copyFileSync(file(2), later);
    ok(cli(db2, ['ingest', later, ...set.key]));
    const p1 = logs(db2, []).position + 1;
    copyFileSync(file(3), later);
    ok(cli(db2, ['ingest', later, ...set.key]));
    const why2 = ok(cli(db2, ['why', ...set.key]));
    const positions = [...new Set([...why2.matchAll(new RegExp(`the pickle snapshot ${esc(later)} \\(([^)]*)\\)`, 'g'))].map((m) => m[1]))];
    assert.equal(positions.length, 1, why2);
    const [a, b] = positions[0].split(', ').map((x) => Number(x.slice(1)));
    assert.ok(a >= p0 && a < p1 && b >= p1, positions[0]);
    assert.match(why2, /ingested with no run and written later than run \S+ \(by its file's time: a copy that did not keep it tells otherwise\), holds it dynamic/);
  });

  it("run 2's own file, read after its log, carries nothing: it is what PyTorch wrote at run 2's put, and retracting run 2 leaves all of it out", () => {
    const db = join(dir, 'retract-own-file.db');
    for (const n of [1, 2]) ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
    const [, r2] = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
    const own = join(dir, 'run2-own.pkl');
    copyFileSync(file(2), own);
    const r = JSON.parse(ok(cli(db, ['ingest', '--json', own, ...set.key])).trim()) as { appended: number; duplicates: number };
    assert.equal(r.appended, 0);
    assert.ok(r.duplicates > 0);
    const retract = cli(db, ['retract', '--run', r2]);
    assert.equal(retract.status, 0, retract.stderr);
    assert.doesNotMatch(retract.stderr, /run2-own\.pkl/);
    // the profile is run 1's file, as PyTorch left it
    const out = join(dir, 'retract-own-file.pkl');
    ok(cli(db, ['export', ...set.key, '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(file(1)));
  });
});

// Session 23: the read-time what-if said nothing where later runs warm-started from the run
// it left out (the answer then equals the whole log's, as if --exclude-run did nothing);
// retract and why said it.
describe('--exclude-run of a run that later runs warm-started from', () => {
  const set = JOBS[0];
  const file = (n: number) => join(RUNS, set.set, `run${n}`, set.snapshot);
  it('show, history, export, diff, report and why say once on stderr what still carries it, as retract does; not where nothing does', () => {
    const db = join(dir, 'exclude-carried.db');
    const runNames: string[] = [];
    const ends: number[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
      const p = JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[]; position: number };
      runNames.push(p.runs.find((r) => !runNames.includes(r))!);
      ends.push(p.position);
    }
    const [, r2, r3] = runNames;
    const note = `pgo-ledger: note: probe3:None:: --exclude-run ${r2} leaves it out of this answer, but run ${r3} warm-started from a profile that held what run ${r2} brought (get_*_code_state), and PyTorch writes what it loaded into each profile it writes, so its profile still carries it: leave it out too (--exclude-run ${r3}) to leave out all that run ${r2} brought\n`;
    const out = join(dir, 'exclude-carried');
    const commands: [string, string[]][] = [
      ['show', ['show', ...set.key]],
      ['history', ['history', ...set.key]],
      ['export', ['export', ...set.key, '--format', 'pickle', '-o', `${out}.pkl`]],
      ['diff', ['diff', ...set.key, '--from', String(ends[0]), '--to', String(ends[2])]],
      ['report', ['report', ...set.key, '-o', `${out}.html`]],
      ['why', ['why', ...set.key, '--code', 'listdict']],
    ];
    for (const [name, args] of commands) {
      const r = cli(db, [...args, '--exclude-run', r2]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, note, name);
    }
    // the answer is right all the same: run 3's profile, which carries run 2's
    assert.deepEqual(readFileSync(`${out}.pkl`), set.pickle(file(3)));
    // left out with it: run 1's profile, and nothing to say; the last run, or a window before run 3: nothing carries it
    for (const extra of [['--exclude-run', r3], ['--as-of', String(ends[1])]]) {
      const r = cli(db, ['export', ...set.key, '--format', 'pickle', '-o', `${out}-quiet.pkl`, '--exclude-run', r2, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', extra.join(' '));
      assert.deepEqual(readFileSync(`${out}-quiet.pkl`), set.pickle(file(1)), extra.join(' '));
    }
    const last = cli(db, ['show', ...set.key, '--exclude-run', r3]);
    assert.equal(last.status, 0, last.stderr);
    assert.equal(last.stderr, '');
  });
});

// Session 23: the report's counts (events, last change, runs, "Seen", "Candidates to keep
// static") came from the whole log whatever the window, future runs and retracted ones included.
describe("report: every figure follows the window (--as-of, --exclude-run, a retraction)", () => {
  const set = JOBS[0];
  const data = (db: string, args: string[], name: string) => {
    const html = join(dir, `${name}.html`);
    ok(cli(db, ['report', ...set.key, ...args, '-o', html]));
    return JSON.parse(/<script type="application\/json" id="data">(.*?)<\/script>/s.exec(readFileSync(html, 'utf8'))![1]) as { events: number; lastTime: string; runs: string[]; keepStatic: unknown[] }[];
  };
  it("as of run 1's end: the report of a ledger of run 1 alone; without run 3 (by --exclude-run or retracted): that of runs 1 and 2", () => {
    const db = join(dir, 'report-window.db');
    const ledgers = [1, 2].map((n) => join(dir, `report-window-${n}.db`));
    const runNames: string[] = [];
    const ends: number[] = [];
    for (const n of [1, 2, 3]) {
      const trace = join(RUNS, set.set, `run${n}`, 'trace.log.gz');
      ok(cli(db, ['ingest', trace]));
      for (const [i, l] of ledgers.entries()) if (n <= i + 1) ok(cli(l, ['ingest', trace]));
      const p = JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[]; position: number };
      runNames.push(p.runs.find((r) => !runNames.includes(r))!);
      ends.push(p.position);
    }
    const run1 = data(ledgers[0], [], 'report-run1');
    const asOf = data(db, ['--as-of', String(ends[0])], 'report-asof');
    assert.deepEqual(asOf, run1);
    assert.equal(asOf[0].events, ends[0]);
    assert.deepEqual(asOf[0].runs, [runNames[0]]);
    // as of run 1's last event time: the same events
    assert.deepEqual(data(db, ['--as-of', run1[0].lastTime], 'report-asof-time'), run1);
    const runs12 = data(ledgers[1], [], 'report-run12');
    assert.deepEqual(data(db, ['--exclude-run', runNames[2]], 'report-exclude'), runs12);
    ok(cli(db, ['retract', '--run', runNames[2]]));
    assert.deepEqual(data(db, [], 'report-retracted'), runs12);
  });
});

describe('probe3: an int that became a tensor (flip)', () => {
  it("its sizes are dynamic by the int's entry, not by a mark", () => {
    const db = join(dir, 'flip.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe3', `run${n}`, 'trace.log.gz')]));
    const out = ok(cli(db, ['why', '--job', 'probe3', '--code', 'flip']));
    assert.doesNotMatch(out, /mark_dynamic|remove the mark/);
    // run 3's compile fed it a tensor of size [3] (described): a value seen, beside the ints' sizes (none)
    assert.match(out, /the number of dims \(size\): dynamic in #\d+ [^\n]*\n {4}values seen: \[3\] \(1x, runs probe3:pid640@[^)]*\)\n {4}L\['x'\] was a tensor in some events and an int in others: an int's entry holds its size and stride dynamic \(PyTorch's make_scalar\), so the join of the two kinds is dynamic in every field; passing it as one kind keeps the number of dims of L\['x'\] static\n/);
    assert.match(out, /the int itself: static 3 in #\d+ .*dynamic in #\d+ .*\n {4}PyTorch logged at compile 5\/0: scalar change 3 -> 5/);
  });
});

describe('marks/: what PyTorch writes for marks and TORCH_COMPILE_DYNAMIC_SOURCES', () => {
  it('only mark_dynamic writes a dim dynamic, and why says the mark; the export is the file', () => {
    const db = join(dir, 'marks.db');
    ok(cli(db, ['ingest', join(RUNS, 'marks', 'trace.log.gz')]));
    const out = join(dir, 'marks.pkl');
    ok(cli(db, ['export', '--job', 'probe6', '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(join(RUNS, 'marks', 'code_state_probe6_None_.pkl')));
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe6', '--json']))) as { source: string; dim: { field: string; index: number | null }; advice: string }[];
    assert.deepEqual(stories.map((s) => [s.source, s.dim.field, s.dim.index]), [["L['d']", 'size', 1]]);
    assert.match(stories[0].advice, /no record logged: Dynamo logs none for a dim marked dynamic \(torch\._dynamo\.mark_dynamic\)/);
  });
});

describe("PyTorch's own fixture files come back byte for byte (each code state's source names their own objects)", () => {
  for (const [i, file] of ['local/code_state_fixture_None_.pkl', 'workload2/code_state_fixture2_0_.pkl'].entries()) {
    it(file, () => {
      const db = join(dir, `file-${i}.db`);
      ok(cli(db, ['ingest', join(TORCH, file), '--job', `j${i}`]));
      const out = join(dir, `file-${i}.pkl`);
      ok(cli(db, ['export', '--job', `j${i}`, '--format', 'pickle', '-o', out]));
      assert.deepEqual(readFileSync(out), readFileSync(join(TORCH, file)));
    });
  }
});

describe('a log that holds several processes\' lines (logs concatenated: cat, a log shipper)', () => {
  // PyTorch writes a log a process; glog names the process on every line, and each process's
  // entries name its rank. Read as one process, rank 1's events went into rank 0's profile and
  // run (11 dropped as duplicates of rank 0's compile ids), and probe4's three runs were one.
  const withoutOrigins = (json: string) => json.replace(/"origin":\{[^}]*\}/g, '').replace(/"origin":"[^"]*"/g, '');
  it('two ranks: each its own profile and run, as the two logs give; `show` is each rank\'s render', () => {
    const w2 = join(TORCH, 'workload2');
    const both = join(dir, 'ranks.log');
    writeFileSync(both, readFileSync(join(w2, 'trace-rank0.log'), 'utf8') + readFileSync(join(w2, 'trace-rank1.log'), 'utf8'));
    const one = join(dir, 'ranks-one.db');
    const two = join(dir, 'ranks-two.db');
    const r = cli(one, ['ingest', both]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /61 events appended, 0 already in the log/);
    assert.match(r.stderr, /ranks\.log: holds the lines of 2 processes \(glog process ids 591, 592\): each is read as its own log, fixture2:rank0:pid591@\S+ \(profile fixture2:0:\); fixture2:rank1:pid592@\S+ \(profile fixture2:1:\)/);
    ok(cli(two, ['ingest', join(w2, 'trace-rank0.log'), join(w2, 'trace-rank1.log')]));
    // watch --once says it too, of a log written a moment ago (trial s24b: only of a quiet one)
    const watched = join(dir, 'ranks-watched.db');
    const once = cli(watched, ['watch', both, '--once']);
    assert.equal(once.status, 0, once.stderr);
    assert.match(once.stderr, /ranks\.log: holds the lines of 2 processes \(glog process ids 591, 592\)/);
    // --run names each process's run (one name for both keyed their events alike)
    const named = join(dir, 'ranks-named.db');
    assert.match(ok(cli(named, ['ingest', '--run', 'nightly', both])), /61 events appended/);
    assert.deepEqual(ok(cli(named, ['jobs', '--json'])).trim().split('\n').map((l) => (JSON.parse(l) as { runs: string[] }).runs), [['nightly:pid591'], ['nightly:pid592']]);
    for (const rank of ['0', '1']) {
      const shown = ok(cli(one, ['show', '--job', 'fixture2', '--rank', rank]));
      assert.equal(shown.trimEnd(), readFileSync(join(w2, `render-rank${rank}.txt`), 'utf8').trimEnd());
      assert.equal(withoutOrigins(ok(cli(one, ['history', '--job', 'fixture2', '--rank', rank, '--json']))), withoutOrigins(ok(cli(two, ['history', '--job', 'fixture2', '--rank', rank, '--json']))));
    }
  });
  it('processes that share an id (containers reuse them; trial s27a): each its own log, told by its string table starting again', () => {
    // glog's process id on every line of one process; a second process of the same id (another
    // pod, a restart) was read as the first: its events in the first's profile and run
    const samePid = (text: string, pid: number) => text.replace(/^([IWEV]\d{4} [\d:.]+ +)\d+ /gm, `$1${pid} `);
    const gz = (set: string, n: number) => gunzipSync(readFileSync(join(RUNS, set, `run${n}`, 'trace.log.gz'))).toString('utf8');
    const exportOf = (db: string, key: string[], name: string) => {
      const out = join(dir, `${name}.pkl`);
      ok(cli(db, ['export', ...key, '--format', 'pickle', '-o', out]));
      return readFileSync(out);
    };
    // two jobs: probe5's and probe10's first runs both ran as pid 490 (as PyTorch wrote them)
    const jobs = join(dir, 'same-pid-jobs.log');
    writeFileSync(jobs, gz('probe5', 1) + gz('probe10', 1));
    const db = join(dir, 'same-pid-jobs.db');
    const r = cli(db, ['ingest', jobs]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /same-pid-jobs\.log: holds the lines of 2 processes \(glog process ids 490, 490-2; N-2 is a second process of id N, told by its string table starting again\): each is read as its own log, probe5:pid490@\S+ \(profile probe5:None:\); probe10:pid490@\S+ \(profile probe10:None:\)/);
    assert.deepEqual(exportOf(db, ['--job', 'probe5'], 'same-pid-5'), readFileSync(join(RUNS, 'probe5', 'run1', 'code_state_probe5_None_.pkl')));
    assert.deepEqual(exportOf(db, ['--job', 'probe10'], 'same-pid-10'), readFileSync(join(RUNS, 'probe10', 'run1', 'code_state_probe10_None_.pkl')));
    // two ranks of one job, one id: each rank its own profile
    const w2 = join(TORCH, 'workload2');
    const ranks = join(dir, 'same-pid-ranks.log');
    writeFileSync(ranks, readFileSync(join(w2, 'trace-rank0.log'), 'utf8') + samePid(readFileSync(join(w2, 'trace-rank1.log'), 'utf8'), 591));
    const rdb = join(dir, 'same-pid-ranks.db');
    ok(cli(rdb, ['ingest', ranks]));
    for (const rank of ['0', '1']) assert.equal(ok(cli(rdb, ['show', '--job', 'fixture2', '--rank', rank])).trimEnd(), readFileSync(join(w2, `render-rank${rank}.txt`), 'utf8').trimEnd(), `rank ${rank}`);
    // one job's three runs, one id (a restarted container), with --run: three runs, each named apart
    const runs = join(dir, 'same-pid-runs.log');
    writeFileSync(runs, [1, 2, 3].map((n) => samePid(gz('probe5', n), 7)).join(''));
    const jdb = join(dir, 'same-pid-runs.db');
    ok(cli(jdb, ['ingest', '--run', 'nightly', runs]));
    assert.deepEqual((JSON.parse(ok(cli(jdb, ['jobs', '--json'])).trim()) as { runs: string[] }).runs, ['nightly:pid7', 'nightly:pid7-2', 'nightly:pid7-3']);
    assert.deepEqual(exportOf(jdb, ['--job', 'probe5'], 'same-pid-runs'), readFileSync(join(RUNS, 'probe5', 'run3', 'code_state_probe5_None_.pkl')));
  });
  it('a running watch of a log one process after another writes: the second adds a run and renames none (trial s24b: it said "the log\'s run became ..." and to retract)', async () => {
    const w2 = join(TORCH, 'workload2');
    const log = join(dir, 'growing-ranks.log');
    writeFileSync(log, readFileSync(join(w2, 'trace-rank0.log'), 'utf8'));
    const db = join(dir, 'growing-ranks.db');
    const w = cliSpawn(db, ['watch', log, '--interval', '0.1']);
    let stderr = '';
    w.stderr!.on('data', (d) => (stderr += d));
    const until = async (runs: number) => {
      for (let i = 0; i < 300; i++) {
        const r = cli(db, ['jobs', '--json']);
        // a ledger watch has made but not yet filled answers no lines (exit 0): read as zero runs
        const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
        if (r.status === 0 && lines.flatMap((l) => (JSON.parse(l) as { runs: string[] }).runs).length === runs) return;
        await new Promise((go) => setTimeout(go, 100));
      }
      assert.fail(`never ${runs} runs: ${stderr}`);
    };
    try {
      await until(1);
      appendFileSync(log, readFileSync(join(w2, 'trace-rank1.log'), 'utf8'));
      await until(2);
    } finally {
      w.kill('SIGKILL');
    }
    assert.doesNotMatch(stderr, /run became/);
    // the ledger is the one-shot ingest's
    const once = join(dir, 'growing-ranks-once.db');
    ok(cli(once, ['ingest', log]));
    for (const rank of ['0', '1']) assert.equal(ok(cli(db, ['history', '--job', 'fixture2', '--rank', rank, '--json'])), ok(cli(once, ['history', '--job', 'fixture2', '--rank', rank, '--json'])));
  });

  it("probe4's three runs in one file: three runs, the values and advice of the three logs ingested one by one; watch reads it so too", () => {
    const all = join(dir, 'probe4-runs.log');
    writeFileSync(all, Buffer.concat([1, 2, 3].map((n) => gunzipSync(readFileSync(join(RUNS, 'probe4-local', `run${n}`, 'trace.log.gz'))))));
    const one = join(dir, 'probe4-one.db');
    const apart = join(dir, 'probe4-apart.db');
    const watched = join(dir, 'probe4-watched.db');
    ok(cli(one, ['ingest', all]));
    for (const n of [1, 2, 3]) ok(cli(apart, ['ingest', join(RUNS, 'probe4-local', `run${n}`, 'trace.log.gz')]));
    assert.equal(cli(watched, ['watch', all, '--once']).status, 0);
    const runs = (db: string) => (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim()) as { runs: string[] }).runs;
    assert.equal(runs(one).length, 3);
    assert.deepEqual(runs(one), runs(apart));
    assert.deepEqual(runs(watched), runs(apart));
    const why = (db: string) => withoutOrigins(ok(cli(db, ['why', '--job', 'probe4', '--json'])));
    assert.equal(why(one), why(apart));
    assert.equal(why(watched), why(apart));
    assert.equal(ok(cli(one, ['show', '--job', 'probe4'])), ok(cli(apart, ['show', '--job', 'probe4'])));
  });
});

describe('a trace across a daylight-saving change (session 24 trial: glog writes local time, no zone)', () => {
  const lines = gunzipSync(readFileSync(join(RUNS, 'probe4-local', 'run2', 'trace.log.gz'))).toString('utf8').split('\n');
  const two = (n: number) => String(n).padStart(2, '0');
  /** The log with each glog line's time `hours(i)` from UTC (its host's zone); epoch fields as they were. */
  const local = (hours: (i: number) => number) =>
    lines
      .map((l, i) =>
        l.replace(/^([VIWEC])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)/, (_m, level: string, mo: string, d: string, h: string, mi: string, sec: string) => {
          const t = new Date(Date.UTC(2026, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) + hours(i) * 3_600_000);
          return `${level}${two(t.getUTCMonth() + 1)}${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}`;
        }),
      )
      .join('\n');
  const ingested = (name: string, text: string) => {
    const folder = join(dir, 'dst', name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'trace.log'), text);
    const db = join(dir, `dst-${name}.db`);
    ok(cli(db, ['ingest', join(folder, 'trace.log')]));
    return db;
  };
  /** history --json (the records, or with --shapes the inputs described), each event's file left out (each log is in a folder of its own). */
  const history = (db: string, extra: string[] = []) =>
    ok(cli(db, ['history', '--job', 'probe4', '--json', ...extra]))
      .trim()
      .split('\n')
      .map((l) => {
        const e = JSON.parse(l) as { time: string; kind?: string; source: string; origin?: { name?: string } };
        if (e.origin) delete e.origin.name;
        return e;
      });
  let utcDb: string | undefined;
  const utc = () => (utcDb ??= ingested('utc', lines.join('\n')));
  const half = lines.length / 2;
  for (const [name, zone, hours] of [
    ['fall', 'New York from EDT to EST (1 November)', (i: number) => (i < half ? -4 : -5)],
    ['spring', 'New York from EST to EDT (March)', (i: number) => (i < half ? -5 : -4)],
  ] as const) {
    it(`${zone} mid-file: each event at the time of the UTC log, in the same --as-of windows`, () => {
      const db = ingested(name, local(hours));
      const [records, shapes] = [history(utc()), history(utc(), ['--shapes'])];
      assert.ok(records.length >= 10 && shapes.length >= 10);
      assert.deepEqual(history(db), records);
      assert.deepEqual(history(db, ['--shapes']), shapes);
      // before the run (an hour early, the records after the change were in it), and mid-run
      for (const asOf of ['2026-11-30T01:00Z', '2026-11-30T01:52:43.300Z']) {
        assert.equal(ok(cli(db, ['show', '--job', 'probe4', '--as-of', asOf])), ok(cli(utc(), ['show', '--job', 'probe4', '--as-of', asOf])), asOf);
      }
    });
  }
  it("a compile longer than 15 minutes (its start_time logged at its end, far before its line's time) shifts no event's time", () => {
    let compiles = 0;
    // every compile but the first started 20 minutes before its metrics were logged
    const long = lines.map((l) => (/^V.*"compilation_metrics"/.test(l) && compiles++ > 0 ? l.replace(/"start_time": (\d+\.\d+)/, (_m, t: string) => `"start_time": ${Number(t) - 1200}`) : l));
    assert.equal(compiles, 10);
    const db = ingested('long', long.join('\n'));
    const times = (h: ReturnType<typeof history>) => h.map((e) => [e.time, e.kind ?? 'described', e.source]);
    assert.deepEqual(times(history(db)), times(history(utc())));
    assert.deepEqual(times(history(db, ['--shapes'])), times(history(utc(), ['--shapes'])));
  });
});

describe('a process that calls torch._dynamo.reset() (probe9, real PyTorch, session 24)', () => {
  it("the export is PyTorch's profile file byte for byte: the code ids it had compiled before the reset are the unpickler's once it loads the file again (trial s25a: lim's strings were shared with f's, 30 bytes short)", () => {
    const db = join(dir, 'probe9-export.db');
    ok(cli(db, ['ingest', join(RUNS, 'probe9', 'run1', 'trace.log.gz')]));
    const out = join(dir, 'probe9.pkl');
    ok(cli(db, ['export', '--job', 'probe9', '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(join(RUNS, 'probe9', 'run1', 'code_state_probe9_None_.pkl')));
  });

  // PyTorch names compiles anew after a reset: `0/0` again, of f here (and of any function in
  // general). Read as one compile, the second 0/0's described input was dropped, its int took
  // the first's place among the values seen, and its records could take the first's code.
  it("a compile named again is its own compile, `0/0 (2nd)`: its records, what it saw, the values each compile was fed", () => {
    const db = join(dir, 'probe9.db');
    ok(cli(db, ['ingest', join(RUNS, 'probe9', 'run1', 'trace.log.gz')]));
    assert.equal(ok(cli(db, ['show', '--job', 'probe9'])).trimEnd(), readFileSync(join(RUNS, 'probe9', 'run1', 'render.txt'), 'utf8').trimEnd());
    // the four records PyTorch logged (records.json), each under the compile that logged it
    const logged = JSON.parse(readFileSync(join(RUNS, 'probe9', 'run1', 'records.json'), 'utf8')) as { name: string; reason: string }[];
    const history = ok(cli(db, ['history', '--job', 'probe9', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { compile_id: string; source: string; reason: string; code: { name: string } });
    assert.deepEqual(history.map((h) => [h.source, h.reason]), logged.map((r) => [r.name, r.reason]));
    assert.deepEqual(history.map((h) => [h.compile_id, h.code.name]), [['0/1', 'f'], ['0/1', 'f'], ['0/0 (2nd)', 'f'], ['0/0 (2nd)', 'f']]);
    type Story = { code: { name: string }; source: string; dim: { field: string }; values: { value: string; count: number }[]; saw: { compile_id: string; size: number[] }[] };
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe9', '--json']))) as Story[];
    // f(x, 1), f(x, 2); reset; f(x, 5) (f(x, 6) compiled nothing)
    const n = stories.find((s) => s.code.name === 'f' && s.source === "L['n']")!;
    assert.deepEqual(n.values.map((v) => [v.value, v.count]), [['1', 1], ['2', 1], ['5', 1]]);
    const x = stories.find((s) => s.code.name === 'f' && s.source === "L['x']" && s.dim.field === 'size')!;
    assert.deepEqual(x.saw.map((s) => [s.compile_id, s.size]), [['0/0', [2]], ['0/1', [3]], ['0/0 (2nd)', [2, 2]]]);
    assert.deepEqual(x.values.map((v) => v.value), ['[2]', '[3]', '[2, 2]']);
  });
});

describe('a trace with damage mid-file (trial s25b: bytes spliced in took a record away, and the summary said "invalid lines")', () => {
  it("each problem is said with its line, and the summary counts them as problems whose entries went, not as lines; the rest goes in", () => {
    const text = gunzipSync(readFileSync(join(RUNS, 'probe3', 'run1', 'trace.log.gz'))).toString('utf8');
    const lines = text.split('\n');
    // the compilation_metrics of the compile that logged L['d']['n']'s record (1/1), made garbage
    const at = lines.findIndex((l) => l.includes('{"compilation_metrics": {"compile_id": "1/1"'));
    assert.ok(at > 0);
    lines[at] = 'Z'.repeat(300);
    const file = join(dir, 'damaged.log');
    writeFileSync(file, lines.join('\n'));
    const db = join(dir, 'damaged.db');
    const r = cli(db, ['ingest', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`damaged\\.log:${at + 1}: not a TORCH_TRACE \\(glog\\) line; skipped`));
    assert.match(r.stderr, /automatic_dynamic for L\['d'\]\['n'\] in compile \d+\/\d+: no compilation_metrics names its code; skipped/);
    assert.match(r.stdout, /: trace: \d+ events appended, 0 already in the log, \d+ problems said above \(what each names skipped\), 1 recompile reason\n/);
    assert.doesNotMatch(r.stdout, /invalid line/);
    // watch counts them too, in words and in --json's `skipped`, as ingest does (trial s25c)
    const problems = Number(/(\d+) problems said above/.exec(r.stdout)![1]);
    const folder = join(dir, 'damaged-watched');
    mkdirSync(folder);
    copyFileSync(file, join(folder, 'damaged.log'));
    // final (left alone past --settle): a compile whose compilation_metrics may yet come is no problem before
    const old = Date.now() / 1000 - 120;
    utimesSync(join(folder, 'damaged.log'), old, old);
    const w = cli(join(dir, 'damaged-watched.db'), ['watch', folder, '--once', '--json']);
    assert.equal(w.status, 0, w.stderr);
    const input = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report: string; skipped?: number }).find((j) => j.report === 'input')!;
    assert.equal(input.skipped, problems);
    const said = cli(join(dir, 'damaged-watched-text.db'), ['watch', folder, '--once']);
    assert.match(said.stdout, new RegExp(`damaged\\.log: trace bytes 0\\.\\.\\d+: \\d+ events appended, 0 already in the log, ${problems} problems said above \\(what each names skipped\\)`));
  });
});

describe('trial s26a: a log read while a compile was between its profile put and its compilation_metrics', () => {
  // PyTorch logs a compile's put_*_code_state, then its compilation_metrics: probe3 run 3's
  // compile 4/0 logs its records (1749-1803), its put (1982), its metrics (2106). A log cut
  // between the two and ingested as whole put the snapshot in and skipped the records; the
  // records went in after the snapshot once the rest came, and `why` said the dim was
  // written dynamic with no record ("marked dynamic ... remove the mark"), `stats` "no
  // observations of it".
  const whole = gunzipSync(readFileSync(join(RUNS, 'probe3', 'run3', 'trace.log.gz'))).toString('utf8').split('\n');
  const answers = (db: string) => ['why', 'history', 'stats', 'show'].map((c) => ok(cli(db, [c, '--job', 'probe3', ...(c === 'show' ? [] : ['--json'])])));
  const setUp = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const n of [1, 2]) writeFileSync(join(d, `t${n}.log`), gunzipSync(readFileSync(join(RUNS, 'probe3', `run${n}`, 'trace.log.gz'))));
    writeFileSync(join(d, 't3.log'), whole.slice(0, 2105).join('\n') + '\n');
    return d;
  };
  it('ingest of the cut log leaves that compile and what follows out, saying so; ingested again whole, every answer is a one-shot ingest\'s', () => {
    const d = setUp('cut-put');
    const db = join(dir, 'cut-put.db');
    const r = cli(db, ['ingest', d]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /t3\.log:1982: compile 4\/0 put its profile here with no compilation_metrics after it \(the log ends inside the compile: one still being written, or copied mid-compile\); its events and those after them are left out, to go in in a whole log's order: ingest the log again once it is whole/);
    assert.doesNotMatch(r.stderr, /no compilation_metrics names its code/);
    // a folder's skips are problems, as a log's are (trial s26a: "1 invalid line skipped")
    assert.match(r.stdout, /: folder \(3 trace files; 0 not PGO data, skipped\): \d+ events appended, 0 already in the log, 1 problem said above \(what each names skipped\)/);
    writeFileSync(join(d, 't3.log'), whole.join('\n'));
    ok(cli(db, ['ingest', d]));
    const one = join(dir, 'cut-put-one.db');
    ok(cli(one, ['ingest', d]));
    assert.deepEqual(answers(db), answers(one));
    assert.match(ok(cli(db, ['why', '--job', 'probe3', '--code', 'perm', '--source', "L['x']", '--dim', 'rank'])), /PyTorch logged at compile 4\/0: dimensionality change \[4, 6\] -> \[2, 4, 6\]/);
  });
  it('watch that finds the cut log quiet (--settle) takes it as whole: the same, once it grows', () => {
    const d = setUp('cut-watch');
    const db = join(dir, 'cut-watch.db');
    const old = new Date(Date.now() - 60_000);
    for (const n of [1, 2, 3]) utimesSync(join(d, `t${n}.log`), old, old);
    let r = cli(db, ['watch', d, '--once', '--settle', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /compile 4\/0 put its profile here with no compilation_metrics after it/);
    appendFileSync(join(d, 't3.log'), whole.slice(2105).join('\n'));
    utimesSync(join(d, 't3.log'), old, old);
    r = cli(db, ['watch', d, '--once', '--settle', '1']);
    assert.equal(r.status, 0, r.stderr);
    const one = join(dir, 'cut-watch-one.db');
    ok(cli(one, ['ingest', d]));
    assert.deepEqual(answers(db), answers(one));
  });
});

/**
 * probe3's three runs in a folder, each `runN/trace.log` beside the run's profile pickle, run
 * 3's log cut after line 2105 (inside compile 4/0, after its put, before its metrics): with
 * `old` every file made a minute old but that log (`quiet`: that log too).
 */
function probe3Cut(name: string, o: { old?: boolean; quiet?: boolean } = {}): string {
  const d = join(dir, name);
  const t = new Date(Date.now() - 60_000);
  for (const n of [1, 2, 3]) {
    mkdirSync(join(d, `run${n}`), { recursive: true });
    copyFileSync(join(RUNS, 'probe3', `run${n}`, 'code_state_probe3_None_.pkl'), join(d, `run${n}`, 'code_state_probe3_None_.pkl'));
    const lines = gunzipSync(readFileSync(join(RUNS, 'probe3', `run${n}`, 'trace.log.gz'))).toString('utf8').split('\n');
    writeFileSync(join(d, `run${n}`, 'trace.log'), lines.slice(0, n === 3 ? 2105 : undefined).join('\n') + (n === 3 ? '\n' : ''));
    if (o.old || o.quiet) for (const f of ['code_state_probe3_None_.pkl', ...(n === 3 && !o.quiet ? [] : ['trace.log'])]) utimesSync(join(d, `run${n}`, f), t, t);
  }
  return d;
}

describe('trial s26a: watch takes a profile file or Redis value after the records a log still being written holds of its profile', () => {
  // PyTorch writes the profile (the file, the Redis key) before it logs the compile's
  // compilation_metrics, and watch holds the compile's records until then: the file or value,
  // taken first, turned the dims dynamic in `why` and `history` gained a record PyTorch never
  // logged ("by PyTorch's rule, joining an imported snapshot").
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const log = (set: string, n: number) => gunzipSync(readFileSync(join(RUNS, set, `run${n}`, 'trace.log.gz'))).toString('utf8').split('\n');
  const noPositions = (t: string) => t.replace(/"position":\d+,?/g, '');
  it("a Redis value PyTorch set between a compile's records and its metrics is ingested once they are in: history and why are the logs'", async () => {
    const server = await startRedis();
    const d = join(dir, 'held-redis');
    mkdirSync(join(d, 'run1'), { recursive: true });
    mkdirSync(join(d, 'run2'));
    writeFileSync(join(d, 'run1', 'trace.log'), log('probe4-remote', 1).join('\n'));
    const db = join(dir, 'held-redis.db');
    const w = cliSpawn(db, ['watch', d, '--redis', server.url, '--interval', '1', '--json']);
    let out = '';
    let err = '';
    w.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
    w.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const until = async (what: string, ok: () => boolean) => {
      const end = Date.now() + 30_000;
      while (!ok()) {
        if (Date.now() > end || w.exitCode !== null) throw new Error(`no ${what}: ${out.slice(-1500)} ${err.slice(-1500)}`);
        await sleep(20);
      }
    };
    try {
      const key = readFileSync(join(RUNS, 'probe4-remote', 'run1', 'key.txt'), 'utf8').trim();
      const { Redis } = await import('ioredis');
      const r = new Redis(server.url);
      await until('the first pass', () => out.includes('"report":"pass"'));
      await r.set(key, readFileSync(join(RUNS, 'probe4-remote', 'run1', 'value.json'), 'utf8').trim());
      await until("run 1's value", () => out.split('\n').some((l) => l.includes('"kind":"redis"')));
      // run 2's log up to its compile 9/0's put_remote_code_state (line 3752), not its metrics (3859)
      const two = log('probe4-remote', 2);
      writeFileSync(join(d, 'run2', 'trace.log'), two.slice(0, 3858).join('\n') + '\n');
      await until("run 2's log", () => out.includes('run2/trace.log'));
      await r.set(key, readFileSync(join(RUNS, 'probe4-remote', 'run2', 'value.json'), 'utf8').trim());
      await until('the value said to wait', () => err.includes('waits for the records of profile team/probe:5:None:v1 that a log still being written may hold'));
      assert.equal(out.split('\n').filter((l) => l.includes('"kind":"redis"')).length, 1, 'run 2\'s value waits');
      appendFileSync(join(d, 'run2', 'trace.log'), two.slice(3858).join('\n'));
      await until("run 2's value, after the log's records", () => out.split('\n').filter((l) => l.includes('"kind":"redis"')).length === 2);
      r.disconnect();
    } finally {
      w.kill('SIGTERM');
      await new Promise((res) => w.once('exit', res));
      await server.stop();
    }
    const one = join(dir, 'held-redis-one.db');
    ok(cli(one, ['ingest', join(d, 'run1', 'trace.log'), join(d, 'run2', 'trace.log')]));
    const sel = ['--job', 'team/probe:5', '--tag', 'v1'];
    assert.equal(noPositions(ok(cli(db, ['history', ...sel, '--json']))), noPositions(ok(cli(one, ['history', ...sel, '--json']))));
    assert.match(ok(cli(db, ['why', ...sel, '--code', '<lambda>', '--source', "L['x']"])), /PyTorch logged at compile 9\/0: size change 2 -> 3/);
  });
  it("watch --once: a profile file beside a log that holds a compile's records waits for them; the next pass takes both, as a one-shot ingest", () => {
    const d = probe3Cut('held-file', { old: true });
    const old = new Date(Date.now() - 60_000);
    const db = join(dir, 'held-file.db');
    let r = cli(db, ['watch', d, '--once']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /run3\/code_state_probe3_None_\.pkl: waits for the records of profile probe3:None: that a log still being written may hold/);
    appendFileSync(join(d, 'run3', 'trace.log'), log('probe3', 3).slice(2105).join('\n'));
    utimesSync(join(d, 'run3', 'trace.log'), old, old);
    r = cli(db, ['watch', d, '--once', '--settle', '1']);
    assert.equal(r.status, 0, r.stderr);
    const one = join(dir, 'held-file-one.db');
    ok(cli(one, ['ingest', d]));
    for (const c of ['why', 'history', 'stats']) assert.equal(noPositions(ok(cli(db, [c, '--job', 'probe3', '--json']))), noPositions(ok(cli(one, [c, '--job', 'probe3', '--json']))), c);
  });
});

describe("trial s25d: why's header names the run of a source one run saw, where the profile holds several", () => {
  it("probe11's L['xs'][2] (run 3's compile 0/0 (3rd) alone saw it): the run is named; in a window of one run, not", () => {
    const db = join(dir, 'header-run.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe11', `run${n}`, 'trace.log.gz')]));
    const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
    const out = ok(cli(db, ['why', '--job', 'probe11', '--code', 'm', '--source', "L['xs'][2]"]));
    assert.match(out, new RegExp(`^  run ${runs[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: compile 0/0 \\(3rd\\) saw L\\['xs'\\]\\[2\\] \\[3\\]$`, 'm'));
    const alone = ok(cli(db, ['why', '--job', 'probe11', '--code', 'm', '--source', "L['xs'][2]", '--exclude-run', runs[0], '--exclude-run', runs[1]]));
    assert.match(alone, /^ {2}compile 0\/0 \(3rd\) saw L\['xs'\]\[2\] \[3\]$/m);
  });
});

describe('trial s26c: logs still being written, read by ingest and by a watch restarted', () => {
  const lines = (set: string, n: number) => gunzipSync(readFileSync(join(RUNS, set, `run${n}`, 'trace.log.gz'))).toString('utf8').split('\n');
  const noPositions = (t: string) => t.replace(/"position":\d+,?/g, '');
  const answers = (db: string, job: string) => ['why', 'history', 'stats'].map((c) => noPositions(ok(cli(db, [c, '--job', job, '--json']))));
  it('ingest of a folder whose log ends inside a compile that put its profile: the profile file beside it waits for the records; ingested again whole, the one-shot answers', () => {
    const d = probe3Cut('folder-cut');
    const db = join(dir, 'folder-cut.db');
    const r = cli(db, ['ingest', d]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /run3\/code_state_probe3_None_\.pkl: waits for the records of profile probe3:None: that a log of the folder holds back \(it ends inside a compile\)/);
    writeFileSync(join(d, 'run3', 'trace.log'), lines('probe3', 3).join('\n'));
    ok(cli(db, ['ingest', d]));
    const one = join(dir, 'folder-cut-one.db');
    ok(cli(one, ['ingest', d]));
    assert.deepEqual(answers(db, 'probe3'), answers(one, 'probe3'));
  });
  it('a whole log in which no compile finished yet (its first compile\'s records there) gives nothing, said; whole, its events under its own run alone', () => {
    const cut = join(dir, 'first-compile.log');
    writeFileSync(cut, lines('probe5', 2).slice(0, 384).join('\n') + '\n');
    const db = join(dir, 'first-compile.db');
    const r = cli(db, ['ingest', cut]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /first-compile\.log: no compile finished in it, though one began \(its inputs described, its records\)/);
    assert.match(r.stdout, /: trace: 0 events appended, 0 already in the log, 1 problem said above/);
    writeFileSync(cut, lines('probe5', 2).join('\n'));
    const whole = ok(cli(db, ['ingest', cut]));
    const one = join(dir, 'first-compile-one.db');
    assert.equal(ok(cli(one, ['ingest', cut])), whole);
    assert.deepEqual((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim()) as { runs: string[] }).runs, (JSON.parse(ok(cli(one, ['jobs', '--json'])).trim()) as { runs: string[] }).runs);
  });
  it('watch --once, then again (a restart): a profile file waits for a log still being written, the second pass too, though it did not read the log again', () => {
    const d = probe3Cut('restart-wait', { old: true });
    const old = new Date(Date.now() - 60_000);
    const db = join(dir, 'restart-wait.db');
    for (let i = 0; i < 2; i++) {
      const r = cli(db, ['watch', d, '--once']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /run3\/code_state_probe3_None_\.pkl: waits for the records of profile probe3:None:/, `pass ${i}`);
    }
    appendFileSync(join(d, 'run3', 'trace.log'), lines('probe3', 3).slice(2105).join('\n'));
    utimesSync(join(d, 'run3', 'trace.log'), old, old);
    ok(cli(db, ['watch', d, '--once', '--settle', '1']));
    const one = join(dir, 'restart-wait-one.db');
    ok(cli(one, ['ingest', d]));
    assert.deepEqual(answers(db, 'probe3'), answers(one, 'probe3'));
  });
  it('watch that finds a log ending inside a compile quiet (--settle) holds the profile file beside it as it holds the compile', () => {
    const d = probe3Cut('settled-wait', { quiet: true });
    const old = new Date(Date.now() - 60_000);
    const db = join(dir, 'settled-wait.db');
    const r = cli(db, ['watch', d, '--once', '--settle', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /compile 4\/0 put its profile here with no compilation_metrics after it/);
    assert.match(r.stderr, /run3\/code_state_probe3_None_\.pkl: waits for the records of profile probe3:None:/);
    appendFileSync(join(d, 'run3', 'trace.log'), lines('probe3', 3).slice(2105).join('\n'));
    utimesSync(join(d, 'run3', 'trace.log'), old, old);
    ok(cli(db, ['watch', d, '--once', '--settle', '1']));
    const one = join(dir, 'settled-wait-one.db');
    ok(cli(one, ['ingest', d]));
    assert.deepEqual(answers(db, 'probe3'), answers(one, 'probe3'));
  });
});

describe('trial s26d: a log still inside its first compile, and the snapshot advice names its own file', () => {
  const lines = (set: string, n: number) => gunzipSync(readFileSync(join(RUNS, set, `run${n}`, 'trace.log.gz'))).toString('utf8').split('\n');
  const noPositions = (t: string) => t.replace(/"position":\d+,?/g, '');
  it('watch --once of a log still being written inside its first compile (after its put): the profile file beside it waits; the next pass takes both, as a one-shot ingest', () => {
    const d = join(dir, 'first-compile-watch');
    mkdirSync(join(d, 'run2'), { recursive: true });
    copyFileSync(join(RUNS, 'probe5', 'run2', 'code_state_probe5_None_.pkl'), join(d, 'run2', 'code_state_probe5_None_.pkl'));
    writeFileSync(join(d, 'run2', 'trace.log'), lines('probe5', 2).slice(0, 426).join('\n') + '\n');
    const db = join(dir, 'first-compile-watch.db');
    const r = cli(db, ['watch', d, '--once']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /code_state_probe5_None_\.pkl: waits for the records of profile probe5:None: that a log still being written may hold/);
    assert.match(ok(cli(db, ['jobs'])), /ledger holds no profile yet|probe5:None:\t0 events/);
    appendFileSync(join(d, 'run2', 'trace.log'), lines('probe5', 2).slice(426).join('\n'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(d, 'run2', 'trace.log'), old, old);
    ok(cli(db, ['watch', d, '--once', '--settle', '1']));
    const one = join(dir, 'first-compile-watch-one.db');
    ok(cli(one, ['ingest', d]));
    for (const c of ['why', 'history', 'stats']) assert.equal(noPositions(ok(cli(db, [c, '--job', 'probe5', '--json']))), noPositions(ok(cli(one, [c, '--job', 'probe5', '--json']))), c);
  });
  it("a Redis value of the same bytes as another profile's pickle is named by its own origin in why's advice", () => {
    const db = join(dir, 'advice-origin.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe4-local', `run${n}`)]));
    // runs 1 and 2's logs alone: run 3's value holds what no log of that job told (session 29: a
    // value whose entries the logs held adds nothing, and is named nowhere)
    for (const n of [1, 2]) ok(cli(db, ['ingest', join(RUNS, 'probe4-remote', `run${n}`, 'trace.log.gz')]));
    const value = join(RUNS, 'probe4-remote', 'run3', 'value.json');
    const key = readFileSync(join(RUNS, 'probe4-remote', 'run3', 'key.txt'), 'utf8').trim();
    ok(cli(db, ['ingest', '--kind', 'remote-json', '--key', key, value]));
    const why = ok(cli(db, ['why', '--job', 'team/probe:5', '--tag', 'v1', '--source', "L['x']"]));
    assert.match(why, /the remote-json snapshot \S*probe4-remote\/run3\/value\.json/);
    assert.doesNotMatch(why, /code_state_probe4_None_\.pkl/);
  });
});

describe('probe13 (real PyTorch, session 27): a run under torch.compile(dynamic=False), and a run that started cold', () => {
  const run = (n: number, f: string) => join(RUNS, 'probe13', `run${n}`, f);
  const db = join(dir, 'probe13.db');
  type Ev = { position: number; run: string; compile_id: string; kind: string; format: string | null; value: string; brought: string | null };
  type Story = { source: string; code: { name: string }; dim: { field: string; index: number | null }; dynamic: boolean; current: string; became_dynamic: (Ev & { before: string; cold_put: boolean }) | null; static_again: (Ev & { dynamic_in: Ev & { before: string; cold_put: boolean } }) | null };
  const runs: string[] = [];

  it("after runs 1, 3 and 4 the profile PyTorch left, byte for byte: run 4's compiles of f and h under automatic_dynamic_shapes off overwrote their entries (a dynamic dim back to a value)", () => {
    for (const n of [1, 2, 3, 4]) {
      ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
      const all = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
      runs.push(all.find((r) => !runs.includes(r))!);
      // run 2 loaded no profile (its cache was wiped): PyTorch's file after it holds its own
      // compiles alone, the ledger their join with run 1's (below)
      if (n === 2) continue;
      const out = join(dir, `probe13-${n}.pkl`);
      ok(cli(db, ['export', '--job', 'probe13', '--format', 'pickle', '-o', out]));
      assert.deepEqual(readFileSync(out), readFileSync(run(n, 'code_state_probe13_None_.pkl')), `run ${n}`);
      assert.equal(ok(cli(db, ['show', '--job', 'probe13'])), readFileSync(run(n, 'render.txt'), 'utf8') + '\n', `run ${n}`);
    }
  });

  it("why: f's L['x'] dim 0 is static again at 32, overwritten by run 4's compile 0/1, dynamic before", () => {
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe13', '--code', 'f', '--source', "L['x']", '--json']))) as Story[];
    const d0 = stories.find((s) => s.dim.field === 'size' && s.dim.index === 0)!;
    assert.equal(d0.dynamic, false);
    assert.equal(d0.current, '32');
    assert.equal(d0.static_again?.run, runs[3]);
    assert.equal(d0.static_again?.compile_id, '0/1');
    assert.equal(d0.static_again?.format, 'put_local_code_state');
    assert.equal(d0.static_again?.value, '32');
    assert.equal(d0.static_again?.dynamic_in.value, '?');
    // it had turned dynamic by joining run 2's put (run 2 started cold): said in JSON and text alike (session 27 left it out)
    assert.equal(d0.static_again?.dynamic_in.run, runs[1]);
    assert.equal(d0.static_again?.dynamic_in.before, '4');
    assert.equal(d0.static_again?.dynamic_in.cold_put, true);
    // a dim that never was dynamic has none
    assert.equal(stories.find((s) => s.dim.field === 'stride')!.static_again, null);
    // stats counts what its compiles fed it, as why does (trial s27c: "no observations of it (it came in a snapshot)")
    type Dim = { code: { name: string }; source: string; dim: string; observations: number; values: { value: string; count: number }[] };
    const dims = ok(cli(db, ['stats', '--job', 'probe13', '--json'])).trim().split('\n').flatMap((l) => (JSON.parse(l) as { dims: Dim[] }).dims);
    const f = dims.find((d) => d.code.name === 'f' && d.dim === 'size[0]')!;
    assert.equal(f.observations, 5);
    assert.deepEqual(Object.fromEntries(f.values.map((v) => [v.value, v.count])), { '4': 2, '8': 1, '16': 1, '32': 1 });
    const text = ok(cli(db, ['why', '--job', 'probe13', '--code', 'f', '--source', "L['x']"]));
    assert.match(text, /dim 0: static at 32, its values seen 5 times \(runs .*\n {4}static again: 32 since #\d+ \(compile 0\/1, imported put_local_code_state, run [^,]+, .*\), an overwrite \(PyTorch overwrites an entry instead of joining under automatic_dynamic_shapes off: torch\.compile\(dynamic=False\), or a line's "automatic_dynamic": false\); dynamic before in #\d+ \(compile 0\/0, imported put_local_code_state, run [^,]+, .*\), by joining a put of run [^,]+, which had not loaded the profile \(it started cold, or from another copy\): PyTorch's own profile kept 8 there\n/);
    // a dim PyTorch's own record made dynamic is no cold put: h's L['x'] dim 0 (run 3 logged 3 -> 6,
    // run 4 overwrote it) and g's (run 3 logged 2 -> 3)
    const dim0 = (code: string) => (JSON.parse(ok(cli(db, ['why', '--job', 'probe13', '--code', code, '--source', "L['x']", '--json']))) as Story[]).find((s) => s.dim.field === 'size' && s.dim.index === 0)!;
    assert.equal(dim0('h').static_again?.dynamic_in.kind, 'dynamic.logged');
    assert.equal(dim0('h').static_again?.dynamic_in.cold_put, false);
    assert.equal(dim0('g').became_dynamic?.kind, 'dynamic.logged');
    assert.equal(dim0('g').became_dynamic?.cold_put, false);
  });

  it("why: a dim the ledger made dynamic by joining run 2's put (a cold start) says PyTorch's own profile kept the put's value", () => {
    const db2 = join(dir, 'probe13-cold.db');
    for (const n of [1, 2]) ok(cli(db2, ['ingest', run(n, 'trace.log.gz')]));
    const stories = JSON.parse(ok(cli(db2, ['why', '--job', 'probe13', '--code', 'g', '--json']))) as Story[];
    const n = stories.find((s) => s.source === "L['n']")!;
    assert.equal(n.became_dynamic?.format, 'put_local_code_state');
    assert.equal(n.became_dynamic?.brought, '3');
    assert.equal(n.became_dynamic?.before, '2');
    assert.equal(n.became_dynamic?.cold_put, true);
    const text = ok(cli(db2, ['why', '--job', 'probe13', '--code', 'g', '--source', "L['n']"]));
    assert.match(text, new RegExp(`that put held 3: run ${runs[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} had not loaded the profile that held 2 \\(it started cold, or from another copy\\), so PyTorch logged no change and its own profile after that run keeps 3`));
    // PyTorch's file after run 2: 3, static (the ledger's export is the join, README)
    assert.match(readFileSync(run(2, 'render.txt'), 'utf8'), /L\['n'\]: scalar 3/);
  });
});

describe('why --dim of a dim whose size turned dynamic whole later (trial s29a)', () => {
  it("probe3: forward's L['x'] dim 1, logged 5 -> 9 in run 2 before run 3 changed its number of dims: the error says the record", () => {
    const db = join(dir, 'probe3-dim-before.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe3', `run${n}`, 'trace.log.gz')]));
    const run2 = (JSON.parse(ok(cli(db, ['jobs', '--json']))) as { runs: string[] }).runs[1];
    const r = cli(db, ['why', '--job', 'probe3', '--code', 'forward', '--source', "L['x']", '--dim', '1']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`has no dim 1; its dims: rank, stride\\. Its size is dynamic whole \\(its number of dims changed\\); before that, dim 1 turned dynamic: #\\d+ \\(compile 0/1, run ${run2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): size change 5 -> 9\\. why --dim rank tells the whole size`));
    // as of before run 3 it is a dim of its own, told as ever
    const record = /#(\d+) \(compile 0\/1/.exec(r.stderr)![1];
    ok(cli(db, ['why', '--job', 'probe3', '--code', 'forward', '--source', "L['x']", '--dim', '1', '--as-of', record]));
    // a dim no record names: the error as before
    assert.doesNotMatch(cli(db, ['why', '--job', 'probe3', '--code', 'forward', '--source', "L['x']", '--dim', '7']).stderr, /before that/);
  });
});

describe("a folder of a job's runs, each its log and the profile file PyTorch left (trial s29a)", () => {
  // Read as the logs, then the files: a run's file is what PyTorch wrote at one of its puts, so
  // it tells nothing the logs did not. Joined again, run 1's file made f's L['x'] dynamic after
  // run 4's compile under dynamic=False had put 32 back (probe13), and why named the file.
  it("probe13: the profile PyTorch left after run 4, byte for byte; the files' entries are in the log already", () => {
    const db = join(dir, 'probe13-folder.db');
    const r = JSON.parse(ok(cli(db, ['ingest', '--json', join(RUNS, 'probe13')])).trim()) as { appended: number; duplicates: number; kinds: Record<string, number> };
    assert.deepEqual(r.kinds, { trace: 4, pickle: 4 });
    const traces = join(dir, 'probe13-traces.db');
    for (const n of [1, 2, 3, 4]) ok(cli(traces, ['ingest', join(RUNS, 'probe13', `run${n}`, 'trace.log.gz')]));
    assert.equal(r.appended, (JSON.parse(ok(cli(traces, ['jobs', '--json']))) as { events: number }).events, 'the files add no event');
    assert.equal(r.duplicates, 16, "the four files' 16 entries");
    const out = join(dir, 'probe13-folder.pkl');
    ok(cli(db, ['export', '--job', 'probe13', '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(join(RUNS, 'probe13', 'run4', 'code_state_probe13_None_.pkl')));
    const why = ok(cli(db, ['why', '--job', 'probe13', '--code', 'f', '--source', "L['x']"]));
    assert.match(why, /dim 0: static at 32/);
    assert.doesNotMatch(why, /pickle/);
  });

  it("a file no log told of whole (run 2's, its log not read) is joined whole, though one entry equals run 1's: retracting run 1 leaves run 2's file as PyTorch wrote it (trial s29c)", () => {
    const db = join(dir, 'probe13-cold-file.db');
    ok(cli(db, ['ingest', join(RUNS, 'probe13', 'run1', 'trace.log.gz')]));
    const [r1] = (JSON.parse(ok(cli(db, ['jobs', '--json']))) as { runs: string[] }).runs;
    // run 2 started cold: its file holds h's [3, 5] as run 1's puts did, and its own f and g
    const r = JSON.parse(ok(cli(db, ['ingest', '--json', join(RUNS, 'probe13', 'run2', 'code_state_probe13_None_.pkl')])).trim()) as { appended: number; duplicates: number };
    assert.deepEqual([r.appended, r.duplicates], [4, 0]);
    ok(cli(db, ['retract', '--run', r1]));
    const out = join(dir, 'probe13-cold-file.pkl');
    ok(cli(db, ['export', '--job', 'probe13', '--format', 'pickle', '-o', out]));
    assert.deepEqual(readFileSync(out), readFileSync(join(RUNS, 'probe13', 'run2', 'code_state_probe13_None_.pkl')));
  });

  it('every probe: its folder gives the events its logs give, and exports what its logs export', () => {
    for (const probe of ['probe3', 'probe5', 'probe7', 'probe11', 'probe15', 'probe4-remote']) {
      const folder = join(dir, `${probe}-folder.db`);
      const logs = join(dir, `${probe}-logs.db`);
      const r = JSON.parse(ok(cli(folder, ['ingest', '--json', join(RUNS, probe)])).trim().split('\n')[0]) as { appended: number; duplicates: number };
      ok(cli(logs, ['ingest', ...readdirSync(join(RUNS, probe)).filter((d) => d.startsWith('run')).sort().map((d) => join(RUNS, probe, d, 'trace.log.gz'))]));
      assert.equal(r.appended, (JSON.parse(ok(cli(logs, ['jobs', '--json']))) as { events: number }).events, probe);
      assert.ok(r.duplicates > 0, probe);
      const job = (JSON.parse(ok(cli(logs, ['jobs', '--json']))) as { job: string }).job;
      assert.equal(ok(cli(folder, ['show', '--job', job])), ok(cli(logs, ['show', '--job', job])), probe);
    }
  });
});

describe('probe14 (real PyTorch, session 27): sticky extra PGO keys on Redis', () => {
  it("each job's profile after each run is the value PyTorch set in Redis, beta's loaded from alpha's extra write key", () => {
    const db = join(dir, 'probe14.db');
    for (const r of ['alpha-run1', 'alpha-run2', 'beta-run1', 'beta-run2']) {
      ok(cli(db, ['ingest', join(RUNS, 'probe14', r, 'trace.log.gz')]));
      const values = JSON.parse(readFileSync(join(RUNS, 'probe14', r, 'redis.json'), 'utf8')) as Record<string, { data: string }>;
      let checked = 0;
      for (const job of ['alpha', 'beta']) {
        const v = values[`pt2:dynamo-pgo::${job}:None::c1`];
        if (!v) continue;
        const out = join(dir, `probe14-${r}-${job}.json`);
        ok(cli(db, ['export', '--job', job, '--format', 'remote-json', '-o', out]));
        assert.deepEqual(fromValue(out), Buffer.from(v.data, 'base64'), `${r}: ${job}`);
        checked++;
      }
      assert.equal(checked, r.startsWith('alpha') ? 1 : 2);
    }
  });
});

describe("trial s28a: a record's cached value is what PyTorch's profile held, which the run may only have loaded", () => {
  it("probe12 rank 0's L['smoothing']: run 2 was fed 0.1 alone (fed-rank0.json), its record 0.0 -> 0.1 is not said as the run seeing 0.0", () => {
    const db = join(dir, 'probe12-held.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe12', `run${n}`, 'trace-rank0.log.gz')]));
    const fed = JSON.parse(readFileSync(join(RUNS, 'probe12', 'run2', 'fed-rank0.json'), 'utf8')) as unknown[][];
    assert.deepEqual([...new Set(fed.map((f) => f[5]))], [0.1]);
    const out = ok(cli(db, ['why', '--job', 'probe12', '--rank', '0', '--source', "L['smoothing']"]));
    assert.match(out, /\n {4}PyTorch's profile held 0\.0, then run probe12:rank0:pid561@\S+ saw 0\.1: feeding one value keeps it static/);
    assert.doesNotMatch(out, /saw 0\.0/);
  });
});

describe('trial s28a: logs ingested newest first', () => {
  it("ingest and why say that a run came in after one that started later, and that why follows the log's order; oldest first, nothing is said", () => {
    const trace = (n: number) => join(RUNS, 'probe3', `run${n}`, 'trace.log.gz');
    const db = join(dir, 'probe3-newest-first.db');
    const said = [3, 2, 1].map((n) => cli(db, ['ingest', trace(n)]));
    assert.equal(said[0].stderr, '');
    // run 2 (pid615) after run 3 (pid640); then run 1 (pid590) after run 3 too
    assert.match(said[1].stderr, /^pgo-ledger: note: probe3:None:: run probe3:pid615@\S+ \(from 2026-11-30T01:31:11\.\d+Z\) came into the log after run probe3:pid640@\S+, which started later \(2026-11-30T01:31:24\.\d+Z\): answers follow the log's order, the order of ingest, so why may name a later event than PyTorch's order would \(a later run's load of the profile, where PyTorch logged the change in the earlier run\); ingest a job's logs oldest first \(into a new ledger\) for PyTorch's order\n$/);
    assert.match(said[2].stderr, /^pgo-ledger: note: probe3:None:: run probe3:pid590@/);
    const why = cli(db, ['why', '--job', 'probe3', '--source', "L['scale']"]);
    assert.equal(why.status, 0);
    // the answer the trial found wrong (run 3's load, not run 2's record): said to be the log's order
    assert.match(why.stdout, /dynamic in #\d+ \(compile 0\/0, imported get_local_code_state, run probe3:pid640@/);
    assert.match(why.stderr, /^pgo-ledger: note: probe3:None:: run probe3:pid615@\S+ \(from [^)]+\) came into the log after run probe3:pid640@\S+, which started later \([^)]+\) \(and 1 more run so\): answers follow the log's order/);
    // --as-of a point before the late runs came: none said
    assert.equal(cli(db, ['why', '--job', 'probe3', '--source', "L['scale']", '--as-of', '3']).stderr, '');
    const inOrder = join(dir, 'probe3-oldest-first.db');
    for (const n of [1, 2, 3]) assert.equal(cli(inOrder, ['ingest', trace(n)]).stderr, '');
    assert.equal(cli(inOrder, ['why', '--job', 'probe3']).stderr, '');
  });

  it("a folder of a job's logs named at random, as TORCH_TRACE names them: ingest and watch read them in the order their runs began, and why is oldest first's", () => {
    const trace = (n: number) => join(RUNS, 'probe3', `run${n}`, 'trace.log.gz');
    const folder = join(dir, 'probe3-random-names');
    mkdirSync(folder);
    // name order: run 2, run 3, run 1
    for (const [n, name] of [[1, 'zz'], [2, 'aa'], [3, 'mm']] as const) copyFileSync(trace(n), join(folder, `dedicated_log_torch_trace_${name}.log.gz`));
    type Story = { source: string; code: { name: string }; dim: { field: string; index: number | null }; became_dynamic: { position: number; run: string; kind: string } | null };
    const stories = (db: string) => (JSON.parse(ok(cli(db, ['why', '--job', 'probe3', '--json']))) as Story[]).map((s) => [s.code.name, s.source, s.dim.field, s.dim.index, s.became_dynamic?.run, s.became_dynamic?.kind, s.became_dynamic?.position]);
    const inOrder = join(dir, 'probe3-random-oldest.db');
    for (const n of [1, 2, 3]) ok(cli(inOrder, ['ingest', trace(n)]));
    const want = stories(inOrder);
    for (const [cmd, db] of [[['ingest', folder], join(dir, 'probe3-random-ingest.db')], [['watch', '--once', folder], join(dir, 'probe3-random-watch.db')]] as const) {
      const r = cli(db, [...cmd]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /note:/);
      assert.deepEqual(stories(db), want, cmd[0]);
      assert.deepEqual((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim()) as { runs: string[] }).runs, (JSON.parse(ok(cli(inOrder, ['jobs', '--json'])).trim()) as { runs: string[] }).runs);
    }
  });

  it('runs whose times overlap (two processes at once) are in no order to keep: nothing said whichever comes first (trial s28c)', () => {
    const line = (run: string, t: number, n: number) => JSON.stringify({ job: 'overlap', run, time: new Date(Date.UTC(2026, 10, 30, 10, 0, t)).toISOString(), code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n], stride: [1] });
    const a = join(dir, 'overlap-a.jsonl');
    const b = join(dir, 'overlap-b.jsonl');
    // a from 10:00:00 to 10:00:20, b from 10:00:10 to 10:00:30: b ingested first
    writeFileSync(a, [line('a', 0, 8), line('a', 20, 16)].join('\n') + '\n');
    writeFileSync(b, [line('b', 10, 8), line('b', 30, 32)].join('\n') + '\n');
    const db = join(dir, 'overlap.db');
    assert.equal(cli(db, ['ingest', b]).stderr, '');
    assert.equal(cli(db, ['ingest', a]).stderr, '');
    assert.equal(cli(db, ['why', '--job', 'overlap']).stderr, '');
    // one wholly before the other, ingested after it: said
    const c = join(dir, 'overlap-c.jsonl');
    writeFileSync(c, [line('c', 1, 8), line('c', 5, 64)].join('\n') + '\n');
    assert.match(cli(db, ['ingest', c]).stderr, /^pgo-ledger: note: overlap:None:: run c \(from 2026-11-30T10:00:01\.000Z\) came into the log after run b, which started later \(2026-11-30T10:00:10\.000Z\)/);
  });
});
