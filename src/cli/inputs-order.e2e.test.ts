import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s32: `ingest eager-cold-run.bin cold-local.log` put the bundle's entries ahead of the
// log's records: history held each of the run's 11 records twice (the import's join, then
// PyTorch's), and `why` credited the bundle. A folder's logs were read before its other files
// already; a command line's profile files now come after its other inputs too.
const dir = tempDir();

describe("ingest's inputs: the profile files after the others", () => {
  it('a bundle and a pickle named before their run\'s log: the answers are the log\'s, as in a folder', () => {
    const log = join(TORCH, 'traces', 'cold-local.log');
    const bundle = join(TORCH, 'megacache', 'eager-cold-run.bin');
    const pickle = join(TORCH, 'local', 'code_state_fixture_None_.pkl');
    const alone = join(dir, 'log-alone.db');
    assert.equal(cli(alone, ['ingest', log]).status, 0);
    const db = join(dir, 'files-first.db');
    const r = cli(db, ['ingest', bundle, pickle, log]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stderr.includes(`pgo-ledger: note: the profile files among the inputs are read after the others (a log's records come before the file that holds their result): ${log}, ${bundle}, ${pickle}\n`), r.stderr);
    // each input's line in the order read
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(': ')[0]), [log, bundle, pickle]);
    for (const args of [['history', '--json'], ['why', '--json'], ['show']]) assert.equal(cli(db, args).stdout, cli(alone, args).stdout, args.join(' '));
    // logs, folders and observation lines keep the order given (a folder's own logs come first within it)
    const w2 = join(TORCH, 'workload2');
    const kept = cli(join(dir, 'kept.db'), ['ingest', join(w2, 'trace-rank0.log'), join(TORCH, 'traces'), join(w2, 'trace-rank1.log')]);
    assert.deepEqual(kept.stdout.trim().split('\n').map((l) => l.split(': ')[0]), [join(w2, 'trace-rank0.log'), join(TORCH, 'traces'), join(w2, 'trace-rank1.log')]);
    assert.doesNotMatch(kept.stderr, /read after/);
    // given in that order already: nothing said
    assert.doesNotMatch(cli(join(dir, 'in-order.db'), ['ingest', log, bundle]).stderr, /read after/);
  });
});
