import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { freshLedger, psql } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';

const ok = (db: string, args: string[]) => {
  const r = cli(db, args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const jobs = (db: string) =>
  ok(db, ['jobs', '--json'])
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { job: string; rank: number | null; tag: string; events: number });

/** What a user sees of each profile: history, show, why and the exported pickle's bytes. */
function looks(db: string, dir: string, tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const profiles = jobs(db);
  assert.ok(profiles.length >= 4, `profiles of ${db}`);
  for (const p of profiles) {
    const sel = ['--job', p.job, ...(p.rank === null ? [] : ['--rank', String(p.rank)]), ...(p.tag ? ['--tag', p.tag] : [])];
    const k = `${p.job}:${p.rank}:${p.tag}`;
    out[`${k} history`] = ok(db, ['history', ...sel, '--json']);
    out[`${k} show`] = ok(db, ['show', ...sel]);
    out[`${k} why`] = ok(db, ['why', ...sel, '--json']);
    const pkl = join(dir, `${tag}-${k.replace(/:/g, '_')}.pkl`);
    ok(db, ['export', ...sel, '--format', 'pickle', '--allow-empty', '-o', pkl]);
    out[`${k} pickle`] = readFileSync(pkl).toString('hex');
  }
  out.jobs = ok(db, ['jobs', '--json']);
  return out;
}

describe('issue 11.5: copy moves a ledger between backends', () => {
  it('issue 11.5: the fixtures ledger (traces, pickles, mega-caches, a retraction) copied SQLite -> PostgreSQL -> SQLite reads the same; verify passes; a second copy appends 0', () => {
    const dir = tempDir();
    const a = join(dir, 'a.db');
    for (const f of ['traces/cold-local.log', 'traces/warm-local.log', 'local/code_state_fixture_None_.pkl', 'megacache/eager-cold-run.bin', 'workload2']) {
      ok(a, ['ingest', '--job', 'fixture', '--run', `r-${f.split('/').pop()}`, join(TORCH, f)]);
    }
    // (the mega-cache's entries are what cold-local.log's puts held: its run has no events, session 29)
    ok(a, ['retract', '--run', 'r-warm-local.log', '--reason', 'a bad run']);
    const pg = freshLedger('postgres');
    const b = join(dir, 'b.db');
    const events = jobs(a).reduce((n, p) => n + p.events, 0);
    // (178 since session 29: the pickle and the mega-cache bring no entry the traces did not hold)
    assert.ok(events > 150, `events: ${events}`);

    const first = JSON.parse(ok(a, ['copy', '--from', a, '--to', pg, '--json']));
    assert.equal(first.events, events);
    assert.equal(first.appended, events);
    assert.ok(first.imports >= 3, `imports: ${first.imports}`);
    const back = JSON.parse(ok(a, ['copy', '--from', pg, '--to', b, '--json']));
    assert.deepEqual(back, first);
    // the snapshots themselves, not just their count
    assert.equal(psql('select count(*) from imports', new URL(pg).pathname.slice(1))[0], String(first.imports));

    const want = looks(a, dir, 'a');
    assert.match(want['fixture:null: history'], /"position"/);
    for (const db of [pg, b]) {
      const got = looks(db, dir, db === b ? 'b' : 'pg');
      for (const k of Object.keys(want)) assert.equal(got[k], want[k], `${k} of ${db === b ? 'the SQLite copy' : 'PostgreSQL'}`);
      assert.match(ok(db, ['verify']), /match the log/);
    }
    assert.match(ok(a, ['verify']), /match the log/);
    // the retraction went as an event: the retracted run stays out of the copies' views
    assert.equal(JSON.parse(ok(pg, ['copy', '--from', a, '--to', pg, '--json'])).appended, 0);
    assert.equal(JSON.parse(ok(a, ['copy', '--from', a, '--to', pg, '--json'])).appended, 0);
    const again = JSON.parse(ok(a, ['copy', '--from', pg, '--to', b, '--json']));
    assert.deepEqual([again.appended, again.duplicates, again.imports], [0, events, 0]);
    // same to same
    const c = join(dir, 'c.db');
    assert.equal(JSON.parse(ok(a, ['copy', '--from', b, '--to', c, '--json'])).appended, events);
    assert.equal(looks(c, dir, 'c')['fixture:null: why'], want['fixture:null: why']);
    const pg2 = freshLedger('postgres');
    assert.equal(JSON.parse(ok(a, ['copy', '--from', pg, '--to', pg2, '--json'])).appended, events);
    assert.match(ok(pg2, ['verify']), /match the log/);
  });

  it('issue 11.5: copy needs two different ledgers and an existing source', () => {
    const dir = tempDir();
    const r = cli(join(dir, 'x.db'), ['copy', '--from', join(dir, 'none.db'), '--to', join(dir, 'y.db')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no ledger at/);
  });
});

describe('session 14 tryout: copy and --db', () => {
  it('copy without --from reads the ledger --db names, as every command does', () => {
    const dir = tempDir();
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    ok(a, ['ingest', join(TORCH, 'traces', 'cold-local.log')]);
    const r = JSON.parse(ok(a, ['copy', '--to', b, '--json'])) as { events: number; appended: number };
    assert.ok(r.events > 0);
    assert.equal(r.appended, r.events);
    assert.equal(ok(b, ['show', '--job', 'fixture']), ok(a, ['show', '--job', 'fixture']));
    const same = cli(a, ['copy', '--to', a]);
    assert.equal(same.status, 2);
    assert.match(same.stderr, /--from and --to name the same ledger/);
  });
});

describe('session 19: what copy carries besides the log', () => {
  it("copy carries the live merges (the copy's target follows its ranks as the source's did) and says it leaves watch's cursors, with what that costs", () => {
    const dir = tempDir();
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    const obs = (rank: number, size: number[]) =>
      JSON.stringify({ job: 'cp', rank, tag: '', run: `r${rank}`, time: '2026-11-26T10:00:00Z', code: { filename: '/srv/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' }, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] }) + '\n';
    const watched = join(dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'rank0.jsonl'), obs(0, [8, 4]));
    // a watch's pass leaves its cursor for the file
    ok(a, ['watch', watched, '--once']);
    ok(a, ['merge', '--from', 'cp:*', '--into', 'cp-all', '--live']);
    const out = ok(a, ['copy', '--to', b]);
    assert.match(out, /; 1 live merge \(cp-all:None: follows cp:\*\); watch's 1 cursor not carried: a watch on .*b\.db reads its inputs again, and what the log holds adds nothing\n$/);
    const r = JSON.parse(ok(a, ['copy', '--to', join(dir, 'c.db'), '--json'])) as { live_merges: number; watch_cursors_left: number };
    assert.deepEqual([r.live_merges, r.watch_cursors_left], [1, 1]);
    // the copy's target follows a rank ingested later, as the source's does
    // and on PostgreSQL, where defining one takes the ledger's lock alone
    const pg = freshLedger('postgres');
    assert.match(ok(a, ['copy', '--to', pg]), /; 1 live merge \(cp-all:None: follows cp:\*\)/);
    const late = join(dir, 'rank1.jsonl');
    writeFileSync(late, obs(1, [16, 4]));
    for (const db of [a, b, pg]) ok(db, ['ingest', late]);
    assert.match(ok(b, ['show', '--job', 'cp-all']), /size=\[\?, 4\]/);
    for (const db of [b, pg]) assert.equal(ok(db, ['show', '--job', 'cp-all']), ok(a, ['show', '--job', 'cp-all']));
    // a second copy adds no second live merge
    assert.match(ok(a, ['copy', '--to', b]), /; 1 live merge \(cp-all:None: follows cp:\*\)/);
    assert.match(ok(b, ['merge', '--into', 'cp-all', '--stop-live']), /1 live merge stopped/);
  });
});
