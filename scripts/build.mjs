// Bundles the library, the command line and the benchmark into dist/ with esbuild, so they
// run on plain Node without a TypeScript loader (tsx keeps function names by wrapping every
// closure, which costs a third of the pickle codec's speed), and emits the library's type
// declarations with tsc. Run by `npm install` (prepare) and first by `npm test`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: true };
await build({
  ...common,
  // One outdir: the library and the command line find observation-worker.mjs beside them.
  entryPoints: { index: 'src/index.ts', 'pgo-ledger': 'src/cli/main.ts', bench: 'bench/run.ts', 'observation-worker': 'src/adapters/observation-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
});

// Declarations only (esbuild writes the code). Incremental, so a rebuild with no source
// change costs about a second.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The sources import with .ts extensions, which tsc keeps in the declarations it emits; the
// entry point consumers resolve is this one file.
writeFileSync('dist/index.d.ts', "export * from './types/src/index.ts';\n");
