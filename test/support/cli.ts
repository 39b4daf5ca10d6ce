import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command line (from the sources) in a child process. */
export function cli(db: string, args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--db', db, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliSpawn(db: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, '--db', db, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}
