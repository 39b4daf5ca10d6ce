#!/usr/bin/env node
// The bundled command line (npm install builds it); from a checkout without dist/, the sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/pgo-ledger.mjs', import.meta.url));
if (existsSync(bundle)) {
  await import(bundle);
} else {
  await import('tsx/esm');
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
