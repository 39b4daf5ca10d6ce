// Bundles the command line and the benchmark into dist/ with esbuild, so they run on plain
// Node without a TypeScript loader (tsx keeps function names by wrapping every closure,
// which costs a third of the pickle codec's speed). Run by `npm install` (prepare).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: true };
await build({ ...common, entryPoints: { 'pgo-ledger': 'src/cli/main.ts', bench: 'bench/run.ts', 'observation-worker': 'src/adapters/observation-worker.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } });
