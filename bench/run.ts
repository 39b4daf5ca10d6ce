import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPickle } from './pickle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'pickle') benchPickle(join(root, 'test/fixtures/oracle/big-canonical-dev/big-7-4.pkl'));
