import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { Script } from 'node:vm';
import { built, ROOT } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The package's bin with PGO_LEDGER_DEBUG set (which says when V8 refuses the code cache). */
function version(root: string): { status: number | null; stdout: string; stderr: string } {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return spawnSync(process.execPath, [join(root, 'bin/pgo-ledger.cjs'), '--version'], { cwd: root, env: { ...env, PGO_LEDGER_DEBUG: '1' }, encoding: 'utf8', timeout: 120_000 });
}

/** A copy of the bin and the bundle, with `cache` as the bundle's code cache (none: null). */
function copy(cache: Buffer | null): string {
  const root = tempDir();
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'));
  for (const f of ['bin/pgo-ledger.cjs', 'bin/v8-flags.cjs']) copyFileSync(join(ROOT, f), join(root, f));
  copyFileSync(built('dist/pgo-ledger.cjs'), join(root, 'dist/pgo-ledger.cjs'));
  if (cache) writeFileSync(join(root, 'dist/pgo-ledger.cjs.cache'), cache);
  return root;
}

it('the command line compiles with the code cache the build made: V8 takes it (it was made under the flags the bin sets)', () => {
  built('dist/pgo-ledger.cjs.cache');
  const r = version(ROOT);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
  assert.doesNotMatch(r.stderr, /code cache/);
});

it('a code cache of another build, one V8 refuses, or none, is compiling as usual, with the same answers', () => {
  const cache = readFileSync(built('dist/pgo-ledger.cjs.cache'));
  const build = cache.subarray(0, 16);
  // Another build's cache: even where V8 would take it (the same length of source), it is not used.
  const other = version(copy(Buffer.concat([Buffer.from('0123456789abcdef'), cache.subarray(16)])));
  assert.equal(other.status, 0, other.stderr);
  assert.equal(other.stdout.trim(), VERSION);
  assert.match(other.stderr, /the code cache .*pgo-ledger\.cjs\.cache is not of this build; compiling as it runs/);
  const refused = version(copy(Buffer.concat([build, Buffer.from('not a code cache of this bundle')])));
  assert.equal(refused.status, 0, refused.stderr);
  assert.equal(refused.stdout.trim(), VERSION);
  assert.match(refused.stderr, /V8 rejected the code cache .*pgo-ledger\.cjs\.cache; compiling as it runs/);
  const none = version(copy(null));
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout.trim(), VERSION);
  assert.equal(none.stderr, '');
});

it('the bundle is ASCII, which the bin reads as Latin-1: text the sources write in other characters comes out as written', () => {
  const bytes = readFileSync(built('dist/pgo-ledger.cjs'));
  assert.equal(bytes.findIndex((b) => b > 0x7f), -1, 'a byte past ASCII in the bundle');
  // the refusal of a named pipe quotes `… | pgo-ledger ingest -`, an ellipsis in the sources
  const dir = tempDir();
  const fifo = join(dir, 'a-pipe');
  spawnSync('mkfifo', [fifo]);
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pgo-ledger.cjs'), '--db', join(dir, 'l.db'), 'ingest', fifo], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /give a pipe as stdin \(`\u2026 \| pgo-ledger ingest -`\)/);
});

it("the bundle's text is the function Node wraps a CommonJS file in, strict as the modules it is made of, and runs as a file too", () => {
  const fn: unknown = new Script(readFileSync(built('dist/pgo-ledger.cjs'), 'utf8')).runInThisContext();
  assert.equal(typeof fn, 'function');
  assert.equal((fn as (...a: unknown[]) => void).length, 5, '(exports, require, module, __filename, __dirname)');
  // A strict function's caller is not there to read.
  assert.throws(() => (fn as { caller: unknown }).caller, TypeError);
  // Run as a file by Node (no bin), it runs the command line.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [built('dist/pgo-ledger.cjs'), '--version'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
});
