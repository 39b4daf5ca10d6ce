import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ROOT, builtCli } from './build.ts';

// The command line users run: the package's bin, which runs the bundle (npm test builds it
// first; starting it costs a fraction of tsx's transform of the sources on every call).
const bundle = builtCli;

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

export interface CliOptions {
  input?: string;
  /** Run as this user (the tests run as root, to whom a read-only file is not read-only). */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
}

/** `cli` with a user, an environment or input of its own. */
export function cliAs(db: string, args: string[], o: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [bundle(), '--db', db, ...args], { cwd: ROOT, input: o.input, encoding: 'utf8', timeout: 120_000, uid: o.uid, gid: o.gid, env: o.env ?? process.env });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `cliSpawn` with spawn options and Node options before the bundle. */
export function cliSpawnWith(db: string, args: string[], o: SpawnOptions & { nodeArgs?: string[] } = {}): ChildProcess {
  const { nodeArgs = [], ...rest } = o;
  return spawn(process.execPath, [...nodeArgs, bundle(), '--db', db, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...rest });
}

/**
 * Node options that hold a process before it loads the command line until `go` exists: a
 * start line, so that processes spawned one by one reach their first step together.
 */
export function startLine(go: string): string[] {
  const code = `import { existsSync } from 'node:fs'; const t = new Int32Array(new SharedArrayBuffer(4)); while (!existsSync(${JSON.stringify(go)})) Atomics.wait(t, 0, 0, 2);`;
  return ['--import', `data:text/javascript,${encodeURIComponent(code)}`];
}

/**
 * Command lines that start together (races: writers, openers, publishers): each waits at the
 * start line `go` (after `waitMs`, when every process must be up first), then all go at once;
 * each one's exit status and output.
 */
export async function cliTogether(runs: readonly { db: string; args: string[] }[], go: string, o: { waitMs?: number } = {}): Promise<CliResult[]> {
  const done = runs.map(
    ({ db, args }) =>
      new Promise<CliResult>((resolve) => {
        const c = cliSpawnWith(db, args, { nodeArgs: startLine(go) });
        let stdout = '';
        let stderr = '';
        c.stdout!.on('data', (d) => (stdout += d));
        c.stderr!.on('data', (d) => (stderr += d));
        c.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
      }),
  );
  if (o.waitMs) await new Promise((r) => setTimeout(r, o.waitMs));
  writeFileSync(go, '');
  return Promise.all(done);
}
