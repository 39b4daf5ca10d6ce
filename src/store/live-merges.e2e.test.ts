import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliSpawn } from '../../test/support/cli.ts';
import { DIALECTS, ledgerAt, psql } from '../../test/support/postgres.ts';
import { pgBin } from '../../test/support/postgres-server.ts';
import { LOCK_PROFILE } from './dialect/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { twoRanksMerged } from '../../test/support/storm-lines.ts';

const dir = tempDir();

/** One rank's observation lines of job `lm`. */
function rank(name: string, rankNo: number, tag: string, obs: { code: string; source: string; size: number[] }[]): string {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(
    file,
    obs
      .map((o, i) =>
        JSON.stringify({ job: 'lm', rank: rankNo, tag, run: `${name}-run`, time: new Date(Date.UTC(2026, 10, 26, 10, rankNo, i)).toISOString(), code: { filename: '/srv/train.py', firstlineno: 24, name: o.code, file_hash: 'd02731e6' }, source: o.source, kind: 'tensor', size: o.size, stride: [o.size[1] ?? 1, 1].slice(0, o.size.length) }),
      )
      .join('\n') + '\n',
  );
  return file;
}

const rank0 = () => rank('rank0', 0, '', [{ code: 'forward', source: "L['x']", size: [8, 4] }, { code: 'forward', source: "L['x']", size: [8, 4] }]);
const rank1 = () => rank('rank1', 1, '', [{ code: 'forward', source: "L['x']", size: [16, 4] }, { code: 'loss', source: "L['y']", size: [3, 2] }]);
const rank2 = () => rank('rank2', 2, 'eval', [{ code: 'forward', source: "L['x']", size: [8, 2] }]);
const rank3 = () => rank('rank3', 3, '', [{ code: 'late', source: "L['z']", size: [1, 1] }]);

