import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { bigProfile, mixFile, traceDir } from './generate.ts';
import { paired, row, type Bench, type Row, type Sample } from './measure.ts';

export interface Sizes {
  /** Observation lines per ingest row (the issue: 1M and 5M). */
  ingest: number[];
  /** Lines in each of the 4 writers' files. */
  writerLines: number;
  traces: number;
  /** Lines ingested into the database the read commands run on (the issue: 5M). */
  readLines: number;
  profileCodes: number;
  rounds: number;
  pickleRounds: number;
  pickleMs: number;
  startupRounds: number;
}

export interface Ctx {
  b: Bench;
  sizes: Sizes;
  /** Hash of the built CLI: databases built by another build are rebuilt. */
  build: string;
  log: (s: string) => void;
}

const rmDb = (p: string) => {
  for (const s of ['', '-wal', '-shm', '-journal']) rmSync(p + s, { force: true });
};
const dbBytes = (p: string) => ['', '-wal'].reduce((n, s) => n + (existsSync(p + s) ? statSync(p + s).size : 0), 0);
export const human = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

/** Sums `appended` over the JSON lines `ingest --json` printed. */
export function appended(out: string): number {
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .reduce((n, l) => n + (JSON.parse(l) as { appended: number }).appended, 0);
}

export function check(r: Row, what: string, pass: boolean): void {
  r.checks.push({ what, pass });
}

/** Ingest of the realistic mix, whole process, beside the raw insert and read + JSON.parse floors. */
export function ingestRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const rows: Row[] = [];
  const perLine: Array<{ n: number; cpu: number }> = [];
  for (const n of sizes.ingest) {
    const file = mixFile(b.dir, 0, n);
    const mb = statSync(file).size / 1e6;
    c.log(`ingest: ${human(n)} lines, ${mb.toFixed(0)} MB (${((mb * 1e6) / n).toFixed(0)} bytes a line)`);
    const db = join(b.dir, 'ingest.db');
    const raw = join(b.dir, 'raw.db');
    const out = join(b.dir, 'ingest.out');
    let events = 0;
    let bytes = 0;
    const [a, floor, parse] = paired(
      sizes.rounds,
      [
        {
          setup: () => rmDb(db),
          run: () => {
            const s = b.one(b.cli(db, 'ingest', '--json', file), out);
            events = appended(out);
            bytes = dbBytes(db);
            return s;
          },
        },
        { setup: () => rmDb(raw), run: () => b.one(b.floor('raw-insert.mjs', file, raw)) },
        { run: () => b.one(b.floor('read-parse.mjs', file)) },
      ],
      c.log,
    );
    rmDb(db);
    rmDb(raw);
    const r = row(`ingest-${human(n)}`, `ingest ${human(n)} mix lines`, 'raw insert', a, floor);
    r.goal = '<=2x CPU, RSS<=400MB, <=~100 B/event';
    check(r, `CPU ${r.ratio!.cpuPaired.toFixed(2)}x <= 2x`, r.ratio!.cpuPaired <= 2);
    check(r, `peak RSS ${r.a.rssMB!.median.toFixed(0)} MB <= 400`, r.a.rssMB!.median <= 400);
    const perEvent = bytes / events;
    check(r, `${perEvent.toFixed(0)} B/event <= 100`, perEvent <= 100);
    r.notes.push(`${events} events, db ${(bytes / 1e6).toFixed(0)} MB`, `${(n / r.a.cpu.min).toFixed(0)} lines/CPU-s`, `floor RSS ${r.b!.rssMB!.median.toFixed(0)} MB`);
    if (events !== n) r.notes.push(`NOTE ${n - events} lines not appended`);
    rows.push(r);
    const p = row(`ingest-${human(n)}-parse`, `ingest ${human(n)} mix lines`, 'read+JSON.parse', a, parse);
    p.goal = 'reference (issue: 6-8x)';
    rows.push(p);
    perLine.push({ n, cpu: r.a.cpu.min / n });
  }
  if (perLine.length > 1) {
    // Flat from 1M to 5M: CPU a line at the largest size beside the smallest (not paired: the sizes differ).
    const lo = perLine[0];
    const hi = perLine[perLine.length - 1];
    const a = [{ cpu: hi.cpu * 1e6, wall: NaN }];
    const r = row(`ingest-flat`, `ingest CPU/line at ${human(hi.n)}`, `at ${human(lo.n)}`, a as Sample[], [{ cpu: lo.cpu * 1e6, wall: NaN }]);
    r.goal = 'flat (<=1.15x)';
    check(r, `${r.ratio!.cpuMin.toFixed(2)}x <= 1.15x`, r.ratio!.cpuMin <= 1.15);
    r.notes.push('CPU microseconds a line, min of each size; not paired');
    rows.push(r);
  }
  return rows;
}

