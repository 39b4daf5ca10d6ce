import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';

/**
 * verify checks a profile with retractions in one scan for each stretch between two of them
 * that holds a checkpoint, and one of the whole log (verifyByStretches), where it folded the
 * log afresh for each checkpoint and why-checkpoint: every damage named in the same words and
 * order as the checks made one by one (main's verify before session 21, which passes this file).
 */
for (const dialect of DIALECTS) describe(dialect, () => {
  const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const ev = (key: string, i: number) => ({
    kind: 'shape.observed' as const, cacheKey: key, payload: { code, source: i % 7 === 0 ? "L['y']" : "L['x']", shape: { kind: 'tensor' as const, size: [2 + (i % 5), 4 + Math.floor(i / 40)], stride: [4, 1] }, automatic_dynamic: true }, run: `r${Math.floor(i / 25)}`, time: 1000 + i, idempotencyKey: `${key}${i}`,
  });
  const ledgers: Ledger[] = [];
  before(() => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '10';
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    for (const l of ledgers) await l.close();
  });
  /** Two profiles interleaved (checkpoints every 10 events), r1 retracted in both at 81, r2 in a's at 162, then more events. */
  const build = async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'verify.db'));
    ledgers.push(l);
    const batch = (k: number) => l.append(Array.from({ length: 40 }, (_, j) => ev(j % 2 ? 'b:None:' : 'a:None:', k * 20 + (j >> 1))));
    batch(0);
    batch(1);
    retractRun(l, 'r1');
    batch(2);
    batch(3);
    retractRun(l, 'r2', { job: 'a' });
    batch(4);
    const a = l.profileByKey('a:None:')!.id;
    const b = l.profileByKey('b:None:')!.id;
    const positions = (table: string, pid: number) => l.sql.allRaw(`select position from ${table} where profile_id = ? order by position`, pid).map((r) => Number(r[0]));
    return { l, a, b, cp: positions('checkpoints', a), why: positions('why_checkpoints', a), cpB: positions('checkpoints', b), whyB: positions('why_checkpoints', b) };
  };
  type Built = Awaited<ReturnType<typeof build>>;
  /** The differences, a ledger's own name (its path or URL) as LEDGER. */
  const differences = (x: Built) => verifyLedger(x.l).differences.map((d) => d.split(x.l.path).join('LEDGER'));

  it("checkpoints and why-checkpoints in each stretch, the history, a code state, a run's first position; b's moved to a position of a's event", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update checkpoints set state = (select state from checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', x.a, x.cp[x.cp.length - 1], x.a, x.cp[0]);
    x.l.sql.run('update checkpoints set state = (select state from checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', x.a, x.cp[1], x.a, x.cp[x.cp.length - 2]);
    x.l.sql.run('update why_checkpoints set counts = (select counts from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', x.a, x.why[0], x.a, x.why[2]);
    x.l.sql.run('update why_checkpoints set state = (select state from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', x.a, x.why[1], x.a, x.why[3]);
    x.l.sql.run('update why_checkpoints set state = (select state from why_checkpoints where profile_id = ? and position = ?) where profile_id = ? and position = ?', x.a, x.why[1], x.a, x.why[x.why.length - 1]);
    x.l.sql.run("update history set cached = '9' where id = (select min(id) from history where profile_id = ?)", x.a);
    x.l.sql.run('update code_states set firstlineno = 2 where profile_id = ?', x.a);
    x.l.sql.run("update profile_runs set first_position = first_position + 2 where profile_id = ? and run_id = (select id from runs where run = 'r1')", x.a);
    // (the log folded to a position no event of the profile is at: the fold to the event before it)
    x.l.sql.run('update checkpoints set position = position + 1 where profile_id = ? and position = ?', x.b, x.cpB[x.cpB.length - 2]);
    x.l.sql.run('update why_checkpoints set position = position + 1 where profile_id = ? and position = ?', x.b, x.whyB[x.whyB.length - 2]);
    x.l.sql.run('update checkpoints set position = position + 1 where profile_id = ? and position = ?', x.b, x.cpB[1]);
    x.l.sql.run('update why_checkpoints set position = position + 1 where profile_id = ? and position = ?', x.b, x.whyB[1]);
    assert.deepEqual(differences(x), [
      "a:None:: code state 0: stored [0,{\"filename\":\"a.py\",\"firstlineno\":2,\"name\":\"f\",\"file_hash\":\"h\"},[[\"L['y']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}],[\"L['x']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}]]], log folds to [0,{\"filename\":\"a.py\",\"firstlineno\":1,\"name\":\"f\",\"file_hash\":\"h\"},[[\"L['y']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}],[\"L['x']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}]]]",
      "a:None:: history record 0: stored [5,0,\"L['x']\",\"0\",\"size change\",\"9\",\"4\"], log folds to [5,0,\"L['x']\",\"0\",\"size change\",\"3\",\"4\"]",
      "a:None:: checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 121 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: profile run 1: stored run r1 from position 53, the log holds run r1 from position 51"
    ]);
  });

  it("a history row deleted", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('delete from history where id = (select max(id) from history where profile_id = ?)', x.a);
    assert.deepEqual(differences(x), [
      "a:None:: history record 7: stored (none), log folds to [157,0,\"L['y']\",\"0\",\"stride change\",\"InferStride(dim=1)\",\"4\"]"
    ]);
  });

  it("a profile_runs row deleted", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run("delete from profile_runs where profile_id = ? and run_id = (select id from runs where run = 'r3')", x.a);
    assert.deepEqual(differences(x), [
      "a:None:: profile run 3: stored (none), the log holds run r3 from position 153"
    ]);
  });

  it("an event's body early", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update events set body_id = (select body_id from events where position = 150) where position = 13');
    assert.deepEqual(differences(x), [
      "a:None:: history record 1: stored [15,0,\"L['y']\",\"0\",\"size change\",\"2\",\"4\"], log folds to [13,0,\"L['x']\",\"0\",\"size change\",\"AutoDynamic.token\",\"5\"]",
      "a:None:: checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 79 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 79 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 121 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)"
    ]);
  });

  it("an event's body late", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update events set body_id = (select body_id from events where position = 13) where position = 190');
    assert.deepEqual(differences(x), [
      "a:None:: why-checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)"
    ]);
  });

  it("an event's run early", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run("update events set run_id = (select id from runs where run = 'r2') where position = 11");
    assert.deepEqual(differences(x), [
      "a:None:: the log counts of the why-checkpoint at 39 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 79 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 79 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 121 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: profile run 1: stored run r1 from position 51, the log holds run r2 from position 11",
      "a:None:: profile run 2: stored run r2 from position 103, the log holds run r1 from position 51"
    ]);
  });

  it("an event's run late", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run("update events set run_id = (select id from runs where run = 'r1') where position = 195");
    assert.deepEqual(differences(x), [
      "b:None:: why-checkpoint at 203 differs from the log folded to it (delete it, or run pgo-ledger replay)"
    ]);
  });

  it("a profile_spans row deleted", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('delete from profile_spans where profile_id = ? and first_position = (select min(first_position) from profile_spans where profile_id = ?)', x.a, x.a);
    assert.deepEqual(differences(x), [
      "a:None:: 102 events in no span of the profile (profile_spans), the first at position 1: its reads miss them (run pgo-ledger replay)",
      "a:None:: code state 0: stored [0,{\"filename\":\"a.py\",\"firstlineno\":1,\"name\":\"f\",\"file_hash\":\"h\"},[[\"L['y']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}],[\"L['x']\",{\"scalar\":\"dynamic\",\"size\":[\"dynamic\",\"dynamic\"],\"stride\":[\"dynamic\",1],\"excluded_sizes\":null}]]], log folds to (none)",
      "a:None:: history record 0: stored [5,0,\"L['x']\",\"0\",\"size change\",\"3\",\"4\"], log folds to (none)",
      "a:None:: checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 79 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 121 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 39 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 79 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 121 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 161 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: the log counts of the why-checkpoint at 202 differ from the log (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 39 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 79 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 121 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 161 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: why-checkpoint at 202 differs from the log folded to it (delete it, or run pgo-ledger replay)",
      "a:None:: profile run 0: stored run r0 from position 1, the log holds (none)",
      "a:None:: profile run 1: stored run r1 from position 51, the log holds (none)",
      "a:None:: profile run 2: stored run r2 from position 103, the log holds (none)",
      "a:None:: profile run 3: stored run r3 from position 153, the log holds (none)"
    ]);
  });

  it("a checkpoint row and a why-checkpoint row deleted", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('delete from checkpoints where profile_id = ? and position = ?', x.a, x.cp[2]);
    x.l.sql.run('delete from why_checkpoints where profile_id = ? and position = ?', x.a, x.why[2]);
    assert.deepEqual(differences(x), []);
  });

  it("a checkpoint's state unreadable, a why-checkpoint's too", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update checkpoints set state = ? where profile_id = ? and position = ?', Buffer.from([1, 2, 3]), x.a, x.cp[3]);
    x.l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', Buffer.from([1, 2, 3]), x.a, x.why[2]);
    assert.deepEqual(differences(x), [
      "a:None:: checkpoint at 161 is unreadable (incorrect header check): delete it, or run pgo-ledger replay",
      "a:None:: why-checkpoint at 121 is unreadable (incorrect header check): delete it, or run pgo-ledger replay"
    ]);
  });

  it("a checkpoint and a why-checkpoint moved past the log's end", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update checkpoints set position = 999 where profile_id = ? and position = ?', x.a, x.cp[x.cp.length - 1]);
    x.l.sql.run('update why_checkpoints set position = 999 where profile_id = ? and position = ?', x.a, x.why[x.why.length - 1]);
    assert.deepEqual(differences(x), []);
  });

  it("a checkpoint moved before the first retraction, one after it", async () => {
    const x = await build();
    assert.deepEqual(differences(x), []);
    x.l.sql.run('update checkpoints set position = 80 where profile_id = ? and position = ?', x.a, x.cp[1]);
    x.l.sql.run('update checkpoints set position = 82 where profile_id = ? and position = ?', x.a, x.cp[2]);
    assert.deepEqual(differences(x), [
      "a:None:: checkpoint at 82 differs from the log folded to it (delete it, or run pgo-ledger replay)"
    ]);
  });
});
