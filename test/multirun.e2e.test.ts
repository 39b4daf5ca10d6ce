import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
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
}
const fromValue = (file: string) => Buffer.from((JSON.parse(readFileSync(file, 'utf8')) as { data: string }).data, 'base64');
const JOBS: JobRuns[] = [
  { set: 'probe3', key: ['--job', 'probe3'], snapshot: 'code_state_probe3_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe4-local', key: ['--job', 'probe4'], snapshot: 'code_state_probe4_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe4-remote', key: ['--job', 'team/probe:5', '--tag', 'v1'], snapshot: 'value.json', pickle: fromValue },
  { set: 'probe5', key: ['--job', 'probe5'], snapshot: 'code_state_probe5_None_.pkl', pickle: (f) => readFileSync(f) },
  { set: 'probe7', key: ['--job', 'probe7'], snapshot: 'code_state_probe7_None_.pkl', pickle: (f) => readFileSync(f), dims: 9 },
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
  const run = (n: number, f: string) => join(RUNS, j.set, `run${n}`, f);
  describe(`${j.set}: three runs PyTorch wrote, read from their traces`, () => {
    it('after each run: the profile PyTorch left, byte for byte, and show its render', () => {
      const db = join(dir, `${j.set}-runs.db`);
      for (const n of [1, 2, 3]) {
        ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
        assert.deepEqual(exported(db, j, `${j.set}-${n}`), j.pickle(run(n, j.snapshot)), `run ${n}`);
        assert.equal(ok(cli(db, ['show', ...j.key])), readFileSync(run(n, 'render.txt'), 'utf8') + '\n', `run ${n}`);
      }
    });

    it("--as-of each run's last event gives that run's profile; the traces in reverse order give the last", () => {
      const db = join(dir, `${j.set}-asof.db`);
      const ends: number[] = [];
      for (const n of [1, 2, 3]) {
        ok(cli(db, ['ingest', run(n, 'trace.log.gz')]));
        ends.push((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { position: number }).position);
      }
      for (const [i, end] of ends.entries()) assert.deepEqual(exported(db, j, `${j.set}-asof-${i}`, ['--as-of', String(end)]), j.pickle(run(i + 1, j.snapshot)), `as of run ${i + 1}`);
      const rev = join(dir, `${j.set}-rev.db`);
      for (const n of [3, 2, 1]) ok(cli(rev, ['ingest', run(n, 'trace.log.gz')]));
      assert.deepEqual(exported(rev, j, `${j.set}-rev`), j.pickle(run(3, j.snapshot)));
    });

    it('why: every dim a record made dynamic names the run whose records.json holds it, in show\'s words', () => {
      const db = join(dir, `${j.set}-why.db`);
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
        const db = join(dir, `${j.set}-alone-${n}.db`);
        ok(cli(db, ['ingest', run(n, j.snapshot), '--job', 'alone']));
        assert.deepEqual(exported(db, { ...j, key: ['--job', 'alone'] }, `${j.set}-alone-${n}`), j.pickle(run(n, j.snapshot)), `run ${n}`);
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
    // run 1 fed forward x of 2 rows and self.n = 2; run 2 loaded them, then fed 5 rows and n = 3
    assert.deepEqual(at("L['x']", 'size'), [
      { value: '2', count: 1, runs: [runNames[0]] },
      { value: '5', count: 1, runs: [runNames[1]] },
    ]);
    assert.deepEqual(at("L['self'].n", 'scalar'), [
      { value: '2', count: 1, runs: [runNames[0]] },
      { value: '3', count: 1, runs: [runNames[1]] },
    ]);
  });

  it("a whole field's values are those runs fed, not a snapshot's [?]; stats counts a dim a later rank change took over (session 22's trial)", () => {
    const db = join(dir, 'values-folded.db');
    for (const n of [1, 2, 3]) ok(cli(db, ['ingest', join(RUNS, 'probe5', `run${n}`, 'trace.log.gz')]));
    type Story = { code: { name: string }; source: string; dim: { field: string; index?: number }; values: { value: string }[] };
    const stories = JSON.parse(ok(cli(db, ['why', '--job', 'probe5', '--json']))) as Story[];
    // twice: run 1 fed [3] then [4] (dim 0 made dynamic), run 3 fed [5, 2]
    const size = stories.find((s) => s.code.name === 'twice' && s.dim.field === 'size' && s.dim.index == null)!;
    assert.deepEqual(size.values.map((v) => v.value), ['[3]', '[5, 2]']);
    for (const s of stories) for (const v of s.values) assert.doesNotMatch(v.value, /\?/, `${s.code.name} ${s.source}`);
    // its dim 0 turned dynamic at run 1's record (3 -> 4); run 3's rank change made the size dynamic whole
    const stats = ok(cli(db, ['stats', '--job', 'probe5']));
    assert.match(stats, /turned dynamic: L\['x'\] size\[0\] in \S+:92:twice at #\d+: 3 seen 1 time, 4 seen 1 time in 2 observations/);
    assert.doesNotMatch(stats, /no observations of it/);
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
  it("says the later runs carry it; retracting them too gives the profile before it; why's advice says so", () => {
    const db = join(dir, 'retract.db');
    const runNames: string[] = [];
    for (const n of [1, 2, 3]) {
      ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
      const runs = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
      runNames.push(runs.find((r) => !runNames.includes(r))!);
    }
    const [r1, r2, r3] = runNames;
    // run 2 made L['xs'][0] dim 0 dynamic (size change 3 -> 1); run 3 started from run 2's file
    const why = ok(cli(db, ['why', ...set.key, '--code', 'listdict', '--source', "L['xs'][0]", '--dim', '0']));
    assert.ok(why.includes(`pgo-ledger retract --run ${r2} undoes that run; but run ${r3} warm-started from a profile that held what run ${r2} brought`), why);
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
});

// Session 22: a profile file PyTorch wrote, ingested with no run (a pickle here; a mega-cache
// or a remote value alike), later than a run, holds what that run brought as a warm-started
// run's snapshots do; retract and why named only the runs.
describe('retracting a run that a later snapshot with no run carries', () => {
  const set = JOBS[0];
  it('retract, why and retractRun name the snapshot (format, file, position); one older than the run is not named', () => {
    const db = join(dir, 'retract-snapshot.db');
    for (const n of [1, 2]) ok(cli(db, ['ingest', join(RUNS, set.set, `run${n}`, 'trace.log.gz')]));
    const [r1, r2] = (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { runs: string[] }).runs;
    // run 2's file, written after it (its time: the file's); run 1's, dated before run 2 started
    const later = join(dir, 'run2-later.pkl');
    const older = join(dir, 'run1-older.pkl');
    copyFileSync(join(RUNS, set.set, 'run2', set.snapshot), later);
    copyFileSync(join(RUNS, set.set, 'run1', set.snapshot), older);
    utimesSync(older, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    ok(cli(db, ['ingest', older, ...set.key]));
    const at = Number((JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n')[0]) as { position: number }).position) + 1;
    ok(cli(db, ['ingest', later, ...set.key]));
    const named = `the pickle snapshot ${later} (#${at}), ingested with no run and written later than run ${r2}, holds what run ${r2} brought too (PyTorch writes what it loaded into each profile it writes): no run names it, so no retraction leaves it out`;
    const why = ok(cli(db, ['why', ...set.key, '--code', 'listdict', '--source', "L['xs'][0]", '--dim', '0']));
    assert.ok(why.includes(`pgo-ledger retract --run ${r2} undoes that run; but ${named}`), why);
    assert.ok(!why.includes(older), why);
    const r = cli(db, ['retract', '--run', r2]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, `pgo-ledger: note: probe3:None:: run ${r2} is left out of its answers, but ${named}\n`);
    // run 1 came before every snapshot's time but the older one's: the later one carries it too
    const r1r = cli(db, ['retract', '--run', r1]);
    assert.match(r1r.stderr, new RegExp(`run ${r1.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is left out of its answers, but the pickle snapshot ${later.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(#${at}\\)`));
    assert.ok(!r1r.stderr.includes(older), r1r.stderr);
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
    assert.match(out, /the number of dims \(size\): dynamic in #\d+ [^\n]*\n {4}L\['x'\] was a tensor in some events and an int in others/);
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