/** 4 processes ingesting 4 files into one database, beside one process ingesting all four. */
export function writerRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const n = sizes.writerLines;
  // A fleet: each writer is one job, reporting its own lines of the mix (the jobs' times overlap).
  const files = [0, 1, 2, 3].map((k) => mixFile(b.dir, 0, 4 * n, k));
  c.log(`writers: 4 files of ${human(n)} lines, one job each`);
  const db4 = join(b.dir, 'writers4.db');
  const db1 = join(b.dir, 'writers1.db');
  const outs = files.map((_, k) => join(b.dir, `writer-${k}.out`));
  // Both sides start from no database: the 4 writers create it together (migrations run
  // under the write lock, issue 9.4), as a fleet's first writers would.
  const fresh = (db: string) => rmDb(db);
  let events4 = 0;
  let events1 = 0;
  const util: number[] = [];
  const [a, one] = paired(
    sizes.rounds,
    [
      {
        setup: () => fresh(db4),
        run: () => {
          const r = b.run(files.map((f, k) => ({ argv: b.cli(db4, 'ingest', '--json', f), stdout: outs[k] })));
          events4 = outs.reduce((s, o) => s + appended(o), 0);
          for (const p of r.procs) util.push(p.cpu / p.wall);
          return { cpu: r.procs.reduce((s, p) => s + p.cpu, 0), wall: r.wall, rssMB: Math.max(...r.procs.map((p) => p.rssMB)) };
        },
      },
      {
        setup: () => fresh(db1),
        run: () => {
          const s = b.one(b.cli(db1, 'ingest', '--json', ...files), outs[0] + '.all');
          events1 = appended(outs[0] + '.all');
          return s;
        },
      },
    ],
    c.log,
  );
  rmDb(db4);
  rmDb(db1);
  const r = row('writers-4', `4 writers (1 job each) x ${human(n)} lines, one db`, '1 process, all 4', a, one);
  r.goal = 'total wall <= 1x';
  check(r, `wall ${r.ratio!.wallPaired.toFixed(2)}x <= 1x`, r.ratio!.wallPaired <= 1);
  const u = util.sort((x, y) => x - y);
  r.notes.push(`writer CPU/wall ${u[0].toFixed(2)}-${u[u.length - 1].toFixed(2)} (2 cores shared by 4)`, `events ${events4} vs ${events1}`);
  if (events4 !== events1) check(r, 'every line appended', false);
  return [r];
}

