import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench, type Row } from './measure.ts';
import { postgresRows } from './postgres-rows.ts';
import { fleetRows, ingestRows, pickleRows, readRows, startupRows, traceRows, writerRows, type Ctx, type Sizes } from './rows.ts';

const HELP = `npm run bench -- [GROUP...] [--quick | --full] [--rounds N] [--dir D] [--out F]

Issue 10's speed goals, each measured whole process (the built CLI or a floor script, each a
child process; CPU from the kernel's rusage) beside its floor in the same run, alternating
A, B, A, B. Prints CPU and wall, min and median, and A/floor: of the minima, and the median
of the per-round (paired) ratios, which is what PASS/FAIL judges.

Groups (default: all): ingest writers pickle startup trace reads (reads covers why, diff,
show --as-of, history --as-of, report, verify and replay on a big database; alias: replay).
postgres (only when named): issue 11.7 on a local PostgreSQL server the bench starts (Debian's
postgresql package): ingest beside psql \\copy of the same lines, 8 writers beside one, replay.
fleet (only when named): a 50k-code profile (250,000 entries, the pickle group's) imported,
shown and replayed, each beside CPython loading the pickle (reference rows, no goal).
  --quick     tiny sizes: checks the harness runs, measures nothing worth quoting
  --full      the issue's sizes: ingest 1M and 5M lines, reads on a 5M-event database,
              200 traces (~130 MB); takes long: run it on an idle machine
  --rounds N  rounds of each pair (default 3; pickle 5 and startup 10 at least)
  --lines N[,N]  observation lines of the ingest rows (e.g. 1000000,5000000)
  --traces N  traces of the trace row
  --dir D     where generated inputs and databases are cached (default /tmp/pgo-bench)
  --out F     the results as JSON (default bench/results.json)`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GROUPS = ['ingest', 'writers', 'pickle', 'startup', 'trace', 'reads', 'fleet', 'postgres'] as const;
type Group = (typeof GROUPS)[number];

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const value = (f: string) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
if (flag('--help') || flag('-h')) {
  console.log(HELP);
  process.exit(0);
}
const die = (msg: string): never => {
  process.stderr.write(`bench: ${msg}\n\n${HELP}\n`);
  process.exit(2);
};
const valued = new Set(['--rounds', '--dir', '--out', '--lines', '--traces']);
const groups = new Set<Group>();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (valued.has(a)) i++;
  else if (a.startsWith('--')) {
    if (!['--quick', '--full'].includes(a)) die(`unknown option ${a}`);
  } else if (a === 'replay' || a === 'verify') groups.add('reads');
  else if ((GROUPS as readonly string[]).includes(a)) groups.add(a as Group);
  else die(`unknown group ${a}`);
}
// postgres starts a server and takes long, fleet takes long: only when named
if (!groups.size) for (const g of GROUPS) if (g !== 'postgres' && g !== 'fleet') groups.add(g);

const quick = flag('--quick');
const full = flag('--full');
const rounds = Math.max(quick ? 2 : 3, Number(value('--rounds') ?? 3));
const sizes: Sizes = quick
  ? { ingest: [20_000], writerLines: 5_000, traces: 4, readLines: 20_000, profileCodes: 2_000, rounds, pickleRounds: rounds, pickleMs: 100, startupRounds: Math.max(rounds, 4) }
  : full
    ? { ingest: [1_000_000, 5_000_000], writerLines: 500_000, traces: 200, readLines: 5_000_000, profileCodes: 50_000, rounds, pickleRounds: Math.max(rounds, 5), pickleMs: 1000, startupRounds: Math.max(rounds, 10) }
    : { ingest: [1_000_000], writerLines: 250_000, traces: 40, readLines: 1_000_000, profileCodes: 50_000, rounds, pickleRounds: Math.max(rounds, 5), pickleMs: 1000, startupRounds: Math.max(rounds, 10) };
