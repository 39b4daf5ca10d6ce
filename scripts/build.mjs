// Bundles the library, the command line and the benchmark into dist/ with esbuild, so they
// run on plain Node without a TypeScript loader (tsx keeps function names by wrapping every
// closure, which costs a third of the pickle codec's speed), and emits the library's type
// declarations with tsc. Run by `npm install` (prepare) and first by `npm test`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', sourcemap: true };
await build({
  ...common,
  // One outdir: the library and the command line find observation-worker.mjs (built below)
  // and pg-worker.mjs (PostgreSQL's synchronous bridge) beside them.
  entryPoints: { index: 'src/index.ts', bench: 'bench/run.ts', 'pg-worker': 'src/store/dialect/pg-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
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
          // This module lands in a chunk in dist/cli/, or in dist/pgo-ledger.mjs.
          `const load = () => (m ??= createRequire(import.meta.url)(fileURLToPath(new URL(new URL('.', import.meta.url).pathname.endsWith('/cli/') ? '${file}' : 'cli/${file}', import.meta.url))));`,
          ...fns.map((k, i) => `const f${i} = (...a) => load().${k}(...a);`),
          `export { ${fns.map((k, i) => `f${i} as ${k}`).join(', ')} };`,
          `export default { ${fns.map((k, i) => `${k}: f${i}`).join(', ')} };`,
        ].join('\n'),
      };
    });
  },
};

// The command line bundles its dependencies too, split so each command loads only what it
// imports (start-up is most of a small command's cost: Node resolving and compiling hundreds
// of files of kysely, zod and ioredis).
rmSync('dist/cli', { recursive: true, force: true }); // chunks of an older build
await build({
  ...common,
  packages: undefined,
  plugins: [sqlitePlugin, lazyChildProcess, lazyModules],
  // synckit finds its own files at run time (PostgreSQL's bridge): kept a package
  external: ['synckit'],
  splitting: true,
  entryPoints: { 'pgo-ledger': 'src/cli/main.ts' },
  outdir: 'dist',
  chunkNames: 'cli/[name]-[hash]',
  minifySyntax: true,
  minifyWhitespace: true,
  outExtension: { '.js': '.mjs' },
  // A lazy module's function the sources call but lazyUses() did not find.
  logOverride: { 'import-is-undefined': 'error' },
  // CommonJS dependencies call require() for Node's modules; give the ESM bundle one.
  banner: { js: "import { createRequire as __pgoRequire } from 'node:module'; const require = __pgoRequire(import.meta.url);" },
});

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

// Declarations only (esbuild writes the code). Incremental, so a rebuild with no source
// change costs about a second.
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The sources import with .ts extensions, which tsc keeps in the declarations it emits; the
// entry point consumers resolve is this one file.
writeFileSync('dist/index.d.ts', "export * from './types/src/index.ts';\n");
