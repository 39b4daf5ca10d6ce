import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { undoProfileSpans } from '../../test/support/undo-migrations.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { runsByProfile } from './profile-runs.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';

for (const dialect of DIALECTS) describe(dialect, () => {
  const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const ev = (key: string, i: number, run: string | null) => ({
    kind: 'shape.observed' as const, cacheKey: key, payload: { code, source: "L['x']", shape: { kind: 'tensor' as const, size: [2 + (i % 3), 4], stride: [4, 1] }, automatic_dynamic: true }, run, time: 1000 + i, idempotencyKey: `${key}${i}`,
  });
  /** Runs over two profiles, a run in both, a run coming back, events of no run, a duplicate batch. */
  function fill(l: Ledger): void {
    l.append([ev('a:None:', 1, 'r1'), ev('b:None:', 2, 'r2'), ev('a:None:', 3, null), ev('a:None:', 4, 'r2')]);
    l.append([ev('a:None:', 5, 'r1'), ev('b:None:', 6, 'r3'), ev('b:None:', 7, 'r2')]);
    l.append([ev('a:None:', 1, 'r1'), ev('b:None:', 8, 'r1')]);
  }
  const answers = (l: Ledger) => JSON.stringify([[...runsByProfile(l.sql)].map(([pid, runs]) => [l.profiles().find((p) => p.id === pid)!.cacheKey, runs])]);

  it('profile_runs: each profile its runs in first-seen order, the same as the log read whole; retract finds the profiles; verify sees a wrong row', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'runs.db'));
    fill(l);
    assert.equal(answers(l), JSON.stringify([[['a:None:', ['r1', 'r2']], ['b:None:', ['r2', 'r3', 'r1']]]]));
    assert.deepEqual(verifyLedger(l).differences, []);
    assert.deepEqual(retractRun(l, 'r2').retracted, ['a:None:', 'b:None:']);
    l.sql.run("delete from profile_runs where run_id = (select id from runs where run = 'r3')");
    assert.match(verifyLedger(l).differences.join('\n'), /^b:None:: profile run 1: stored run r1 from position \d+, the log holds run r3 from position \d+$/m);
    await l.close();
  });

  it('replay rebuilds profile_runs (derived data, as checkpoints): a lost row and a wrong position come back, verify passes', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'replay-runs.db'));
    fill(l);
    const want = answers(l);
    l.sql.run("delete from profile_runs where run_id = (select id from runs where run = 'r3')");
    l.sql.run("update profile_runs set first_position = first_position + 100 where run_id = (select id from runs where run = 'r1')");
    assert.notDeepEqual(verifyLedger(l).differences, []);
    l.replay();
    assert.equal(answers(l), want);
    assert.deepEqual(verifyLedger(l).differences, []);
    await l.close();
  });

  it('the migration fills profile_runs from the log and drops events_by_run', async () => {
    const db = ledgerAt(dialect, tempDir(), 'old.db');
    let l = await openLedger(db);
    fill(l);
    const want = answers(l);
    // back to the schema before the migration, and before those after it (event_transactions: PostgreSQL only)
    l.sql.exec(undoProfileSpans(dialect));
    if (dialect === 'postgres') l.sql.exec('create index events_by_transaction on events(transaction_id, position); drop table event_transactions');
    l.sql.exec("drop table profile_runs; create index events_by_run on events(run_id); delete from kysely_migration where name >= '2026-11-28T07-40-profile-runs'");
    await l.close();
    l = await openLedger(db);
    assert.equal(answers(l), want);
    assert.deepEqual(verifyLedger(l).differences, []);
    const indexes = dialect === 'sqlite' ? "select name from sqlite_master where type = 'index' and name = 'events_by_run'" : "select indexname from pg_indexes where indexname = 'events_by_run'";
    assert.deepEqual(l.sql.allRaw(indexes), []);
    await l.close();
  });
});
