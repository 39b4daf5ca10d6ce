import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPickle } from './pickle.ts';
import { benchStore } from './store.ts';

// `npm run bench [pickle|store] [observations]`: speed goals are checked here, not in tests.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'pickle') benchPickle(join(root, 'test/fixtures/oracle/big-canonical-dev/big-7-4.pkl'));
if (which === 'all' || which === 'store') await benchStore(Number(process.argv[3] ?? 1_000_000));
