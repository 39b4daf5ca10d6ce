import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { built, builtCli, ROOT } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
/** The name esbuild gives the function that runs a bundled module: its path (or a plugin's namespace and path). */
const MODULE = /^[\w.@:-]*[/:][^ ]*$/;

/**
 * The source files a run of the built command line ran. The bundle wraps each module that
 * loads on use in a function named by its source path (esbuild's `__esm` and `__commonJS`),
 * which V8's coverage (NODE_V8_COVERAGE) counts the calls of; files it requires
 * (dist/cli/lazy-*.cjs, on first use) are scripts of their own, whose source maps name the
 * sources in them.
 */
function loadedSources(db: string, args: string[]): string[] {
  const coverage = mkdtempSync(join(dir, `coverage-${args[0]}-`));
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [builtCli(), '--db', db, ...args], { cwd: ROOT, env: { ...env, NODE_V8_COVERAGE: coverage }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const bundle = built('dist/pgo-ledger.cjs');
  const out: string[] = [];
  for (const f of readdirSync(coverage)) {
    const { result } = JSON.parse(readFileSync(join(coverage, f), 'utf8')) as { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] };
    for (const script of result) {
      const path = script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url;
      if (path === bundle) out.push(...script.functions.filter((fn) => fn.ranges[0].count > 0 && MODULE.test(fn.functionName)).map((fn) => fn.functionName));
      else if (path.startsWith(join(ROOT, 'dist'))) out.push(...(existsSync(`${path}.map`) ? (JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sources: string[] }).sources : [path]));
    }
  }
  assert.ok(out.length > 1, 'coverage saw the bundle run');
  return out;
}

