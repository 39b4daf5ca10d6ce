import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let newestSource: { file: string; mtime: number } | undefined;
function newest(): { file: string; mtime: number } {
  if (newestSource) return newestSource;
  newestSource = { file: '', mtime: 0 };
  for (const dir of ['src', 'migrations']) {
    for (const f of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const mtime = statSync(join(ROOT, dir, f)).mtimeMs;
      if (mtime > newestSource.mtime) newestSource = { file: `${dir}/${f}`, mtime };
    }
  }
  return newestSource;
}

/**
 * The path of a file `npm run build` makes (npm test builds first). Refuses one that is
 * missing or older than a source: a lone test file must not test yesterday's build.
 */
export function built(rel: string): string {
  const path = join(ROOT, rel);
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    throw new Error(`${rel} is missing: run \`npm run build\` (npm test does)`);
  }
  const src = newest();
  if (src.mtime > mtime) throw new Error(`${rel} is older than ${src.file}: run \`npm run build\` (npm test does)`);
  return path;
}

/** The package's bin, which runs the built command line (dist/pgo-ledger.cjs, refused as `built` refuses it). */
export function builtCli(): string {
  built('dist/pgo-ledger.cjs');
  return join(ROOT, 'bin/pgo-ledger.cjs');
}
