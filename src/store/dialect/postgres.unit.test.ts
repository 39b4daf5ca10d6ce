import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDatabaseFailure, LedgerError } from '../../errors.ts';
import { pgError } from './postgres.ts';

describe('PostgreSQL failures as the store tells them', () => {
  it('a socket error with its errno code (write ECONNRESET: the server went away mid-COPY) is a lost connection naming the server, as node-postgres\'s words without a code are (it was passed on bare: a flaky trial 14.2)', () => {
    for (const e of [{ message: 'write ECONNRESET', code: 'ECONNRESET' }, { message: 'write EPIPE', code: 'EPIPE' }, { message: 'Connection terminated unexpectedly' }, { message: 'terminating connection due to administrator command', code: '57P01' }]) {
      const err = pgError('postgres://u:***@h:5432/db', e);
      assert.ok(err instanceof LedgerError, e.message);
      assert.equal(err.kind, 'input');
      assert.match(err.message, /^postgres:\/\/u:\*\*\*@h:5432\/db: the connection to the server was lost \(/);
      assert.ok(isDatabaseFailure(err), 'a many-input command stops at it');
    }
  });

  it('trial s31: a call failed because the server stopped answering (the worker\'s probe got no answer either) is an input error naming the server, and stops a many-input command', () => {
    const err = pgError('postgres://u:***@h:5432/db', { message: 'no answer within 10 s, and a new connection got none within 3 s', code: 'PGO_STALLED' });
    assert.ok(err instanceof LedgerError);
    assert.equal(err.kind, 'input');
    assert.match(err.message, /^postgres:\/\/u:\*\*\*@h:5432\/db: the server stopped answering: no answer within 10 s, and a new connection got none within 3 s \(its connections are closed: the server rolls back what they had not committed\)$/);
    assert.ok(isDatabaseFailure(err));
  });

  it('a statement\'s own failure stays as it is (not a lost server)', () => {
    const err = pgError('postgres://u:***@h:5432/db', { message: 'duplicate key value violates unique constraint', code: '23505' });
    assert.ok(!(err instanceof LedgerError));
    assert.equal((err as Error & { code?: string }).code, '23505');
  });
});