const ok = (r: { status: number; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
};

describe('issue 12.5: merging ranks', () => {
  it("issue 12.5: merge --from 'job:*' joins every rank and tag of a job; a glob matching nothing is exit 2", () => {
    const db = join(dir, 'glob.db');
    for (const f of [rank0(), rank1(), rank2()]) ok(cli(db, ['ingest', f]));
    const out = ok(cli(db, ['merge', '--from', 'lm:*', '--into', 'lm-all']));
    assert.match(out, /joined lm:0: \+ lm:1: \+ lm:2:eval into lm-all:None:/);
    const show = ok(cli(db, ['show', '--job', 'lm-all']));
    assert.match(show, /L\['x'\]: tensor size=\[\?, \?\]/, 'rank 1 made dim 0 dynamic, tag eval dim 1');
    assert.match(show, /loss/);
    // the target is never its own source, even when the glob names it
    assert.match(ok(cli(db, ['merge', '--from', 'lm*', '--into', 'lm-all'])), /joined lm:0: \+ lm:1: \+ lm:2:eval into/);
    const none = cli(db, ['merge', '--from', 'nobody:*', '--into', 'x']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--from nobody:\*: no profile matches/);
    // the target alone matches: said so (trial s26a: "no profile matches")
    const self = cli(db, ['merge', '--from', 'lm-all*', '--into', 'lm-all']);
    assert.equal(self.status, 2);
    assert.match(self.stderr, /--from lm-all\*: no profile matches but the target lm-all:None: itself, which a merge never joins into itself/);
  });

  for (const dialect of DIALECTS) it(`issue 12.5 (${dialect}): merge --live keeps the joined profile up to date as ranks are ingested: show equals a fresh merge --from of them all, and why follows into the rank`, () => {
    const db = ledgerAt(dialect, dir, 'live.db');
    ok(cli(db, ['ingest', rank0()]));
    assert.match(ok(cli(db, ['merge', '--from', 'lm:*', '--into', 'joined', '--live'])), /live: joined:None: follows lm:\*/);
    ok(cli(db, ['ingest', rank1()]));
    ok(cli(db, ['ingest', rank2()]));
    const live = ok(cli(db, ['show', '--job', 'joined']));

    const fresh = ledgerAt(dialect, dir, 'fresh.db');
    for (const f of [rank0(), rank1(), rank2()]) ok(cli(fresh, ['ingest', f]));
    ok(cli(fresh, ['merge', '--from', 'lm:*', '--into', 'joined']));
    assert.equal(live, ok(cli(fresh, ['show', '--job', 'joined'])));
    assert.match(live, /size=\[\?, \?\]/);

    // why on the merge follows the change into the rank that brought it
    const why = ok(cli(db, ['why', '--job', 'joined', '--source', "L['x']", '--dim', '0']));
    assert.match(why, /lm:1:/);

    // the same rank again adds nothing to the target
    const events = () => JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n').find((l) => l.includes('"joined:None:"'))!).events;
    const before = events();
    ok(cli(db, ['ingest', rank1()]));
    assert.equal(events(), before);

    // stopped: later ranks are not joined
    assert.match(ok(cli(db, ['merge', '--into', 'joined', '--stop-live'])), /1 live merge stopped/);
    ok(cli(db, ['ingest', rank3()]));
    assert.equal(events(), before);
    assert.doesNotMatch(ok(cli(db, ['show', '--job', 'joined'])), /late/);
  });

  it('session 14 tryout: merge --from naming the target itself (a cache key or a job) is bad usage and appends nothing, --live or not', () => {
    const db = join(dir, 'self.db');
    ok(cli(db, ['ingest', rank0()]));
    const events = () => cli(db, ['jobs', '--json']).stdout;
    const before = events();
    for (const args of [['--from', 'lm:0:', '--into', 'lm:0:'], ['--from', 'lm:0:', '--into', 'lm', '--rank', '0', '--live']]) {
      const r = cli(db, ['merge', ...args]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--from lm:0: is the target lm:0: itself/);
    }
    assert.equal(events(), before);
  });

  // Trial s36a: `--into ''` joined into a profile `:None:` that no --job can name, and a cache key
  // of a profile not there yet was read as a job (`--into jm:5:` made `jm:5::None:`), where an
  // existing one was a key: a key-shaped target is a key, always.
  it("merge --into '' is refused; --into a new cache key is that key, and --rank/--tag beside one is refused", () => {
    const db = join(dir, 'into.db');
    ok(cli(db, ['ingest', rank0()]));
    const before = cli(db, ['jobs', '--json']).stdout;
    const empty = cli(db, ['merge', '--from', 'lm:0:', '--into', '']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^pgo-ledger: --into is empty: an empty job id names no job; give the target job id \(or cache key\)$/m);
    const both = cli(db, ['merge', '--from', 'lm:0:', '--into', 'lm:7:', '--rank', '2']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--into lm:7: is a cache key \(job:rank:tag\): --rank and --tag go with a job id/);
    assert.equal(cli(db, ['jobs', '--json']).stdout, before);
    assert.match(ok(cli(db, ['merge', '--from', 'lm:0:', '--into', 'lm:5:'])), /into lm:5::/);
    assert.match(ok(cli(db, ['merge', '--from', 'lm:0:', '--into', 'z:None:exp'])), /into z:None:exp:/);
    assert.match(ok(cli(db, ['merge', '--from', 'lm:0:', '--into', 'zz', '--rank', '3'])), /into zz:3::/);
    const keys = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { cache_key: string }).cache_key).sort();
    assert.deepEqual(keys, ['lm:0:', 'lm:5:', 'z:None:exp', 'zz:3:']);
  });

  it('session 16 trial: merge --stop-live with --live or --from is bad usage (it would stop the merges and drop the rest unsaid), and stops nothing', () => {
    const db = join(dir, 'stop.db');
    ok(cli(db, ['ingest', rank0()]));
    ok(cli(db, ['merge', '--from', 'lm:*', '--into', 'stopjoin', '--live']));
    for (const args of [['--live'], ['--from', 'lm:*']]) {
      const r = cli(db, ['merge', '--into', 'stopjoin', '--stop-live', ...args]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--stop-live.* cannot be used with/);
    }
    assert.match(ok(cli(db, ['merge', '--into', 'stopjoin', '--stop-live'])), /1 live merge stopped/);
  });

  it('session 20 trial: merge --stop-live into a target with no live merge (a mistyped one) is bad input and names the targets there are', () => {
    const db = join(dir, 'stop-none.db');
    ok(cli(db, ['ingest', rank0()]));
    const none = cli(db, ['merge', '--into', 'm', '--stop-live']);
    assert.equal(none.status, 2, none.stdout + none.stderr);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no live merge goes into m:None:, nothing stopped \(the ledger has no live merge\)/);
    ok(cli(db, ['merge', '--from', 'lm:*', '--into', 'stopjoin2', '--live']));
    const typo = cli(db, ['merge', '--into', 'stopjoin', '--stop-live']);
    assert.equal(typo.status, 2, typo.stdout + typo.stderr);
    assert.match(typo.stderr, /no live merge goes into stopjoin:None:, nothing stopped \(live merges go into: stopjoin2:None:\)/);
    // the live merge there is untouched, and stops when named
    assert.match(ok(cli(db, ['merge', '--into', 'stopjoin2', '--stop-live'])), /1 live merge stopped/);
  });

  it('issue 12.5 (postgres): a merge --live defined while a batch of a source is under way joins that batch: the merge waits for it, and the batch reads the live merges once its locks are held', async () => {
    const db = ledgerAt('postgres', dir, 'race.db');
    const name = new URL(db).pathname.slice(1);
    ok(cli(db, ['ingest', rank0()]));
    const [pid] = psql("select id from profiles where cache_key = 'lm:0:'", name);
    // Another session holds rank 0's profile lock, as a batch under way would; an ingest to
    // rank 0 then waits there, having started its batch, while the merge is defined.
    const holder = spawn(pgBin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db], { stdio: ['pipe', 'ignore', 'inherit'] });
    holder.stdin!.write(`begin;\nselect pg_advisory_xact_lock(${LOCK_PROFILE}, ${pid});\n`);
    const waiting = () => Number(psql("select count(*) from pg_locks l join pg_database d on d.oid = l.database where d.datname = current_database() and l.locktype = 'advisory' and not l.granted", name)[0]);
    const exited = (c: ChildProcess) => new Promise<{ status: number; out: string }>((resolve) => {
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      c.stderr!.on('data', (d) => (out += d));
      c.on('close', (code) => resolve({ status: code ?? -1, out }));
    });
    const until = async (what: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await until(() => Number(psql(`select count(*) from pg_locks where locktype = 'advisory' and granted and objid = ${pid}`, name)[0]) > 0, 10_000);
      const more = rank('rank0-more', 0, '', [{ code: 'forward', source: "L['x']", size: [24, 4] }]);
      const batch = exited(cliSpawn(db, ['ingest', more]));
      await until(() => waiting() >= 1, 20_000);
      assert.equal(waiting(), 1, 'the ingest waits for the profile lock');
      let mergeDone = false;
      const merge = exited(cliSpawn(db, ['merge', '--from', 'lm:*', '--into', 'joined', '--live'])).then((r) => ((mergeDone = true), r));
      // the merge waits for the batch under way (2 waiting), or, were it not to, is done
      await until(() => mergeDone || waiting() >= 2, 20_000);
      holder.stdin!.end('commit;\n');
      const [b, m] = await Promise.all([batch, merge]);
      assert.equal(b.status, 0, b.out);
      assert.equal(m.status, 0, m.out);
    } finally {
      holder.stdin!.end();
      holder.kill();
    }
    // the joined profile holds the batch: it equals a merge made after everything
    ok(cli(db, ['merge', '--from', 'lm:*', '--into', 'check']));
    const show = (job: string) => ok(cli(db, ['show', '--job', job])).replaceAll(`${job}:None:`, 'TARGET');
    assert.match(show('joined'), /size=\[\?, 4\]/, "rank 0's later batch made dim 0 dynamic");
    assert.equal(show('joined'), show('check'));
  });
});

