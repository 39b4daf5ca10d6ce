import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The bundle users run (npm test builds it first): starting it costs a fraction of tsx's
// transform of the sources on every call.
const BUNDLE = join(ROOT, 'dist', 'pgo-ledger.mjs');

let checked = false;
/** A bundle older than a source would test yesterday's code: refuse (run `npm run build`). */
function bundle(): string {
  if (checked) return BUNDLE;
  let built: number;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    throw new Error(`${BUNDLE} is missing: run \`npm run build\` (npm test does)`);
  }
  for (const dir of ['src', 'migrations']) {
    for (const f of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.ts') && !f.endsWith('.test.ts') && statSync(join(ROOT, dir, f)).mtimeMs > built) {
        throw new Error(`${BUNDLE} is older than ${dir}/${f}: run \`npm run build\` (npm test does)`);
      }
    }
  }
  checked = true;
  return BUNDLE;
}

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
