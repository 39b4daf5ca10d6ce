import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixture } from '../test/support/fixtures.ts';
import { tempDir } from '../test/support/tmp.ts';
import { ingestFile } from './adapters/ingest-file.ts';
import { MegaCacheError } from './codecs/megacache.ts';
import { PickleError } from './codecs/pickle/index.ts';
import { classify, fullMessage, LedgerError, withContext } from './errors.ts';
import { parseCacheKey } from './model/cache-key.ts';
import { openLedger } from './store/ledger.ts';

const dir = tempDir();

describe('issue 9.17: one error type that keeps its cause', () => {
  it('issue 9.17: a pickle error wrapped by ingest keeps its cause, and its byte offset reaches the message', async () => {
    const bad = Buffer.from(fixture('torch-2.11/protocols/code_state_p4.pkl'));
    bad[11] = 0xff;
    const file = join(dir, 'bad.pkl');
    writeFileSync(file, bad);
    const l = await openLedger(join(dir, 'e.db'));
    await assert.rejects(ingestFile(l, file, { kind: 'pickle', defaults: { job: 'x' } }), (e: unknown) => {
      assert.ok(e instanceof LedgerError, String(e));
      assert.equal(e.kind, 'input');
      assert.ok(e.cause instanceof PickleError);
      assert.equal(e.cause.offset, 11);
      assert.match(fullMessage(e), /bad\.pkl: pickle: unknown opcode 0xff \(at byte 11\)$/);
      return true;
    });
    await l.close();
  });

  it("issue 9.17: the codecs' errors are LedgerErrors of kind input; a wrapped bug stays a bug", () => {
    assert.ok(new PickleError('x', 3) instanceof LedgerError);
    assert.ok(new MegaCacheError('x', 3) instanceof LedgerError);
    assert.throws(() => parseCacheKey('nope'), (e: unknown) => e instanceof LedgerError && classify(e) === 'input');
    const bug = withContext('x.pkl', new TypeError('cannot read properties of undefined'));
    assert.equal(bug.kind, 'bug');
    assert.ok(bug.cause instanceof TypeError);
    assert.equal(withContext('x.pkl', new PickleError('truncated', 7)).kind, 'input');
    assert.equal(fullMessage(withContext('a', withContext('b', new PickleError('truncated', 7)))), 'a: b: pickle: truncated (at byte 7)');
  });

  it("a file that is not there is said once: its cause kept, not said again (session 28's left-over: 'no such file or folder: ENOENT: no such file or directory, stat …')", async () => {
    const { ingestFile, openLedger } = await import('./index.ts');
    const { tempDir } = await import('../test/support/tmp.ts');
    const { join } = await import('node:path');
    const dir = tempDir();
    const l = await openLedger(join(dir, 'l.db'));
    const missing = join(dir, 'nope.log');
    await assert.rejects(ingestFile(l, missing), (e: unknown) => {
      assert.ok(e instanceof LedgerError);
      assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT', 'the cause is kept');
      assert.equal(fullMessage(e), `${missing}: no such file or folder`);
      return true;
    });
    await l.close();
  });
});