describe("session 19: what a live merge's events hold", () => {
  it("a live merge's event carries the time it was joined (what the target held then), and why tells the rank's time through its story", () => {
    const d = join(dir, 'times');
    mkdirSync(d);
    const db = join(d, 'l.db');
    const before = Date.now();
    twoRanksMerged(d, (args) => cli(db, args).status === 0);
    const after = Date.now();
    const [story] = JSON.parse(ok(cli(db, ['why', '--job', 'one-all', '--json']))) as { became_dynamic: { time: string; origin: { name: string } }; via: { story: { became_dynamic: { time: string } } } }[];
    assert.equal(story.became_dynamic.origin.name, 'profile one:1:');
    // rank 1's observations, 10:00 and 10:02, came in one batch: the rank's story tells its time
    assert.equal(story.via.story.became_dynamic.time, '2026-11-26T10:02:00.000Z');
    // the target held it only from the join (a rank's time would back-date it: session 19's trial)
    const joined = Date.parse(story.became_dynamic.time);
    assert.ok(joined >= before - 1000 && joined <= after + 1000, story.became_dynamic.time);
    // so the target as of the ranks' day holds nothing yet
    const early = cli(db, ['show', '--job', 'one-all', '--as-of', '2026-11-27T00:00:00Z']);
    assert.equal(early.status, 0, early.stderr);
    assert.equal(early.stdout.trim(), '');
  });

  it("a live join that changes nothing as PyTorch's == sees it (only excluded_sizes would differ) appends nothing", () => {
    const d = join(dir, 'no-op');
    mkdirSync(d);
    const db = join(d, 'l.db');
    const obs = (rank: number, minute: number, n: number) => {
      const f = join(d, `r${rank}-${minute}.jsonl`);
      writeFileSync(f, JSON.stringify({ job: 'nx', rank, tag: '', run: `r${rank}`, time: `2026-11-26T10:0${minute}:00Z`, code: { filename: '/srv/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] }) + '\n');
      return f;
    };
    const targetEvents = () => (JSON.parse(ok(cli(db, ['jobs', '--json'])).trim().split('\n').find((l) => l.includes('"nx-all:None:"'))!) as { events: number }).events;
    ok(cli(db, ['ingest', obs(0, 0, 8)]));
    ok(cli(db, ['merge', '--from', 'nx:*', '--into', 'nx-all', '--live']));
    // rank 1 makes dim 0 of the target dynamic (its excluded_sizes then [8, 4])
    ok(cli(db, ['ingest', obs(1, 1, 16)]));
    const before = targetEvents();
    const shown = ok(cli(db, ['show', '--job', 'nx-all']));
    assert.match(shown, /size=\[\?, 4\]/);
    // rank 0 turns dim 0 dynamic too: the target holds that already
    ok(cli(db, ['ingest', obs(0, 2, 32)]));
    assert.equal(targetEvents(), before);
    assert.equal(ok(cli(db, ['show', '--job', 'nx-all'])), shown);
  });
});

describe("session 19: why's advice on a live merge's target", () => {
  it('names the live merge a new target needs and the --stop-live that ends this one (it would go on joining the run back)', () => {
    const d = join(dir, 'advice');
    mkdirSync(d);
    const db = join(d, 'l.db');
    twoRanksMerged(d, (args) => cli(db, args).status === 0);
    ok(cli(db, ['retract', '--run', 'r1']));
    const [story] = JSON.parse(ok(cli(db, ['why', '--job', 'one-all', '--json']))) as { advice: string }[];
    assert.match(story.advice, /run r1 was retracted from one:1: after the merge/);
    assert.match(story.advice, /pgo-ledger merge --live --from \.\.\. --into NEW, and pgo-ledger merge --into "one-all:None:" --stop-live\)/);
    // once it is no longer live, the plain form
    ok(cli(db, ['merge', '--into', 'one-all', '--stop-live']));
    const [after] = JSON.parse(ok(cli(db, ['why', '--job', 'one-all', '--json']))) as { advice: string }[];
    assert.match(after.advice, /\(pgo-ledger merge --from \.\.\. --into NEW\) to leave it out/);
  });
});
