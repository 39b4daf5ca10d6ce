import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../../test/support/build.ts';
import { cliSpawn } from '../../test/support/cli.ts';
import { DIALECTS, freshLedger, type DialectName } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { readAfter, START, type FollowCursor } from './follow.ts';
import { openLedger, type Ledger, type NewEvent } from './ledger.ts';
import { verifyLedger, viewRows } from './verify.ts';

/** The size of the concurrent test: the 8 writers x 50k observations unless the environment says less. */
const WRITERS = Number(process.env.PGO_LEDGER_FOLLOW_WRITERS) || 8;
const LINES = Number(process.env.PGO_LEDGER_FOLLOW_LINES) || 50_000;

/** Observation lines of one rank: 40 codes x 4 sources whose sizes change now and then (records, so history). */
function observations(file: string, rank: number, n: number): void {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = i % 40;
    const src = (i >> 3) % 4;
    const batch = [8, 16, 8, 32][(i >> 9) % 4] * (src === 0 && i > n / 2 ? 2 : 1);
    out.push(
      `{"job":"follow","rank":${rank},"run":"r${rank}-${i >> 12}","code":{"filename":"/srv/m${code % 7}.py","firstlineno":${10 + code},"name":"f${code}","file_hash":"h${code % 7}"},` +
        `"source":"L['x${src}']","kind":"tensor","size":[${batch},${64 * (1 + src)}],"stride":[${64 * (1 + src)},1]}`,
    );
  }
  writeFileSync(file, out.join('\n') + '\n');
}

const exited = (p: ChildProcess, what: string) =>
  new Promise<string>((resolve, reject) => {
    let err = '';
    p.stderr?.on('data', (d) => (err += d));
    p.stdout?.resume();
    p.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`${what} exited ${code}: ${err}`))));
  });

interface Followed {
  positions: number[];
  reads: number;
  behind: number;
  views: Record<string, string[]>;
}

async function concurrentFollow(dialect: DialectName, writers: number, lines: number): Promise<void> {
  const dir = tempDir();
  const db = freshLedger(dialect, dir);
  // The ledger exists before anyone follows it (a read-only open never creates one).
  await (await openLedger(db)).close();
  const files = Array.from({ length: writers }, (_, w) => join(dir, `rank${w}.jsonl`));
  files.forEach((f, w) => observations(f, w, lines));
  const done = join(dir, 'done');
  const out = join(dir, 'followed.json');
  const follower = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/follower.ts'), db, done, out, '2000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const following = exited(follower, 'the follower');
  try {
    await Promise.all(files.map((f, w) => exited(cliSpawn(db, ['ingest', '--json', f]), `writer ${w}`)));
  } catch (e) {
    // a writer failed (or never started: a stale build): the follower would wait on for
    // events that never come, past the test file's end, which removes `done` with its folder
    follower.kill('SIGKILL');
    throw e;
  } finally {
    try {
      writeFileSync(done, '');
    } catch (e) {
      follower.kill('SIGKILL'); // it waits for `done`: without this the run hangs instead of failing
      throw e;
    }
  }
  await following;
  const got = JSON.parse(readFileSync(out, 'utf8')) as Followed;
  const l = await openLedger(db, { readonly: true });
  try {
    const stored = l.sql.all<{ position: number }>('select position from events order by position').map((r) => Number(r.position));
    assert.equal(stored.length, writers * lines, 'every writer appended every line');
    assert.equal(new Set(got.positions).size, got.positions.length, 'no event followed twice');
    const seen = new Set(got.positions);
    const missing = stored.filter((p) => !seen.has(p));
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} events never followed`);
    assert.deepEqual([...got.positions].sort((a, b) => a - b), stored);
    // Folding in the follower's order reproduces the stored views (code_states), profile by profile.
    const profiles = l.profiles();
    assert.equal(profiles.length, writers);
    for (const p of profiles) assert.deepEqual(got.views[p.id], viewRows(l.view(p.id)), p.cacheKey);
    assert.deepEqual(verifyLedger(l).differences, []);
    process.stderr.write(`# ${dialect}: ${writers} x ${lines}: ${got.reads} reads, ${got.behind} events read after a higher position\n`);
  } finally {
    await l.close();
  }
}

