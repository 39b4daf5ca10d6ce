// Bundles the library, the command line and the benchmark into dist/ with esbuild, so they
// run on plain Node without a TypeScript loader (tsx keeps function names by wrapping every
// closure, which costs a third of the pickle codec's speed), and emits the library's type
// declarations with tsc. Run by `npm install` (prepare) and first by `npm test`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
/** Where bin/pgo-ledger.cjs finds the command line's code cache. */
const CODE_CACHE = 'dist/pgo-ledger.cjs.cache';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: true };
await build({
  ...common,
  // One outdir: the library and the command line find observation-worker.mjs and
  // pg-worker.mjs (PostgreSQL's synchronous bridge, both built below) beside them.
  entryPoints: { index: 'src/index.ts', bench: 'bench/run.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
});
/**
 * The PostgreSQL worker in chunks: what it imports when it runs (Kysely and the migrations,
 * only to migrate) is a chunk of its own in dist/pg-worker-chunks/, loaded on that import.
 * One file would import Kysely at the worker's start (esbuild hoists a bundle's imports of
 * packages to its top), a quarter of the start of every command on PostgreSQL.
 */
rmSync('dist/pg-worker-chunks', { recursive: true, force: true }); // chunks of an older build
await build({
  ...common,
  entryPoints: { 'pg-worker': 'src/store/dialect/pg-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'pg-worker-chunks/[name]-[hash]',
});
/**
 * better-sqlite3's JavaScript goes into the command line's bundle too, and its addon is loaded
 * straight from where its install puts it: Node resolving its dozen CommonJS files and
 * `bindings` searching for the addon cost a tenth of a small command. The JavaScript must match
 * the installed addon, so when the installed better-sqlite3 is not the version bundled (the
 * package was built against another), the installed one is loaded as it is.
 */
const sqliteVersion = JSON.parse(readFileSync(require.resolve('better-sqlite3/package.json'), 'utf8')).version;
const sqlitePlugin = {
  name: 'better-sqlite3',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, (a) => (a.namespace === 'sqlite' ? undefined : { path: 'better-sqlite3', namespace: 'sqlite' }));
    b.onLoad({ filter: /.*/, namespace: 'sqlite' }, () => ({
      resolveDir: process.cwd(),
      loader: 'js',
      contents: `import { readFileSync } from 'node:fs';
import bundled from 'better-sqlite3';
const installed = JSON.parse(readFileSync(require.resolve('better-sqlite3/package.json'), 'utf8')).version;
export default installed === ${JSON.stringify(sqliteVersion)} ? bundled : require('better-sqlite3');`,
    }));
    b.onResolve({ filter: /^bindings$/ }, (a) => (/[\\/]better-sqlite3[\\/]/.test(a.importer) ? { path: 'bindings', namespace: 'sqlite-addon' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'sqlite-addon' }, () => ({
      loader: 'js',
      contents: `const { dirname, join } = require('node:path');
module.exports = (name) => {
  const root = dirname(require.resolve('better-sqlite3/package.json'));
  try {
    return require(join(root, 'build', 'Release', name));
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return require(require.resolve('bindings', { paths: [root] }))({ bindings: name, module_root: root });
  }
};`,
    }));
  },
};

/**
 * Commander requires child_process (and through it net and stream) at load, for executable
 * subcommands, which pgo-ledger has none of: it gets child_process on first use instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (a) => (/[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      loader: 'js',
      contents: "let cp; module.exports = new Proxy({}, { get: (_, k) => (cp ??= require('node:child_process'))[k] });",
    }));
  },
};

/**
 * zod and pako load when first called: a read that validates and inflates nothing (show on a
 * stored view) should not compile them, and ESM cannot load a module synchronously on first
 * use. Each is bundled, cut to the functions the sources call (`z.object`, `pako.inflate`:
 * found by reading the sources; a call to one not found fails the build), into a CommonJS file
 * of its own, dist/cli/lazy-NAME.cjs; the command line's import of it gets functions that
 * require that file on their first call.
 */
const LAZY = ['zod', 'pako'];
const lazyFile = (name) => `lazy-${name}.cjs`;
/** The functions the sources call (`x.fn(`, `x.fn<T>(`) on each lazy module, imported as `import * as x` or `import x`. */
function lazyUses() {
  const uses = Object.fromEntries(LAZY.map((m) => [m, new Set()]));
  for (const f of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    const text = readFileSync(`src/${f}`, 'utf8');
    for (const [, alias, m] of text.matchAll(/^import (?:\* as )?(\w+) from '([^']+)';/gm)) {
      if (!(m in uses)) continue;
      for (const [, fn] of text.matchAll(new RegExp(`\\b${alias}\\.([a-z]\\w*)(?:<[^;()]*>)?\\(`, 'g'))) uses[m].add(fn);
    }
  }
  return Object.fromEntries(Object.entries(uses).map(([m, s]) => [m, [...s].sort()]));
}
const lazy = lazyUses();
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    // Our sources' imports only: a dependency that imports one gets the whole module as it is.
    b.onResolve({ filter: new RegExp(`^(${LAZY.join('|')})$`) }, (a) => (/[\\/]node_modules[\\/]/.test(a.importer) ? undefined : { path: a.path, namespace: 'lazy-module' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (a) => {
      const fns = lazy[a.path];
      const file = lazyFile(a.path);
      return {
        loader: 'js',
        contents: [
          "import { createRequire } from 'node:module';",
          "import { fileURLToPath } from 'node:url';",
          'let m;',
          // This module lands in dist/pgo-ledger.cjs, or in a bundle in dist/cli/.
          `const load = () => (m ??= createRequire(import.meta.url)(fileURLToPath(new URL(new URL('.', import.meta.url).pathname.endsWith('/cli/') ? '${file}' : 'cli/${file}', import.meta.url))));`,
          ...fns.map((k, i) => `const f${i} = (...a) => load().${k}(...a);`),
          `export { ${fns.map((k, i) => `f${i} as ${k}`).join(', ')} };`,
          `export default { ${fns.map((k, i) => `${k}: f${i}`).join(', ')} };`,
        ].join('\n'),
      };
    });
  },
};

