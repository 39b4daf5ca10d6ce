#!/usr/bin/env node
'use strict';
// The command line: the bundle npm install builds (dist/pgo-ledger.cjs), compiled with V8's
// code cache beside it; from a checkout without dist/, the sources through tsx.
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

// Node compiles its own modules with the code cache it ships, which V8 takes only under the
// flags Node was built with, so zlib (every ledger's checkpoints) and crypto (the MD5 of a
// trace's payloads) load before the V8 flag below is set: crypto took 5.5 ms of CPU to load
// after it, 1.9 before; a trace ingest 0.315 CPU-s against 0.321, `show` the same (medians).
require('node:zlib');
require('node:crypto');
// So do vm and module, which run() below compiles the bundle with, and the stream of stdout,
// which the command line opens first thing (a file's stream is a module of its own): 1.2 ms of
// CPU after the flag, 0.5 before (a 40-trace ingest into a file, ~0.29 CPU-s in all).
const vm = require('node:vm');
const { createRequire } = require('node:module');
void process.stdout;

// V8's interrupt budget, raised (see v8-flags.cjs). Set before any code is compiled: V8 takes a
// code cache only under the flags it was made with.
require('./v8-flags.cjs').raise();

const bundle = join(__dirname, '..', 'dist', 'pgo-ledger.cjs');
let source;
try {
  // ASCII (the build makes it so): read as Latin-1, the same text without UTF-8's decoding
  source = readFileSync(bundle, 'latin1');
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
if (source === undefined) {
  import('tsx/esm').then(() => import(require('node:url').pathToFileURL(join(__dirname, '..', 'src', 'cli', 'main.ts')).href));
} else {
  run(bundle, source);
}

/**
 * Runs the bundle as Node runs a CommonJS file, but compiled with its code cache
 * (dist/pgo-ledger.cjs.cache, which the build makes), so V8 neither parses it nor compiles
 * again what the cache holds. The cache starts with the id of the build it was made from
 * (the bundle's last line names its own); one of another build, one V8 refuses (another
 * Node, other V8 flags) or none is compiling as usual (--debug says why).
 * PGO_LEDGER_WRITE_CODE_CACHE=1 (the build's) writes the cache at exit: what it held and what
 * this run compiled.
 */
function run(file, text) {
  const debug = process.argv.includes('--debug') || !!process.env.PGO_LEDGER_DEBUG;
  const cacheFile = `${file}.cache`;
  const build = /pgo-ledger-build=([0-9a-f]{16})\n$/.exec(text.slice(-48))?.[1];
  let cachedData;
  try {
    const cache = readFileSync(cacheFile);
    if (build !== undefined && cache.toString('latin1', 0, build.length) === build) cachedData = cache.subarray(build.length);
    else if (debug) process.stderr.write(`pgo-ledger: the code cache ${cacheFile} is not of this build; compiling as it runs\n`);
  } catch {
    // no cache: compiled as it runs
  }
  // The bundle's text is the function Node would wrap a CommonJS file in (see scripts/build.mjs).
  const script = new vm.Script(text, { filename: file, cachedData });
  if (script.cachedDataRejected && debug) process.stderr.write(`pgo-ledger: V8 rejected the code cache ${cacheFile}; compiling as it runs\n`);
  if (build !== undefined && process.env.PGO_LEDGER_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(cacheFile, Buffer.concat([Buffer.from(build, 'latin1'), script.createCachedData()])));
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}
