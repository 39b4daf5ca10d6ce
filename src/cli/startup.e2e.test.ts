import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { it } from 'node:test';
import { built, ROOT } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

/**
 * The source files a run of the built command line loaded: a loader hook logs every module
 * Node loads, and each bundle file's source map names the sources in it.
 */
function loadedSources(db: string, args: string[]): string[] {
  const log = join(dir, `loaded-${args[0]}.txt`);
  writeFileSync(log, '');
  const hooks = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  // CommonJS files (dist/cli/lazy-*.cjs, required on first use) are in require.cache at exit.
  const cjs = join(dir, 'cjs-log.cjs');
  writeFileSync(cjs, `process.on('exit', () => require('node:fs').appendFileSync(${JSON.stringify(log)}, Object.keys(require.cache).map((f) => require('node:url').pathToFileURL(f).href + '\\n').join('')));`);
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--require', cjs, '--import', `data:text/javascript,${encodeURIComponent(register)}`, built('dist/pgo-ledger.mjs'), '--db', db, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:') && u !== pathToFileURL(cjs).href)
    .map((u) => fileURLToPath(u));
  assert.ok(files.length > 1, 'the hook saw the bundle load');
  return files.flatMap((f) => (existsSync(`${f}.map`) ? (JSON.parse(readFileSync(`${f}.map`, 'utf8')) as { sources: string[] }).sources : [f]));
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

  // Control: the hook sees zod load to check the bad line; the new ledger is made from the
  // migrations' record (fresh-sqlite.ts), with no Kysely, Migrator or migration loaded.
  const ingest = heavy(loadedSources(db, ['ingest', '--skip-invalid', obs]));
  assert.ok(ingest.zod > 0, `ingest of an observation line that is not surely valid loads zod to check it: ${JSON.stringify(ingest)}`);
  assert.deepEqual({ kysely: ingest.kysely, migrator: ingest.migrator, migrations: ingest.migrations }, { kysely: 0, migrator: 0, migrations: 0 }, 'a new ledger is made from the record');

  const sources = loadedSources(db, ['show', '--job', 'j']);
  assert.ok(sources.some((s) => s.endsWith('src/store/database.ts')), 'the store was loaded (and seen)');
  assert.deepEqual(heavy(sources), { kysely: 0, migrator: 0, migrations: 0, ioredis: 0, cliProgress: 0, zod: 0, pako: 0 });
});

it('issue 10.5: though a named command is the only one defined, help lists them all and a misspelt command is still matched', () => {
  const db = join(dir, 'tiny.db');
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = (args: string[]) => spawnSync(process.execPath, [built('dist/pgo-ledger.mjs'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
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
