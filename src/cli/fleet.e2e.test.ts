import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { ROOT } from '../../test/support/build.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const W2 = join(ROOT, 'test/fixtures/torch-2.11/workload2');
// nothing listens there: the commands below must answer before they reach Redis
const NOWHERE = 'redis://127.0.0.1:1';

describe('issue: fleet commands tried by a new user (publish, errors)', () => {
  const db = join(dir, 'fleet.db');

  it('fleet 4: publish --merge --allow-empty of an empty profile says --merge never publishes an empty profile (no advice to give --allow-empty)', () => {
    assert.equal(cli(db, ['ingest', join(W2, 'trace-rank0.log')]).status, 0);
    const r = cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--rank', '0', '--as-of', '0', '--merge', '--allow-empty']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /fixture2:0: has no code ids in the window given \(--as-of\/--exclude-run\): --merge never publishes an empty profile/);
    assert.doesNotMatch(r.stderr, /give --allow-empty if that is what you want/);
    // without --allow-empty the same (--merge, not the missing flag, is why)
    assert.match(cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--as-of', '0', '--merge']).stderr, /--merge never publishes an empty profile/);
    // without --merge the advice stands
    assert.match(cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--as-of', '0']).stderr, /give --allow-empty if that is what you want/);
  });

  it('fleet 5: publish --dry-run says whether it previews a replace or (with --merge) a merge', async () => {
    const redis = await startRedis();
    after(() => redis.stop());
    const plain = cli(db, ['publish', redis.url, '--job', 'fixture2', '--rank', '0', '--dry-run']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^dry run, would replace pt2:dynamo-pgo::fixture2:0::c1 \(--merge not given: add it to preview a merge\): holds nothing; .*nothing written$/m);
    const merged = cli(db, ['publish', redis.url, '--job', 'fixture2', '--rank', '0', '--dry-run', '--merge']);
    assert.equal(merged.status, 0, merged.stderr);
    assert.match(merged.stdout, /^dry run, would merge into pt2:dynamo-pgo::fixture2:0::c1 \(--merge given\): holds nothing; .* after the join\); nothing written$/m);
    assert.match(cli(db, ['publish', '--help']).stdout.replace(/\s+/g, ' '), /a replace, or with --merge a merge/);
  });

  it('fleet 6: show --jbo names the unknown option (not the missing --job); --job left out takes the ledger\'s one job', () => {
    for (const args of [['show', '--jbo', 'fixture2'], ['history', '--jbo', 'fixture2'], ['retract', '--rnu', 'x']]) {
      const r = cli(db, args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, new RegExp(`^error: unknown option '${args[1]}'`), args.join(' '));
      assert.doesNotMatch(r.stderr, /required option/);
    }
    const missing = cli(db, ['show']);
    assert.equal(missing.status, 0, missing.stderr);
    assert.equal(missing.stdout, cli(db, ['show', '--job', 'fixture2']).stdout);
  });

  it("fleet 6: why --dim with no such dim names what was asked in one sentence (no 'no source  with'); a source that is there is said with its dims", () => {
    const r = cli(db, ['why', '--job', 'fixture2', '--dim', '9']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /fixture2:0: has no source with dim 9$/m);
    // session 14 tryout: the source is there, so say so and list its dims (it said "has no source L['x']")
    assert.match(cli(db, ['why', '--job', 'fixture2', '--source', "L['x']", '--dim', '9']).stderr, /^pgo-ledger: L\['x'\] of fixture2:0: has no dim 9; its dims: 0, 1, stride 0, stride 1$/m);
    // a dim of 20 digits is echoed as given, not rounded (trial s26a: "has no dim 100000000000000000000")
    const huge = cli(db, ['why', '--job', 'fixture2', '--source', "L['x']", '--dim', '99999999999999999999']);
    assert.equal(huge.status, 2);
    assert.match(huge.stderr, /--dim 99999999999999999999: want a number a tensor can have as a dim \(under 1024\)/);
    assert.match(cli(db, ['why', '--job', 'fixture2', '--source', "L['nope']", '--dim', '9']).stderr, /fixture2:0: has no source L\['nope'\] with dim 9 \(its sources: L\['x'\], L\['self'\].heads, L\['y'\]\)$/m);
  });

  it('session 14 tryout: publish --ttl 0 is bad usage said before Redis is asked (Redis said "invalid expire time")', () => {
    for (const ttl of ['0', '00']) {
      const r = cli(db, ['publish', NOWHERE, '--job', 'fixture2', '--rank', '0', '--ttl', ttl]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^pgo-ledger: --ttl ${ttl}: want whole seconds above 0 \\(leave it out for no expiry\\)$`, 'm'));
    }
  });

  it('session 14 tryout: report --job with --all is bad usage, not a --job dropped without a word', () => {
    const r = cli(db, ['report', '--job', 'fixture2', '--all', '-o', join(dir, 'both/')]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /report: give --job \(one profile\) or --all \(every profile\), not both/);
    assert.equal(r.stdout, '');
  });

  it('fleet 6: jobs --json lists each profile\'s runs, where the --exclude-run error points, and --exclude-run takes them', () => {
    const bad = cli(db, ['show', '--job', 'fixture2', '--exclude-run', 'nope']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--exclude-run nope: no such run .*jobs --json lists them by profile/);
    const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jobs.map((j) => [j.cache_key, j.runs]), [['fixture2:0:', ['fixture2:rank0:pid591@2026-11-26T05:55:19Z']]]);
    assert.equal(cli(db, ['show', '--job', 'fixture2', '--exclude-run', jobs[0].runs[0]]).status, 0);
  });
});

for (const dialect of DIALECTS) {
  it(`fleet 6 (${dialect}): jobs --json gives each profile its runs, first seen first`, () => {
    const db = ledgerAt(dialect, dir, 'runs.db');
    for (const f of ['trace-rank1.log', 'trace-rank0.log']) assert.equal(cli(db, ['ingest', join(W2, f)]).status, 0);
    const jobs = cli(db, ['jobs', '--json']);
    assert.equal(jobs.status, 0, jobs.stderr);
    const rows = jobs.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((j) => [j.cache_key, j.runs.length, j.runs.every((r: string) => r.startsWith(`fixture2:rank${j.rank}:`))]), [['fixture2:0:', 1, true], ['fixture2:1:', 1, true]]);
  });
}
