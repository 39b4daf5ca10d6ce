// A running watch following observation lines a job appends to (session 24): a file of
// --lines lines of the mix, then --passes appends of --grow lines, each waited for (its events
// in) before the next. Prints one JSON line: the watch process's CPU (user + sys, all its
// threads, from /proc/PID/stat) for the first read and for the growth passes, and the whole
// process's from /usr/bin/time. Not a row of run.ts: run it once per build to pair them, e.g.
//   for i in 1 2 3; do for root in /base /branch; do node --import tsx bench/watch-grow.ts --root $root; done; done
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mixFile } from './generate.ts';

const { values: a } = parseArgs({ options: { root: { type: 'string' }, dir: { type: 'string', default: '/tmp/pgo-bench' }, lines: { type: 'string', default: '200000' }, grow: { type: 'string', default: '2000' }, passes: { type: 'string', default: '10' }, interval: { type: 'string', default: '0.1' } } });
const root = a.root ?? process.cwd();
const [lines, grow, passes] = [Number(a.lines), Number(a.grow), Number(a.passes)];
mkdirSync(a.dir, { recursive: true });
const base = mixFile(a.dir, 0, lines);
const pieces = Array.from({ length: passes }, (_, k) => readFileSync(mixFile(a.dir, lines + k * grow, grow)));
const work = mkdtempSync(join(a.dir, 'watch-grow-'));
mkdirSync(join(work, 'obs'));
const file = join(work, 'obs', 'obs.jsonl');
copyFileSync(base, file);

const proc = spawn('/usr/bin/time', ['-f', '%U %S %e', process.execPath, join(root, 'bin', 'pgo-ledger.cjs'), '--db', join(work, 'l.db'), 'watch', join(work, 'obs'), '--interval', a.interval, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
let appended = 0;
let rest = '';
let stderr = '';
proc.stdout.on('data', (b: Buffer) => {
  const parts = (rest += b.toString('utf8')).split('\n');
  rest = parts.pop()!;
  for (const p of parts) {
    const j = JSON.parse(p);
    if (j.report === 'input') appended += j.appended;
  }
});
proc.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(n: number): Promise<void> {
  const end = Date.now() + 600_000;
  while (appended < n) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`watch: ${appended} of ${n} events; ${stderr}`);
    await sleep(10);
  }
}
/** CPU-seconds of the node process under /usr/bin/time (user + sys, its threads included). */
function cpu(): number {
  const node = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
  const f = readFileSync(`/proc/${node}/stat`, 'utf8').split(') ')[1].split(' ');
  // fields 14 and 15 (utime, stime), in clock ticks of 1/100 s
  return (Number(f[11]) + Number(f[12])) / 100;
}

await until(lines);
const first = cpu();
for (let k = 0; k < passes; k++) {
  appendFileSync(file, pieces[k]);
  await until(lines + (k + 1) * grow);
}
const grown = cpu() - first;
// the watch itself is stopped (/usr/bin/time then reports it)
const node = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
process.kill(node, 'SIGTERM');
await new Promise((r) => proc.once('exit', r));
const [u, s, e] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
console.log(JSON.stringify({ root, lines, grow, passes, appended, firstReadCpu: first, growPassesCpu: Number(grown.toFixed(2)), wholeProcess: { user: u, sys: s, cpu: Number((u + s).toFixed(2)), wall: e } }));
rmSync(work, { recursive: true });
