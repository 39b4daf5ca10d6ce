import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, built } from './support/build.ts';
import { cli } from './support/cli.ts';
import { freshPgDatabase } from './support/postgres.ts';

// What a command on PostgreSQL loads before its first statement is on its critical path (and
// each of a fleet's writers pays it): the store's thread needs no pg (the bridge's worker owns
// the clients), and the worker needs Kysely only to migrate.

it('issue 11.7: the library reads a PostgreSQL ledger without loading pg on its own thread (the bridge worker owns it)', () => {
  const url = freshPgDatabase();
  assert.equal(cli(url, ['ingest', '-'], '').status, 0); // migrated: the read below only opens it
  const script = `import { createRequire } from 'node:module';
const { openLedger } = await import(${JSON.stringify(pathToFileURL(built('dist/index.mjs')).href)});
const l = await openLedger(${JSON.stringify(url)});
const n = l.profiles().length;
await l.close();
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(k));
console.log(JSON.stringify({ n, loaded }));`;
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { n: 0, loaded: [] });
});

it('issue 11.7: the built PostgreSQL worker imports Kysely only in the chunks that migrate', () => {
  const worker = readFileSync(built('dist/pg-worker.mjs'), 'utf8');
  assert.doesNotMatch(worker, /^import\b[^;]*\bfrom\s*["']kysely["']/m);
  assert.match(worker, /\bimport\(\s*["']kysely["']\s*\)/);
  // the migrations are chunks beside it, which a fresh database's migration loads
  const chunks = readdirSync(join(ROOT, 'dist/pg-worker-chunks')).filter((f) => f.endsWith('.mjs'));
  assert.ok(chunks.some((f) => f.startsWith('2026-11-26T00-00-initial')), chunks.join(', '));
  const url = freshPgDatabase();
  const r = cli(url, ['ingest', '-'], '');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cli(url, ['jobs', '--json']).status, 0);
});