if (!Number.isSafeInteger(rounds)) die('bad --rounds');
if (value('--lines')) sizes.ingest = value('--lines')!.split(',').map(Number);
if (value('--traces')) sizes.traces = Number(value('--traces'));
if (sizes.ingest.some((n) => !Number.isSafeInteger(n) || n <= 0) || !Number.isSafeInteger(sizes.traces) || sizes.traces <= 0) die('bad --lines or --traces');
const dir = resolve(value('--dir') ?? '/tmp/pgo-bench');
const outFile = resolve(value('--out') ?? join(root, 'bench/results.json'));
mkdirSync(dir, { recursive: true });

const build = createHash('sha1')
  .update(readFileSync(join(root, 'dist/pgo-ledger.cjs')))
  .digest('hex')
  .slice(0, 12);
const sh = (cmd: string, a: string[]) => {
  try {
    return execFileSync(cmd, a, { encoding: 'utf8', cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
};
const env = {
  date: new Date().toISOString(),
  commit: sh('git', ['rev-parse', '--short', 'HEAD']) + (sh('git', ['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : ''),
  node: process.version,
  python: sh('python3', ['--version']),
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  loadavgStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  mode: quick ? 'quick' : full ? 'full' : 'default',
  build,
};
const log = (s: string) => process.stderr.write(`  ${s}\n`);
console.log(`pgo-ledger bench ${env.date}, ${env.commit}, node ${env.node}, ${env.python}, ${env.cpus}, load ${env.loadavgStart}, ${env.mode} sizes`);

const ctx: Ctx = { b: new Bench(root, dir), sizes, build, log };
const RUN: Record<Group, (c: Ctx) => Row[]> = { ingest: ingestRows, writers: writerRows, pickle: pickleRows, startup: startupRows, trace: traceRows, reads: readRows, fleet: fleetRows, postgres: postgresRows };
const rows: Row[] = [];
const failures: string[] = [];
for (const g of GROUPS) {
  if (!groups.has(g)) continue;
  process.stderr.write(`${g}\n`);
  try {
    rows.push(...RUN[g](ctx));
  } catch (e) {
    failures.push(`${g}: ${(e as Error).message}`);
    process.stderr.write(`${g} FAILED: ${(e as Error).message}\n`);
  }
}

// One line a row. Times in seconds: min/median; ratios A/floor: of the minima / paired median.
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const mm = (s: { min: number; median: number }) => (Number.isNaN(s.min) ? '-' : `${f(s.min)}/${f(s.median)}`);
const table = [
  ['row', 'measures', 'A CPU s', 'A wall s', 'floor', 'floor CPU s', 'floor wall s', 'CPU A/floor', 'wall A/floor', 'goal', 'verdict', 'notes'],
  ...rows.map((r) => [
    r.id,
    r.what,
    mm(r.a.cpu),
    mm(r.a.wall),
    r.floor,
    r.b ? mm(r.b.cpu) : '-',
    r.b ? mm(r.b.wall) : '-',
    r.ratio ? `${r.ratio.cpuMin.toFixed(2)}/${r.ratio.cpuPaired.toFixed(2)}x` : '-',
    r.ratio && !Number.isNaN(r.ratio.wallMin) ? `${r.ratio.wallMin.toFixed(2)}/${r.ratio.wallPaired.toFixed(2)}x` : '-',
    r.goal,
    r.checks.length ? (r.checks.every((c) => c.pass) ? 'PASS' : 'FAIL') : '-',
    [...r.checks.map((c) => `${c.pass ? '' : 'FAIL '}${c.what}`), ...(r.a.rssMB ? [`RSS ${f(r.a.rssMB.median)} MB`] : []), ...r.notes].join('; '),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((l) => l[i].length)));
console.log(`\nmin/median of ${rounds} rounds (pickle ${sizes.pickleRounds}, startup ${sizes.startupRounds}); A/floor = ratio of minima / median of paired per-round ratios (judged)`);
for (const l of table) console.log(l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
const loadEnd = loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`load ${env.loadavgStart} at start, ${loadEnd} at end; inputs and databases cached in ${dir}`);
for (const x of failures) console.log(`FAILED ${x}`);

writeFileSync(outFile, JSON.stringify({ ...env, loadavgEnd: loadEnd, sizes, rows, failures }, null, 1) + '\n');
console.log(`results: ${outFile}`);
if (failures.length) process.exitCode = 1;