const heavy = (sources: string[]) => ({
  kysely: sources.filter((s) => /node_modules\/kysely\//.test(s)).length,
  migrator: sources.filter((s) => /kysely\/dist\/esm\/migration\//.test(s)).length,
  migrations: sources.filter((s) => /(^|\/)migrations\/2\d{3}-/.test(s)).length,
  ioredis: sources.filter((s) => /node_modules\/ioredis\//.test(s)).length,
  cliProgress: sources.filter((s) => /node_modules\/cli-progress\//.test(s)).length,
  zod: sources.filter((s) => /node_modules\/zod\//.test(s)).length,
  pako: sources.filter((s) => /node_modules\/pako\//.test(s)).length,
});

it('issue 10.5: show on a current database loads only what it uses: no Kysely (nor its Migrator or the migrations), zod, pako, ioredis or cli-progress', () => {
  const db = join(dir, 'tiny.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (i: number) => JSON.stringify({ job: 'j', code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8 * (i + 1), 4], stride: [4, 1] });
  // The last line is bad (a source that is no string): lines that are surely valid skip zod,
  // and zod loads only to word what is wrong with this one.
  writeFileSync(obs, [0, 1, 2].map(line).join('\n') + '\n' + line(3).replace('"L[\'x\']"', '7') + '\n');

  // Control: zod loads to check the bad line; the new ledger is made from the
  // migrations' record (fresh-sqlite.ts), with no Kysely, Migrator or migration loaded.
  const ingest = heavy(loadedSources(db, ['ingest', '--skip-invalid', obs]));
  assert.ok(ingest.zod > 0, `ingest of an observation line that is not surely valid loads zod to check it: ${JSON.stringify(ingest)}`);
  assert.deepEqual({ kysely: ingest.kysely, migrator: ingest.migrator, migrations: ingest.migrations }, { kysely: 0, migrator: 0, migrations: 0 }, 'a new ledger is made from the record');

  const sources = loadedSources(db, ['show', '--job', 'j']);
  assert.ok(sources.some((s) => s.endsWith('src/store/database.ts')), 'the store was loaded (and seen)');
  assert.deepEqual(heavy(sources), { kysely: 0, migrator: 0, migrations: 0, ioredis: 0, cliProgress: 0, zod: 0, pako: 0 });
});

it('issue 10.1: report loads none of the export codecs (pickle, mega-cache) and no child_process: it writes an HTML file', () => {
  const db = join(dir, 'report.db');
  const obs = join(dir, 'report.jsonl');
  writeFileSync(obs, JSON.stringify({ job: 'j', code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8, 4], stride: [4, 1] }) + '\n');
  assert.equal(spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', obs], { encoding: 'utf8' }).status, 0);
  const codecs = (sources: string[]) => sources.filter((s) => /src\/codecs\/(pickle|megacache)|src\/adapters\/export-profile/.test(s));
  // control: export loads them
  assert.ok(codecs(loadedSources(db, ['export', '--job', 'j', '--format', 'pickle', '-o', join(dir, 'report.pkl')])).length > 0, 'export loads the pickle codec');
  const sources = loadedSources(db, ['report', '--job', 'j', '-o', join(dir, 'report.html')]);
  assert.ok(sources.some((s) => s.endsWith('src/report/render-html.ts')), 'the report was rendered (and seen)');
  assert.deepEqual(codecs(sources), []);
  // (child_process is Node's: the process's module list says it, at its exit)
  const preload = join(dir, 'loaded.cjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write('\\nLOADED ' + process.moduleLoadList.includes('NativeModule child_process')));\n");
  const r = spawnSync(process.execPath, ['-r', preload, builtCli(), '--db', db, 'report', '--job', 'j', '-o', join(dir, 'report.html')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /LOADED false/);
});

it('issue 10.7: replay off a terminal loads no cli-progress (its bar draws only on one), and rebuilds the views all the same', () => {
  const db = join(dir, 'replay.db');
  const obs = join(dir, 'replay.jsonl');
  writeFileSync(obs, [8, 16].map((n) => JSON.stringify({ job: 'j', code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] })).join('\n') + '\n');
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const ingest = spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', obs], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(ingest.status, 0, ingest.stderr);
  const sources = loadedSources(db, ['replay']);
  assert.ok(sources.some((s) => s.endsWith('src/store/replay.ts')), 'replay ran (and was seen)');
  assert.equal(heavy(sources).cliProgress, 0, 'no cli-progress off a terminal');
  const show = spawnSync(process.execPath, [builtCli(), '--db', db, 'show', '--job', 'j'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /L\['x'\]: tensor size=\[\?, 4\]/);
});

it('issue 10.5: though a named command is the only one defined, help lists them all and a misspelt command is still matched', () => {
  const db = join(dir, 'tiny.db');
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = (args: string[]) => spawnSync(process.execPath, [builtCli(), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  const help = run(['--help']);
  assert.equal(help.status, 0, help.stderr);
  const listed = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
  assert.deepEqual(listed, ['ingest', 'jobs', 'show', 'history', 'why', 'diff', 'export', 'publish', 'pull', 'merge', 'retract', 'replay', 'verify', 'report', 'watch', 'stats', 'copy', 'help']);
  assert.match(run(['--db', db, '-h', 'show']).stdout, /^ {2}report /m, '-h before a command is the program help');
  const typo = run(['--db', db, 'shwo']);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown command 'shwo'\n\(Did you mean show\?\)/);
  const show = run(['--db', db, 'show', '--help']);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^Usage: pgo-ledger show \[options\]/);
});

it('trial 16: an unknown command is an error naming it (exit 2) with --help or -h after or before it, and after help', () => {
  // `switches --help` printed the program's help with exit 0; `help switches` printed it as an error naming nothing
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = (args: string[]) => spawnSync(process.execPath, [builtCli(), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  for (const args of [['switches', '--help'], ['switches', '-h'], ['--help', 'switches'], ['-h', 'switches'], ['help', 'switches'], ['--db', join(dir, 'x.db'), 'switches', 'show', '--help']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^error: unknown command 'switches'\n/, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  assert.match(run(['help', 'shwo']).stderr, /^error: unknown command 'shwo'\n\(Did you mean show\?\)/);
  // a known command's help stays as it was
  for (const args of [['help', 'show'], ['show', '-h']]) {
    const r = run(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^Usage: pgo-ledger show \[options\]/, args.join(' '));
  }
  assert.equal(run(['help']).status, 0);
});

it('trial 18: an unknown command is an error naming it (exit 2) with --version or -V after or before it: `frobnicate --version` printed the version, exit 0', () => {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = (args: string[]) => spawnSync(process.execPath, [builtCli(), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  for (const args of [['frobnicate', '--version'], ['frobnicate', '-V'], ['--version', 'frobnicate'], ['help', 'frobnicate', '-V']]) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^error: unknown command 'frobnicate'\n/, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  // the version alone, or after a known command, is still answered
  for (const args of [['--version'], ['-V'], ['show', '--version']]) {
    const r = run(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/, args.join(' '));
  }
});
