import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { CliResult } from './cli.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let bundle: string | undefined;

/**
 * The command line bundled as scripts/build.mjs bundles dist/pgo-ledger.mjs, into a folder of
 * this test process's own (test files run in parallel and must not rewrite one another's
 * bundle while it runs). It sits under the repository so that node_modules resolves.
 */
export function builtCli(): string {
  if (bundle) return bundle;
  const out = join(ROOT, 'test-output', `cli-${process.pid}`);
  buildSync({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    entryPoints: { 'pgo-ledger': join(ROOT, 'src/cli/main.ts'), 'observation-worker': join(ROOT, 'src/adapters/observation-worker.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
  });
  // not node:test's after(): called inside a test, it would run when that test ends
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  return (bundle = join(out, 'pgo-ledger.mjs'));
}

export interface BuiltOptions {
  input?: string;
  /** Run as this user (the tests run as root where a read-only file is not read-only to root). */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs the built command line in a child process. */
export function cliBuilt(db: string, args: string[], o: BuiltOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [builtCli(), '--db', db, ...args], { cwd: ROOT, input: o.input, encoding: 'utf8', timeout: 120_000, uid: o.uid, gid: o.gid, env: o.env ?? process.env });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliBuiltSpawn(db: string, args: string[], o: SpawnOptions & { nodeArgs?: string[] } = {}): ChildProcess {
  const { nodeArgs = [], ...rest } = o;
  return spawn(process.execPath, [...nodeArgs, builtCli(), '--db', db, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...rest });
}

/**
 * Node options that hold a process before it loads the command line until `go` exists: a
 * start line, so that processes spawned one by one reach their first step together.
 */
export function startLine(go: string): string[] {
  const code = `import { existsSync } from 'node:fs'; const t = new Int32Array(new SharedArrayBuffer(4)); while (!existsSync(${JSON.stringify(go)})) Atomics.wait(t, 0, 0, 2);`;
  return ['--import', `data:text/javascript,${encodeURIComponent(code)}`];
}
