import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { verifyLedger } from './verify.ts';

/**
 * verify checks a profile with no retraction in one scan of its events (every check a scan of
 * its own before): each damage named in the same words and order as the checks made one by one.
 */
for (const dialect of DIALECTS) describe(dialect, () => {
  const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const ev = (key: string, i: number) => ({
    kind: 'shape.observed' as const, cacheKey: key, payload: { code, source: i % 7 === 0 ? "L['y']" : "L['x']", shape: { kind: 'tensor' as const, size: [2 + (i % 5), 4 + Math.floor(i / 40)], stride: [4, 1] }, automatic_dynamic: true }, run: `r${Math.floor(i / 25)}`, time: 1000 + i, idempotencyKey: `${key}${i}`,
  });
  // made here, not in before(): tempDir's after() registered within a hook ran as the hook
  // ended, and removed the folder under the open ledger (its writes then reached no path)
  const dir = tempDir();
  let l: Ledger;
  let a: number;
  let b: number;
  const positions = (table: string, pid: number) => l.sql.allRaw(`select position from ${table} where profile_id = ? order by position`, pid).map((r) => Number(r[0]));
  before(async () => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '10';
    l = await openLedger(ledgerAt(dialect, dir, 'verify.db'));
    // two profiles interleaved: a position past a profile's event is the other's
    for (let k = 0; k < 4; k++) l.append(Array.from({ length: 40 }, (_, j) => ev(j % 2 ? 'b:None:' : 'a:None:', k * 20 + (j >> 1))));
    a = l.profileByKey('a:None:')!.id;
    b = l.profileByKey('b:None:')!.id;
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    await l.close();
  });

  it('damage of every kind at once, in one profile and the other: each named, in the order of the checks', () => {
    assert.deepEqual(verifyLedger(l).differences, []);
    const cp = positions('checkpoints', a);
    const why = positions('why_checkpoints', a);
    const whyB = positions('why_checkpoints', b);
    const cpB = positions('checkpoints', b);
    l.sql.run('update checkpoints set state = (select state from checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', a, cp[cp.length - 1], a, cp[0]);
    l.sql.run('update why_checkpoints set counts = (select counts from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', a, why[0], a, why[2]);
    l.sql.run('update why_checkpoints set state = (select state from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', a, why[1], a, why[3]);
    l.sql.run("update history set cached = '9' where id = (select min(id) from history where profile_id = ?)", a);
    l.sql.run('update code_states set firstlineno = 2 where profile_id = ?', a);
    l.sql.run("update profile_runs set first_position = first_position + 2 where profile_id = ? and run_id = (select id from runs where run = 'r1')", a);
    // b: its last checkpoint and why-checkpoint moved to a position of a's event (one a's fold never meets)
    l.sql.run('update checkpoints set position = position + 1 where profile_id = ? and position = ?', b, cpB[cpB.length - 2]);
    l.sql.run('update why_checkpoints set position = position + 1 where profile_id = ? and position = ?', b, whyB[whyB.length - 2]);
    const d = verifyLedger(l).differences;
    assert.ok(d[0].startsWith('a:None:: code state 0: stored [0,{"filename":"a.py","firstlineno":2,'), d[0]);
    assert.deepEqual(d.slice(1), [
      'a:None:: history record 0: stored [5,0,"L[\'x\']","0","size change","9","4"], log folds to [5,0,"L[\'x\']","0","size change","3","4"]',
      'a:None:: checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)',
      'a:None:: the log counts of the why-checkpoint at 119 differ from the log (delete it, or run pgo-ledger replay)',
      'a:None:: why-checkpoint at 159 differs from the log folded to it (delete it, or run pgo-ledger replay)',
      'a:None:: profile run 1: stored run r1 from position 53, the log holds run r1 from position 51',
      // (a checkpoint no event of the profile is at: the fold never meets it, nor any after it)
      'b:None:: checkpoint at 121 names no event of the profile',
      'b:None:: checkpoint at 160 names no event of the profile',
      'b:None:: why-checkpoint at 121 names no event of the profile',
      'b:None:: why-checkpoint at 160 names no event of the profile',
    ]);
    l.replay();
    assert.deepEqual(verifyLedger(l).differences, []);
  });

  it("an event row's kind other than its body's: the report's counts at the why-checkpoints after it read the row's (as countLog does)", () => {
    assert.deepEqual(verifyLedger(l).differences, []);
    const at = positions('why_checkpoints', a)[1] - 4;
    l.sql.run("update events set kind = 'shape.described' where position = ?", at);
    assert.deepEqual(verifyLedger(l).differences, [
      'event at position 35: kind "shape.described", but its body\'s kind is shape.observed',
      ...[39, 59, 79, 99, 119, 139, 159].map((p) => `a:None:: the log counts of the why-checkpoint at ${p} differ from the log (delete it, or run pgo-ledger replay)`),
    ]);
    l.sql.run("update events set kind = 'shape.observed' where position = ?", at);
    assert.deepEqual(verifyLedger(l).differences, []);
  });
});

describe('a stored code state missing (trial s24)', () => {
  it('is one difference, naming that code state, not one for every code state after it', async () => {
    const { ingestFile } = await import('../adapters/ingest-file.ts');
    const { join } = await import('node:path');
    const { TORCH } = await import('../../test/support/fixtures.ts');
    const l = await openLedger(join(tempDir(), 'missing.db'));
    try {
      await ingestFile(l, join(TORCH, 'traces', 'cold-local.log'));
      const pid = l.profileByKey('fixture:None:')!.id;
      assert.deepEqual(verifyLedger(l).differences, []);
      const seqs = l.sql.allRaw('select seq from code_states where profile_id = ? order by seq', pid).map((r) => Number(r[0]));
      assert.ok(seqs.length >= 3, `${seqs.length} code states`);
      l.sql.run('delete from code_states where profile_id = ? and seq = ?', pid, seqs[1]);
      const d = verifyLedger(l).differences;
      assert.equal(d.length, 1, d.join('\n'));
      assert.match(d[0], new RegExp(`^fixture:None:: code state ${seqs[1]}: stored \\(none\\), log folds to \\[${seqs[1]},`));
    } finally {
      await l.close();
    }
  });
});