/**
 * The command line is one CommonJS bundle, dist/pgo-ledger.cjs, with its dependencies, which
 * bin/pgo-ledger.cjs compiles with V8's code cache (made below): start-up was most of a small
 * command's cost, and compiling the code was much of that, which Node 20 caches for no ES
 * module. A module that a command imports when it runs stays a function of the bundle that
 * runs on that import (esbuild wraps it), so a command still runs only what it imports.
 */
rmSync('dist/cli', { recursive: true, force: true }); // chunks of an older build
rmSync('dist/pgo-ledger.mjs', { force: true });
rmSync('dist/pgo-ledger.mjs.map', { force: true });
await build({
  ...common,
  packages: undefined,
  plugins: [sqlitePlugin, lazyChildProcess, lazyModules],
  // synckit finds its own files at run time (PostgreSQL's bridge): kept a package
  // (and better-sqlite3's package.json is resolved at run time, not bundled)
  external: ['synckit', 'better-sqlite3/package.json'],
  entryPoints: { 'pgo-ledger': 'src/cli/main.ts' },
  outdir: 'dist',
  format: 'cjs',
  minifySyntax: true,
  minifyWhitespace: true,
  charset: 'ascii',
  outExtension: { '.js': '.cjs' },
  // A vm.Script has no import(): every one becomes a require.
  supported: { 'dynamic-import': false },
  // A lazy module's function the sources call but lazyUses() did not find.
  logOverride: { 'import-is-undefined': 'error' },
  define: { 'import.meta.url': '__pgoImportMetaUrl' },
  // Written as the function Node wraps a CommonJS file's text in (Module.wrap), so that the
  // bin compiles the file's text as it is: wrapping it there copied 1.1 MB into the heap,
  // which then ended each command with a full collection (10 ms of a trace ingest's CPU).
  // The text's value is that function; run as a file by Node (no bin), it calls it. Strict,
  // as the ES modules it is made of are (the directive must come first).
  banner: {
    js: "((main) => (typeof module === 'object' && module !== null ? void main(exports, require, module, __filename, __dirname) : main))(function (exports, require, module, __filename, __dirname) { 'use strict'; const __pgoImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  footer: { js: '\n})' },
});
const bundle = readFileSync('dist/pgo-ledger.cjs', 'utf8');
if (/\bimport\(/.test(bundle)) throw new Error('dist/pgo-ledger.cjs holds an import(), which a vm.Script cannot run');
// bin/pgo-ledger.cjs reads it as Latin-1 (esbuild escapes what is not ASCII: charset 'ascii' above)
if (/[^\x00-\x7f]/.test(bundle)) throw new Error('dist/pgo-ledger.cjs holds a character that is not ASCII, which the bin would read wrong');
// The build's id, which the code cache is written under: V8 checks only that a cache's
// source has the same length, so a cache of another build could otherwise be taken.
writeFileSync('dist/pgo-ledger.cjs', `${bundle}//# pgo-ledger-build=${createHash('sha256').update(bundle).digest('hex').slice(0, 16)}\n`);

/**
 * The ingest worker gets zod and pako the command line's way (the lazy modules above, from
 * dist/cli/): it parses lines that the line check passes without zod and deflates nothing,
 * and loading both cost about 45 ms of CPU at each ingest's start.
 */
await build({
  ...common,
  plugins: [lazyModules],
  entryPoints: { 'observation-worker': 'src/adapters/observation-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
});

for (const name of LAZY) {
  await build({
    ...common,
    packages: undefined,
    stdin: { contents: `export { ${lazy[name].join(', ')} } from '${name}';`, resolveDir: process.cwd(), sourcefile: `lazy-${name}.js` },
    outfile: `dist/cli/${lazyFile(name)}`,
    format: 'cjs',
    minifySyntax: true,
    minifyWhitespace: true,
  });
}

/**
 * V8's code cache for the command line: the compiled code of what a few commands ran on the
 * fixtures (bin/pgo-ledger.cjs writes it at exit under PGO_LEDGER_WRITE_CODE_CACHE=1, each
 * run keeping what the cache held and adding what it compiled). Without the fixtures (an
 * unpacked tarball) there is none, and the command line compiles as it runs.
 */
rmSync(CODE_CACHE, { force: true });
const traces = 'test/fixtures/torch-2.11/traces';
if (existsSync(traces)) {
  const tmp = mkdtempSync(join(tmpdir(), 'pgo-ledger-cache-'));
  try {
    const obs = join(tmp, 'obs.jsonl');
    const line = (i) => JSON.stringify({ job: 'j', run: 'r', time: 1795600000 + i, code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [8 * (1 + (i % 3)), 4], stride: [4, 1] });
    writeFileSync(obs, Array.from({ length: 20 }, (_, i) => line(i)).join('\n') + '\n');
    const runs = [
      ['--db', join(tmp, 'a.db'), 'ingest', obs],
      ['--db', join(tmp, 'a.db'), 'show', '--job', 'j'],
      ['--db', join(tmp, 't.db'), 'ingest', '--kind', 'trace', traces],
    ];
    // Under no NODE_OPTIONS: V8 flags of the build's own (a heap size, say) would make a cache
    // that V8 refuses in every run without them.
    const { NODE_OPTIONS: _, ...env } = process.env;
    // What they say on stderr (a note about the fixtures) is not the build's: said only where a run fails.
    for (const args of runs) {
      try {
        execFileSync(process.execPath, ['bin/pgo-ledger.cjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, PGO_LEDGER_WRITE_CODE_CACHE: '1' } });
      } catch (e) {
        process.stderr.write(e.stderr ?? '');
        throw e;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Declarations only (esbuild writes the code). Incremental, so a rebuild with no source
// change costs about a second.
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The sources import with .ts extensions, which tsc keeps in the declarations it emits; the
// entry point consumers resolve is this one file.
writeFileSync('dist/index.d.ts', "export * from './types/src/index.ts';\n");
