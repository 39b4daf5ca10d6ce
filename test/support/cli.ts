import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ROOT, built } from './build.ts';

// The bundle users run (npm test builds it first): starting it costs a fraction of tsx's
// transform of the sources on every call.
const bundle = () => built('dist/pgo-ledger.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command line (the built bundle) in a child process. */
export function cli(db: string, args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [bundle(), '--db', db, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliSpawn(db: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [bundle(), '--db', db, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}
