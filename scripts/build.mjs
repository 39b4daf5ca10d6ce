// Bundles the library, the command line and the benchmark into dist/ with esbuild, so they
// run on plain Node without a TypeScript loader (tsx keeps function names by wrapping every
// closure, which costs a third of the pickle codec's speed), and emits the library's type
// declarations with tsc. Run by `npm install` (prepare) and first by `npm test`.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: true };
await build({
  ...common,
  // One outdir: the library and the command line find observation-worker.mjs and
  // pg-worker.mjs (PostgreSQL's synchronous bridge) beside them.
  entryPoints: { index: 'src/index.ts', bench: 'bench/run.ts', 'observation-worker': 'src/adapters/observation-worker.ts', 'pg-worker': 'src/store/dialect/pg-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
});
// The command line bundles its pure-JS dependencies too, split so each command loads only
// what it imports (start-up is most of a small command's cost: Node resolving and compiling
// hundreds of files of kysely, zod and ioredis). better-sqlite3 is native and stays external.
rmSync('dist/cli', { recursive: true, force: true }); // chunks of an older build
await build({
  ...common,
  packages: undefined,
  // synckit finds its own files at run time (PostgreSQL's bridge): kept a package too
  external: ['better-sqlite3', 'synckit'],
  splitting: true,
  entryPoints: { 'pgo-ledger': 'src/cli/main.ts' },
  outdir: 'dist',
  chunkNames: 'cli/[name]-[hash]',
  minifySyntax: true,
  minifyWhitespace: true,
  outExtension: { '.js': '.mjs' },
  // CommonJS dependencies call require() for Node's modules; give the ESM bundle one.
  banner: { js: "import { createRequire as __pgoRequire } from 'node:module'; const require = __pgoRequire(import.meta.url);" },
});

// Declarations only (esbuild writes the code). Incremental, so a rebuild with no source
// change costs about a second.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The sources import with .ts extensions, which tsc keeps in the declarations it emits; the
// entry point consumers resolve is this one file.
writeFileSync('dist/index.d.ts', "export * from './types/src/index.ts';\n");