describe('issue 11.3: a follower reads every event exactly once, in commit order', () => {
  it(`issue 11.3: postgres: ${WRITERS} writer processes append ${LINES} observations each while a follower process reads: every event once, its folds are the stored views; issue 11.4: no event lost, verify passes`, async () => {
    await concurrentFollow('postgres', WRITERS, LINES);
  });

  it('issue 11.3: sqlite: 4 writer processes and a follower, every event once', async () => {
    await concurrentFollow('sqlite', 4, 3000);
  });

  const ev = (rank: number, name: string): NewEvent => ({
    kind: 'shape.observed',
    cacheKey: `f:${rank}:`,
    payload: { code: { filename: `/${name}.py`, firstlineno: 1, name, file_hash: name }, source: `L['${name}']`, shape: { kind: 'tensor', size: [rank + 2], stride: [1] }, automatic_dynamic: true },
    idempotencyKey: name,
  });
  /** Every position a follower reads from the start, in pages of at most `limit` events. */
  const all = (l: Ledger, limit = 1) => {
    const out: number[] = [];
    let c: FollowCursor = START;
    for (;;) {
      const b = readAfter(l, c, limit);
      if (!b.events.length) return out;
      assert.ok(b.events.length <= limit);
      out.push(...b.events.map((e) => e.position));
      c = b.cursor;
    }
  };

  /** Gives the events other transaction ids (a SQL expression of position), as if other transactions had written them. */
  const retransact = (l: Ledger, id: string) => {
    l.sql.run(`update events set transaction_id = ${id}::text::xid8`);
    l.sql.run('delete from event_transactions');
    l.sql.run('insert into event_transactions select transaction_id, min(position), max(position) from events group by transaction_id');
  };

  for (const dialect of DIALECTS) {
    it(`issue 11.3: ${dialect}: the cursor goes on where it stopped; nothing read twice`, async () => {
      const l = await openLedger(freshLedger(dialect));
      try {
        l.append([ev(0, 'a'), ev(1, 'b')]);
        const first = readAfter(l, START, 1);
        assert.deepEqual(first.events.map((e) => [e.position, e.kind, e.source, e.profileId]), [[1, 'shape.observed', "L['a']", l.profileByKey('f:0:')!.id]]);
        l.append([ev(2, 'c')]);
        assert.deepEqual(readAfter(l, first.cursor, 10).events.map((e) => e.position), [2, 3]);
        assert.deepEqual(all(l), [1, 2, 3]);
        assert.deepEqual(readAfter(l, readAfter(l, START, 10).cursor).events, []);
      } finally {
        await l.close();
      }
    });
  }

  it('issue 11.3: postgres: an event that commits after a higher position is not skipped: nothing past a running transaction is read until it commits', async () => {
    const db = freshLedger('postgres');
    const [slow, fast, reader] = [await openLedger(db), await openLedger(db), await openLedger(db)];
    try {
      slow.sql.immediate(() => {
        slow.append([ev(0, 'slow')]); // position 1, not committed yet
        fast.append([ev(1, 'fast')]); // position 2, committed
        // A follower by position alone would read 2 now and never see 1.
        assert.deepEqual(reader.sql.all<{ position: number }>('select position from events').map((r) => r.position), [2]);
        assert.deepEqual(all(reader), []);
      });
      assert.deepEqual(all(reader), [1, 2]);
    } finally {
      for (const l of [slow, fast, reader]) await l.close();
    }
  });
  it('issue 11.3: postgres: transactions are read in their order as numbers, not as text (9 before 10), page by page', async () => {
    const l = await openLedger(freshLedger('postgres'));
    try {
      l.append([ev(0, 'a'), ev(1, 'b'), ev(2, 'c'), ev(3, 'd')]);
      // the same events as if two transactions whose ids differ in their number of digits wrote them
      retransact(l, '(case when position <= 2 then 9 else 10 end)');
      assert.deepEqual(readAfter(l, START, 10).events.map((e) => e.position), [1, 2, 3, 4]);
      assert.deepEqual(all(l), [1, 2, 3, 4]);
      assert.deepEqual(readAfter(l, START, 3).cursor, { transaction: '10', position: 3 });
    } finally {
      await l.close();
    }
  });
  it('issue 11.3: postgres: transactions whose positions interleave (concurrent writers) are read whole, one after the other, whatever the page size', async () => {
    const l = await openLedger(freshLedger('postgres'));
    try {
      l.append(Array.from({ length: 9 }, (_, i) => ev(i, `s${i}`)));
      // three transactions: 5 holds 1, 4, 7; 6 holds 2, 5, 8; 7 holds 3, 6, 9
      retransact(l, '(5 + (position - 1) % 3)');
      const order = [1, 4, 7, 2, 5, 8, 3, 6, 9];
      for (const limit of [1, 2, 3, 4, 5, 9, 10]) assert.deepEqual(all(l, limit), order, `limit ${limit}`);
    } finally {
      await l.close();
    }
  });
  it('issue 11.3: postgres: a transaction of several batches (COPY and insert) is read whole, in pages, each event once', async () => {
    const l = await openLedger(freshLedger('postgres'));
    try {
      l.append([ev(0, 'before')]);
      // one transaction: a batch large enough to go by COPY, then a small one (an insert), then COPY again
      l.sql.immediate(() => {
        l.append(Array.from({ length: 300 }, (_, i) => ev(i % 7, `a${i}`)));
        l.append([ev(1, 'b')]);
        l.append(Array.from({ length: 300 }, (_, i) => ev(i % 5, `c${i}`)));
      });
      l.append([ev(2, 'after')]);
      const want = l.sql.allRaw('select position from events order by position').map((r) => r[0]);
      assert.equal(want.length, 603);
      const ranges = l.sql.allRaw('select first_position, last_position from event_transactions order by transaction_id');
      assert.deepEqual(ranges, [[1, 1], [2, 602], [603, 603]]);
      for (const limit of [1, 7, 100, 5000]) assert.deepEqual(all(l, limit), want, `limit ${limit}`);
    } finally {
      await l.close();
    }
  });
  it('issue 11.3: postgres: a ledger from before event_transactions gets one row per transaction of its log when migrated; the follower reads it all', async () => {
    const db = freshLedger('postgres');
    let l = await openLedger(db);
    try {
      l.append([ev(0, 'a'), ev(1, 'b')]);
      l.append(Array.from({ length: 300 }, (_, i) => ev(i % 3, `c${i}`)));
      l.append([ev(2, 'd')]);
      // as the ledger was before the migration (its down, and its name not yet run)
      l.sql.exec('drop table profile_spans; create index events_by_profile on events(profile_id, position)');
      l.sql.exec('create index events_by_transaction on events(transaction_id, position); drop table event_transactions');
      l.sql.run("delete from kysely_migration where name >= '2026-11-28T17-30-event-transactions'");
    } finally {
      await l.close();
    }
    l = await openLedger(db);
    try {
      assert.deepEqual(l.sql.allRaw('select first_position, last_position from event_transactions order by transaction_id'), [[1, 2], [3, 302], [303, 303]]);
      assert.equal(l.sql.get<{ n: number }>("select count(*) n from pg_indexes where indexname = 'events_by_transaction'")!.n, 0);
      assert.deepEqual(all(l), Array.from({ length: 303 }, (_, i) => i + 1));
    } finally {
      await l.close();
    }
  });
  it('issue 11.3: postgres: verify names the events event_transactions does not cover (a follower would never read them)', async () => {
    const l = await openLedger(freshLedger('postgres'));
    try {
      l.append([ev(0, 'a'), ev(1, 'b')]);
      l.append([ev(2, 'c')]);
      assert.deepEqual(verifyLedger(l).differences, []);
      l.sql.run('update event_transactions set last_position = first_position where last_position = 2');
      const d = verifyLedger(l).differences;
      assert.equal(d.length, 1);
      assert.match(d[0], /^damaged: event_transactions does not cover 1 event\(s\) of transaction \d+: a follower would not read them$/);
      l.sql.run('delete from event_transactions');
      assert.equal(verifyLedger(l).differences.length, 2);
    } finally {
      await l.close();
    }
  });
  it('issue 11.4: postgres: a writer that cannot take its locks (posted, not waited for) fails its append, which writes nothing, and the next append goes on', async () => {
    const db = freshLedger('postgres');
    const [replaying, writer] = [await openLedger(db), await openLedger(db)];
    try {
      writer.append([ev(0, 'first')]);
      writer.sql.exec("set lock_timeout = '300ms'");
      replaying.sql.immediate(() => {
        replaying.sql.dialect.lock(replaying.sql, 'all'); // as replay holds the ledger
        assert.throws(() => writer.append([ev(0, 'second'), ev(1, 'third')]), (e: Error & { code?: string }) => e.code === '55P03' && /lock timeout/.test(e.message));
      });
      assert.deepEqual(replaying.sql.all<{ n: number }>('select count(*)::int n from events'), [{ n: 1 }]);
      assert.equal(writer.append([ev(0, 'second'), ev(1, 'third')]).appended, 2);
      assert.deepEqual(all(replaying), [1, 2, 3]);
    } finally {
      for (const l of [replaying, writer]) await l.close();
    }
  });
});