/** pgo-ledger's pickle codec beside CPython's, per operation, alternating processes. */
export function pickleRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const big = join(b.root, 'test/fixtures/oracle/big-canonical-dev/big-7-4.pkl');
  // keep: each side holds each result until the next operation has made its own (a caller keeps
  // the profile it loads); drop: each lets it go at once. Both sides do the same in each mode,
  // and the two modes weigh each side's collector differently (see the floors).
  const files = [
    { id: 'big-7-4', path: big, mode: 'keep' },
    { id: 'big-7-4-drop', path: big, mode: 'drop' },
    { id: human(sizes.profileCodes), path: bigProfile(b.root, b.dir, sizes.profileCodes), mode: 'keep' },
  ];
  const rows: Row[] = [];
  for (const f of files) {
    const mb = statSync(f.path).size / 1e6;
    c.log(`pickle: ${f.id} (${mb.toFixed(2)} MB, results ${f.mode === 'keep' ? 'held until the next' : 'let go at once'})`);
    type Res = { decode: Sample; encode: Sample; codes: number; roundTrip: boolean };
    const res: Res[][] = [[], []];
    const ms = String(sizes.pickleMs);
    const env = { ...process.env, PYTHONPATH: join(b.root, 'bench/floors/standin') };
    for (let i = 0; i < sizes.pickleRounds; i++) {
      res[0].push(JSON.parse(execFileSync(process.execPath, [join(b.root, 'bench/floors/pickle-node.mjs'), f.path, ms, f.mode], { encoding: 'utf8' })) as Res);
      res[1].push(JSON.parse(execFileSync('python3', [join(b.root, 'bench/floors/pickle_cpython.py'), f.path, ms, f.mode], { encoding: 'utf8', env })) as Res);
      c.log(`round ${i + 1}/${sizes.pickleRounds}: decode ${res[0][i].decode.cpu.toFixed(4)} vs ${res[1][i].decode.cpu.toFixed(4)}, encode ${res[0][i].encode.cpu.toFixed(4)} vs ${res[1][i].encode.cpu.toFixed(4)} (CPU s/op)`);
    }
    for (const op of ['decode', 'encode'] as const) {
      const r = row(`pickle-${op}-${f.id}`, `pickle ${op} ${f.id} (${mb.toFixed(1)} MB, ${res[0][0].codes} codes, ${f.mode})`, `CPython ${op === 'decode' ? 'loads' : 'dumps'}`, res[0].map((x) => x[op]), res[1].map((x) => x[op]));
      r.goal = '<=0.67x (1.5x faster)';
      check(r, `${(1 / r.ratio!.cpuPaired).toFixed(2)}x CPython's speed >= 1.5x`, r.ratio!.cpuPaired <= 1 / 1.5);
      r.notes.push(`${(mb / r.a.cpu.min).toFixed(1)} vs ${(mb / r.b!.cpu.min).toFixed(1)} MB/CPU-s`, 'in-process per-op timing');
      if (op === 'encode' && !res[0][0].roundTrip) r.notes.push('NOTE re-encoded bytes differ from the file');
      if (op === 'encode' && !res[1][0].roundTrip) r.notes.push("CPython's dumps differs from the file");
      rows.push(r);
    }
  }
  return rows;
}

/** Ingests a mix of n lines once per build, for the read commands (not timed). */
function builtDb(c: Ctx, name: string, n: number): string {
  const db = join(c.b.dir, `${name}-${n}-${c.build}.db`);
  if (existsSync(db)) return db;
  const file = mixFile(c.b.dir, 0, n);
  c.log(`building ${db} (${human(n)} lines, not timed)`);
  rmDb(`${db}.tmp`);
  c.b.one(c.b.cli(`${db}.tmp`, 'ingest', file));
  rmDb(`${db}.tmp-shm`);
  renameSync(`${db}.tmp`, db);
  if (existsSync(`${db}.tmp-wal`)) renameSync(`${db}.tmp-wal`, `${db}-wal`);
  return db;
}

/** `show` on a 28-event database beside `node -e 0`. */
export function startupRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const db = builtDb(c, 'tiny', 28);
  const [a, floor] = paired(sizes.startupRounds, [{ run: () => b.one(b.cli(db, 'show', '--job', 'train-0')) }, { run: () => b.one([process.execPath, '-e', '0']) }], c.log);
  const r = row('startup', 'show, 28-event db', 'node -e 0', a, floor);
  r.goal = '<=2x CPU';
  check(r, `CPU ${r.ratio!.cpuPaired.toFixed(2)}x <= 2x`, r.ratio!.cpuPaired <= 2);
  return [r];
}

