import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured run: CPU seconds (user + sys, every thread and reaped child), wall seconds, peak RSS. */
export interface Sample {
  cpu: number;
  wall: number;
  rssMB?: number;
  /** Whatever else the run reports (events appended, per-writer figures, ...). */
  extra?: Record<string, unknown>;
}

export interface Proc {
  argv: string[];
  stdout?: string;
  stderr?: string;
  env?: Record<string, string>;
}

export interface ProcResult {
  rc: number;
  user: number;
  sys: number;
  cpu: number;
  wall: number;
  rssMB: number;
}

export class Bench {
  constructor(
    readonly root: string,
    readonly dir: string,
  ) {}

  /** The built command line, as a user runs it (the package's bin). */
  cli(db: string, ...args: string[]): string[] {
    return [process.execPath, join(this.root, 'bin/pgo-ledger.cjs'), '--db', db, ...args];
  }

  floor(script: string, ...args: string[]): string[] {
    return script.endsWith('.py') ? ['python3', join(this.root, 'bench/floors', script), ...args] : [process.execPath, join(this.root, 'bench/floors', script), ...args];
  }

  /**
   * Runs the processes at once under bench/floors/rusage.py, which reads each one's CPU time
   * and peak RSS from the kernel (wait4) and times it from fork to exit. A non-zero exit
   * fails the benchmark with the process's stderr.
   */
  run(procs: Proc[]): { procs: ProcResult[]; wall: number } {
    const withErr = procs.map((p, i) => ({ ...p, stderr: p.stderr ?? join(this.dir, `stderr-${i}.txt`) }));
    const out = execFileSync('python3', [join(this.root, 'bench/floors/rusage.py'), JSON.stringify({ procs: withErr })], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out) as { procs: ProcResult[]; wall: number };
    r.procs.forEach((p, i) => {
      if (p.rc !== 0) {
        let err = '';
        try {
          err = readFileSync(withErr[i].stderr, 'utf8').slice(-2000);
        } catch {}
        throw new Error(`benchmark: ${withErr[i].argv.join(' ')} exited ${p.rc}\n${err}`);
      }
    });
    return r;
  }

  /** One process, whole: its CPU, wall and peak RSS. */
  one(argv: string[], stdout?: string): Sample {
    const r = this.run([{ argv, stdout }]);
    const p = r.procs[0];
    return { cpu: p.cpu, wall: p.wall, rssMB: p.rssMB };
  }
}

/**
 * Paired rounds: A, B, (C ...), A, B, ... `rounds` times, each variant's setup (outside the
 * timing) right before its run, so drift in the machine's load falls on every variant alike.
 */
export function paired(rounds: number, variants: Array<{ setup?: () => void; run: () => Sample }>, log?: (s: string) => void): Sample[][] {
  const out: Sample[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    variants.forEach((v, i) => {
      v.setup?.();
      out[i].push(v.run());
    });
    log?.(`round ${r + 1}/${rounds}: ${out.map((s) => `${s[r].cpu.toFixed(3)}/${s[r].wall.toFixed(3)}`).join('  ')} (CPU/wall s)`);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const min = (xs: number[]) => Math.min(...xs);

export interface Stat {
  min: number;
  median: number;
}
export const stat = (xs: number[]): Stat => ({ min: min(xs), median: median(xs) });

/** A row of the table: A beside its floor B, from paired rounds. */
export interface Row {
  id: string;
  what: string;
  floor: string;
  rounds: number;
  a: { cpu: Stat; wall: Stat; rssMB?: Stat };
  b: { cpu: Stat; wall: Stat; rssMB?: Stat } | null;
  /** A/B: of the minima, and the median of the per-round (paired) ratios. */
  ratio: { cpuMin: number; cpuPaired: number; wallMin: number; wallPaired: number } | null;
  goal: string;
  /** Each check the goal makes, with its verdict; none for a reference row. */
  checks: Array<{ what: string; pass: boolean }>;
  notes: string[];
  samples: { a: Sample[]; b: Sample[] | null };
}

export function row(id: string, what: string, floor: string, a: Sample[], b: Sample[] | null): Row {
  const side = (s: Sample[]) => ({
    cpu: stat(s.map((x) => x.cpu)),
    wall: stat(s.map((x) => x.wall)),
    ...(s.every((x) => x.rssMB !== undefined) ? { rssMB: stat(s.map((x) => x.rssMB!)) } : {}),
  });
  const A = side(a);
  const B = b ? side(b) : null;
  const ratio =
    b && B
      ? {
          cpuMin: A.cpu.min / B.cpu.min,
          cpuPaired: median(a.map((x, i) => x.cpu / b[i].cpu)),
          wallMin: A.wall.min / B.wall.min,
          wallPaired: median(a.map((x, i) => x.wall / b[i].wall)),
        }
      : null;
  return { id, what, floor, rounds: a.length, a: A, b: B, ratio, goal: '', checks: [], notes: [], samples: { a, b } };
}
