// Starts a TypeScript worker when pgo-ledger runs from its sources (tests, tsx): the
// bundled build (dist/) starts its .mjs workers directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