/** TORCH_TRACE ingest of a folder of traces beside a Node floor that reads, splits and parses them. */
export function traceRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const dir = traceDir(b.root, b.dir, sizes.traces);
  const mb = execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0];
  c.log(`trace: ${sizes.traces} traces, ${(Number(mb) / 1e6).toFixed(0)} MB`);
  const db = join(b.dir, 'trace.db');
  const out = join(b.dir, 'trace.out');
  let events = 0;
  const [a, floor] = paired(
    sizes.rounds,
    [
      {
        setup: () => rmDb(db),
        run: () => {
          const s = b.one(b.cli(db, 'ingest', '--kind', 'trace', '--json', dir), out);
          events = appended(out);
          return s;
        },
      },
      { run: () => b.one(b.floor('trace-floor.mjs', dir)) },
    ],
    c.log,
  );
  rmDb(db);
  const r = row(`trace-${sizes.traces}`, `trace ingest, ${sizes.traces} traces (${(Number(mb) / 1e6).toFixed(0)} MB)`, 'read+split+JSON.parse', a, floor);
  r.goal = '<=1.3x CPU';
  check(r, `CPU ${r.ratio!.cpuPaired.toFixed(2)}x <= 1.3x`, r.ratio!.cpuPaired <= 1.3);
  r.notes.push(`${events} events`);
  return [r];
}

/**
 * The read commands on a big database, each beside a plain `show` of the same profile, all
 * alternating in each round (show, why, diff, ...); replay's events a CPU second.
 */
export function readRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const db = builtDb(c, 'big', sizes.readLines);
  const sql = new Database(db, { readonly: true });
  const max = (sql.prepare('select max(position) n from events').get() as { n: number }).n;
  const total = (sql.prepare('select count(*) n from events').get() as { n: number }).n;
  sql.close();
  const mid = String(Math.floor(max / 2));
  const job = ['--job', 'train-0'];
  const report = join(b.dir, 'report.html');
  const replayOut = join(b.dir, 'replay.out');
  c.log(`reads: ${total} events (${human(sizes.readLines)} lines, ${(total / 4).toFixed(0)} in train-0), --as-of ${mid}`);
  const cmds: Array<{ id: string; argv: string[]; goal?: number }> = [
    { id: 'show', argv: ['show', ...job] },
    { id: 'why', argv: ['why', ...job, '--source', "L['x']"], goal: 2 },
    { id: 'diff', argv: ['diff', ...job, '--from', mid, '--to', String(max)], goal: 2 },
    { id: 'show --as-of', argv: ['show', ...job, '--as-of', mid], goal: 2 },
    { id: 'history --as-of', argv: ['history', ...job, '--as-of', mid], goal: 2 },
    { id: 'report', argv: ['report', ...job, '-o', report], goal: 2 },
    { id: 'verify', argv: ['verify'] },
    { id: 'replay', argv: ['replay'] },
  ];
  let replayed = 0;
  const s = paired(
    sizes.rounds,
    cmds.map((k) => ({
      run: () => {
        const out = k.id === 'replay' ? replayOut : undefined;
        const r = b.one(b.cli(db, ...k.argv), out);
        if (out) replayed = Number(/replayed (\d+) events/.exec(readFileSync(out, 'utf8'))?.[1] ?? NaN);
        return r;
      },
    })),
    c.log,
  );
  const rows: Row[] = [];
  const base = row('read-show', `show, ${human(total)}-event db`, '(floor of the reads)', s[0], null);
  base.goal = 'floor';
  rows.push(base);
  cmds.slice(1).forEach((k, i) => {
    const r = row(`read-${k.id.replace(/ --/, '-')}`, `${k.id}, ${human(total)}-event db`, 'show', s[i + 1], s[0]);
    if (k.goal) {
      r.goal = `<=${k.goal}x CPU`;
      check(r, `CPU ${r.ratio!.cpuPaired.toFixed(2)}x <= ${k.goal}x`, r.ratio!.cpuPaired <= k.goal);
    } else r.goal = k.id === 'replay' ? '>=1M events/CPU-s' : 'reference';
    if (k.id === 'replay') {
      const rate = replayed / r.a.cpu.median;
      check(r, `${(rate / 1e6).toFixed(2)}M events/CPU-s >= 1M`, rate >= 1e6);
      // Whole process, as judged; and net of what a plain show costs (start-up, opening the db).
      const net = replayed / (r.a.cpu.median - r.b!.cpu.median);
      r.notes.push(`${replayed} events, ${(replayed / r.a.cpu.min / 1e6).toFixed(2)}M/CPU-s best, ${(replayed / r.a.wall.median / 1e6).toFixed(2)}M/wall-s median, ${(net / 1e6).toFixed(2)}M/CPU-s net of show`);
    }
    rows.push(r);
  });
  return rows;
}

