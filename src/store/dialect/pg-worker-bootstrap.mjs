// Starts the TypeScript pg worker when pgo-ledger runs from its sources (tests, tsx): the
// bundled build (dist/) starts dist/pg-worker.mjs directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
await import('./pg-worker.ts');