/**
 * A fleet's profile: the 50k-code pickle (250,000 entries) imported into a new ledger, read
 * again (nothing new), then `show` and `replay` of it, each beside CPython loading the same pickle (whole process). No
 * goal of the issue: the scale at which per-entry costs show (session 30: `show` walked every
 * code id once an entry, and a checkpoint every 25,000 events cost the whole state each time).
 */
export function fleetRows(c: Ctx): Row[] {
  const { b, sizes } = c;
  const pkl = bigProfile(b.root, b.dir, sizes.profileCodes);
  const db = join(b.dir, 'fleet.db');
  const shown = join(b.dir, 'fleet-show.out');
  const replayOut = join(b.dir, 'fleet-replay.out');
  const whyOut = join(b.dir, 'fleet-why.out');
  c.log(`fleet: ${pkl} (${(statSync(pkl).size / 1e6).toFixed(1)} MB) into ${db}`);
  const python = ['env', `PYTHONPATH=${join(b.root, 'bench/floors/standin')}`, ...b.floor('pickle_load.py', pkl)];
  let events = 0;
  const s = paired(
    sizes.rounds,
    [
      { setup: () => rmDb(db), run: () => b.one(b.cli(db, 'ingest', '--job', 'fleet', pkl)) },
      // the pickle a run writes, read again with nothing new in it (a fleet's ingest after each run)
      { run: () => b.one(b.cli(db, 'ingest', '--job', 'fleet', pkl)) },
      { run: () => b.one(b.cli(db, 'show', '--job', 'fleet'), shown) },
      {
        run: () => {
          const r = b.one(b.cli(db, 'replay'), replayOut);
          events = Number(/replayed (\d+) events/.exec(readFileSync(replayOut, 'utf8'))?.[1] ?? NaN);
          return r;
        },
      },
      { run: () => b.one(python) },
      // one source of one code id (goal 1 asks why within 2x show's CPU): the code ids' names are generate.ts's
      { run: () => b.one(b.cli(db, 'why', '--job', 'fleet', '--code', `forward_${Math.floor(sizes.profileCodes / 2)}`, '--source', "L['x']"), whyOut) },
    ],
    c.log,
  );
  rmDb(db);
  const what = `${human(sizes.profileCodes)}-code profile`;
  const rows = [
    row('fleet-import', `ingest ${what} (pickle)`, 'CPython loads it', s[0], s[4]),
    row('fleet-reingest', `ingest it again (nothing new)`, 'CPython loads it', s[1], s[4]),
    row('fleet-show', `show ${what}`, 'CPython loads it', s[2], s[4]),
    row('fleet-replay', `replay ${what}`, 'CPython loads it', s[3], s[4]),
    row('fleet-why', `why --code --source of ${what}`, `show of it`, s[5], s[2]),
  ];
  for (const r of rows) r.goal = 'reference';
  rows[3].notes.push(`${events} events, ${(events / rows[3].a.cpu.median / 1e3).toFixed(0)}k events/CPU-s median`);
  return rows;
}
