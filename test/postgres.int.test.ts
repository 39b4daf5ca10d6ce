import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { migrations } from '../migrations/index.ts';
import { openLedger } from '../src/store/ledger.ts';
import { cli, cliSpawn, cliTogether } from './support/cli.ts';
import { pgBin } from './support/postgres-server.ts';
import { freshPgDatabase, ledgerCreated, numbersOf, pgAdminUrl, pgUrl, psql } from './support/postgres.ts';
import { freePort, startRedis } from './support/redis-server.ts';
import { TORCH } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';
import { undoProfileSpans } from './support/undo-migrations.ts';

/** A command's exit, its words and how long it took (the bound is that of issue 11.6: a clear error, never a hang). */
function timed(db: string, args: string[], input = '') {
  const t0 = Date.now();
  const r = cli(db, args, input);
  return { ...r, ms: Date.now() - t0 };
}

const SECRET = 'hunter2-secret';

/** A login role that may SELECT every table of the ledger's database `name`: the URL of `db` as that role. */
function readerRole(db: string, name: string, role: string): string {
  psql(`create role ${role} login password '${SECRET}'`);
  psql(`grant select on all tables in schema public to ${role}`, name);
  const u = new URL(db);
  u.username = role;
  u.password = SECRET;
  return u.toString();
}

describe('issue 11.6: PostgreSQL connection errors are clear input errors within 5 s, with nothing written', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  before(async () => {
    // accepts the connection and never answers
    silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const admin = () => new URL(pgAdminUrl());

  it('issue 11.6: a bad URL', () => {
    const r = timed(`postgres://u:${SECRET}@[::1:5432/x`, ['jobs']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not a valid PostgreSQL URL/);
    assert.ok(!r.stderr.includes(SECRET), 'the password is never printed');
  });

  it('issue 11.6: a wrong password', () => {
    const u = admin();
    u.password = SECRET;
    const r = timed(u.toString(), ['ingest', '-']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /password authentication failed.*check the user and password/);
    assert.ok(!r.stderr.includes(SECRET));
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  it('issue 11.6: a server that is down', async () => {
    const port = await freePort();
    const r = timed(`postgres://admin:${SECRET}@127.0.0.1:${port}/l`, ['ingest', '-']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot connect to postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/l: no server is listening there/);
    assert.ok(!r.stderr.includes(SECRET));
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  it('issue 11.6: a server that accepts the connection but never answers', () => {
    const port = (silent.address() as { port: number }).port;
    const r = timed(`postgres://admin:${SECRET}@127.0.0.1:${port}/l`, ['jobs']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /the server did not answer within \d+ s/);
    assert.ok(!r.stderr.includes(SECRET));
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  it('issue 11.6: a database that does not exist is never created', () => {
    const name = `l_missing_${process.pid}`;
    const r = timed(pgUrl(name), ['ingest', '-']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /database "l_missing_\d+" does not exist: the database must exist \(create it with createdb/);
    assert.ok(!r.stderr.includes(admin().password));
    assert.deepEqual(psql(`select count(*) from pg_database where datname = '${name}'`), ['0']);
  });

  it('issue 11.1: read and non-creating write commands on an empty database: a clear error, no table created', () => {
    const db = freshPgDatabase();
    for (const args of [['jobs'], ['show', '--job', 'x'], ['replay'], ['verify']]) {
      const r = timed(db, args);
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      // a read command as on SQLite (hostile-binary.e2e); replay, a write command that never creates, in its own words
      assert.match(r.stderr, args[0] === 'replay' ? /: no ledger there \(it holds no pgo-ledger tables; only ingest and pull create them\)/ : /holds no pgo-ledger ledger \(no tables at all\): a read command never creates one/);
    }
    assert.equal(ledgerCreated(db), false);
    // ingest creates the tables
    assert.equal(cli(db, ['ingest', '-'], '').status, 0);
    assert.equal(ledgerCreated(db), true);
  });

  it('issue 11.6: a database from a newer pgo-ledger is refused by the library too, nothing written', async () => {
    const db = freshPgDatabase();
    await (await openLedger(db)).close();
    psql("insert into kysely_migration(name, timestamp) values ('2099-01-01T00-00-future', '2099')", new URL(db).pathname.slice(1));
    await assert.rejects(openLedger(db), /written by a newer pgo-ledger \(unknown migrations: 2099-01-01T00-00-future\); it was left untouched/);
    await assert.rejects(openLedger(db, { readonly: true }), /written by a newer pgo-ledger/);
    assert.deepEqual(numbersOf(db, 'select count(*) from kysely_migration'), [Object.keys(migrations).length + 1]);
  });
});

describe('issue 11.1: every command behaves the same on both backends', () => {
  it('issue 11.1: profiles list in byte order (as SQLite does) in a database whose locale sorts otherwise', async () => {
    const name = `l_icu_${process.pid}`;
    psql(`create database ${name} template template0 locale_provider icu icu_locale 'en-US'`);
    assert.deepEqual(psql("select x from (values ('b'), ('a'), ('B'), ('A')) v(x) order by x", name), ['a', 'A', 'b', 'B'], 'the locale sorts case-insensitively first');
    const l = await openLedger(pgUrl(name));
    const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    l.append(['b', 'a', 'B', 'A'].map((job) => ({ kind: 'shape.observed' as const, cacheKey: `${job}:None:`, payload: { code, source: "L['x']", shape: { kind: 'scalar' as const, value: 1 }, automatic_dynamic: true }, run: null, time: 1, idempotencyKey: job })));
    assert.deepEqual(l.profiles().map((p) => p.key.job), ['A', 'B', 'a', 'b']);
    await l.close();
  });
});

describe('issue 11.2: the synchronous bridge', () => {
  it('issue 11.2: a statement that failed (not prepared) runs again once it can', async () => {
    const l = await openLedger(freshPgDatabase());
    const q = 'select value from later where key = ?';
    assert.throws(() => l.sql.get(q, 'k'), /relation "later" does not exist/);
    l.sql.exec('create table later(key text, value text)');
    l.sql.run('insert into later(key, value) values (?, ?)', 'k', 'v');
    assert.deepEqual(l.sql.get(q, 'k'), { value: 'v' });
    assert.throws(() => l.sql.run('insert into later(key, value) values (?, ?)', 'k', 'v').lastInsertRowid, /SQLite only/);
    await l.close();
  });
});

describe('issue 11.2: damage on PostgreSQL', () => {
  it('issue 11.2: a body that cannot be read is damage, said as on SQLite', () => {
    const db = freshPgDatabase();
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    const [id] = numbersOf(db, 'select body_id from events order by position limit 1');
    psql(`update bodies set payload = '\\x7b7b'::bytea where id = ${id}`, new URL(db).pathname.slice(1));
    const r = cli(db, ['replay']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`is damaged: event body ${id} cannot be read: .*JSON.*; run \`pgo-ledger verify --db postgres://admin:\\*\\*\\*@`));
  });
});

describe('trial 14.2: the server goes away mid-ingest', () => {
  it('trial 14.2: its connections killed during an observation ingest: exit 2 naming the server and what was committed; the log verifies; the same file again adds the rest', async () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    const file = join(tempDir(), 'big.jsonl');
    const n = 200_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ job: 'gone', run: 'r1', time: 1764000000 + i, code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'ab' }, source: "L['x']", kind: 'tensor', size: [8, (i % 50) + 1], stride: [(i % 50) + 1, 1] }));
    writeFileSync(file, lines.join('\n') + '\n');
    assert.equal(cli(db, ['ingest', '-'], lines[0] + '\n').status, 0); // the tables exist before the race
    const child = cliSpawn(db, ['ingest', file]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // once some batches are in, every connection to the database but this one is cut (as a server restart does)
    for (let i = 0; i < 600 && numbersOf(db, 'select count(*) from events')[0] < 2; i++) await new Promise((r) => setTimeout(r, 20));
    psql(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
    const code = await exited;
    const [count] = numbersOf(db, 'select count(*) from events');
    if (count === n) return; // the ingest won the race: nothing to see (never seen with 200k lines)
    assert.equal(code, 2, stderr);
    assert.match(stderr, /postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/l_[0-9a-f]+: the connection to the server was lost/);
    assert.match(stderr, /the first \d+ observation lines of .*big\.jsonl were committed/);
    assert.equal(cli(db, ['verify']).status, 0);
    const again = cli(db, ['ingest', file]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(numbersOf(db, 'select count(*) from events'), [n]);
  });
});

describe('trial 14.2: watch on a PostgreSQL ledger whose server goes away', () => {
  it('trial 14.2: watch exits 2 naming the server (it went on failing every file forever, "Client has encountered a connection error"), and a restart takes the files on once', async () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    const dir = tempDir();
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    const child = cliSpawn(db, ['watch', '--json', dir, '--interval', '0.2']);
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 1500));
    psql(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
    copyFileSync(join(TORCH, 'workload2/code_state_fixture2_0_.pkl'), join(dir, 'code_state_fixture2_0_.pkl'));
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    if (code === 'still running') child.kill('SIGKILL');
    assert.equal(code, 2, stderr);
    assert.match(stderr, /postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/l_[0-9a-f]+: the connection to the server was lost/);
    // what to do, and a --json reader sees the stop on stdout too (trial s27a: only the exit code)
    assert.match(stderr, /\n {2}watch stopped( while reading \S+ \(\d+ events? of it committed\))?: the inputs reported ingested are in the ledger \(0 events appended by them\); start watch again once the ledger can be written: it reads on from its last commit, adding nothing twice/);
    const last = JSON.parse(stdout.trim().split('\n').pop()!) as { error?: string };
    assert.match(last.error ?? '', /the connection to the server was lost[\s\S]*start watch again once the ledger can be written/);
    const again = cli(db, ['watch', dir, '--once']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(cli(db, ['watch', dir, '--once']).status, 0);
    assert.deepEqual(numbersOf(db, "select count(*) from events e join profiles p on p.id = e.profile_id where p.cache_key = 'fixture2:0:'"), [6]);
  });
});

describe('issue 11.8: roles', () => {
  it('issue 11.8: read commands need SELECT only; a write command under that role is refused by the server, nothing written', () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    const reader = readerRole(db, name, `reader_${process.pid}`);
    for (const args of [['jobs'], ['show', '--job', 'fixture'], ['history', '--job', 'fixture'], ['why', '--job', 'fixture'], ['export', '--job', 'fixture', '--format', 'pickle', '-o', join(tempDir(), 'p.pkl')], ['verify']]) {
      const r = cli(reader, args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const before = numbersOf(db, 'select count(*) from events');
    const w = cli(reader, ['replay']);
    assert.equal(w.status, 2, w.stderr);
    assert.match(w.stderr, /permission denied/);
    assert.ok(!w.stderr.includes(SECRET));
    assert.deepEqual(numbersOf(db, 'select count(*) from events'), before);
  });
  it("trial 14.2: a writer with the README's grants (USAGE on sequences, no UPDATE) ingests, retracts and replays; a reader calling take_positions is refused and takes none", () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    const writer = `writer_${process.pid}`;
    const reader = `reader2_${process.pid}`;
    psql(`create role ${writer} login password '${SECRET}'`);
    psql(`create role ${reader} login password '${SECRET}'`);
    // exactly the README's grants (section "One ledger for a team")
    psql(`grant usage on schema public to ${writer}, ${reader}`, name);
    psql(`grant select, insert, update, delete on all tables in schema public to ${writer}`, name);
    psql(`grant usage on all sequences in schema public to ${writer}`, name);
    psql(`grant select on all tables in schema public to ${reader}`, name);
    psql(`alter default privileges in schema public grant select, insert, update, delete on tables to ${writer}`, name);
    psql(`alter default privileges in schema public grant usage on sequences to ${writer}`, name);
    psql(`alter default privileges in schema public grant select on tables to ${reader}`, name);
    const as = (role: string) => {
      const u = new URL(db);
      u.username = role;
      u.password = SECRET;
      return u.toString();
    };
    const w = cli(as(writer), ['ingest', join(TORCH, 'workload2/trace-rank0.log')]);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /28 events appended/);
    assert.equal(cli(as(writer), ['retract', '--run', 'fixture2:rank0:pid591@2026-11-26T05:55:19Z']).status, 0);
    assert.equal(cli(as(writer), ['replay']).status, 0);
    assert.equal(cli(as(reader), ['verify']).status, 0);
    // a pgo-ledger upgrade: the database is behind, and a writer may not migrate it; it is told who can
    // (as the database was before the last four migrations: profile-spans' down, float-scalars and
    // mark-dynamic none to undo, events-compiled's index kept: it is made only if not there; the
    // table the first adds gets the default privileges)
    const lastFour = Object.keys(migrations).sort().slice(-4);
    assert.deepEqual(lastFour, ['2026-11-29T09-24-profile-spans', '2026-11-29T09-44-float-scalars', '2026-11-29T14-31-mark-dynamic', '2026-11-30T13-40-events-compiled']);
    psql(undoProfileSpans('postgres'), name);
    psql(`delete from kysely_migration where name in ('${lastFour.join("', '")}')`, name);
    const behind = cli(as(writer), ['ingest', join(TORCH, 'workload2/trace-rank1.log')]);
    assert.equal(behind.status, 2, behind.stderr);
    assert.match(behind.stderr, /cannot migrate .*permission denied.*the database's owner runs the migrations \(one write command as the owner, e\.g\. pgo-ledger replay\)/);
    assert.equal(cli(db, ['replay']).status, 0);
    assert.equal(cli(as(writer), ['ingest', join(TORCH, 'workload2/trace-rank1.log')]).status, 0);
    // a reader may not take positions (the function runs as its owner: it checks the caller)
    const seq = () => psql("select last_value from events_position_seq", name);
    const before = seq();
    const u = new URL(as(reader));
    const r = spawnSync(pgBin('psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-c', 'select take_positions(5)', `postgresql://${u.username}:${SECRET}@${u.host}${u.pathname}`], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /may not take positions/);
    assert.deepEqual(seq(), before);
  });
});

describe('trial 14.2: a ledger that refuses every write stops a many-input command at the first', () => {
  it('trial 14.2: a reader role ingesting a folder, or pulling from Redis, is told the server refused once (not once an input, not a bad entry)', async () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
    const reader = readerRole(db, name, `reader3_${process.pid}`);
    const before = numbersOf(db, 'select count(*) from events');
    const r = cli(reader, ['ingest', join(TORCH, 'megacache')]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.match(/permission denied/g)?.length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /inputs? failed/);
    const redis = await startRedis();
    try {
      const value = readFileSync(join(TORCH, 'remote/redis_value.json'), 'utf8');
      const c = new Redis(redis.url);
      await c.set('pt2:dynamo-pgo::a:None::c1', value);
      await c.set('pt2:dynamo-pgo::b:None::c1', value);
      await c.quit();
      const p = cli(reader, ['pull', redis.url, '--all']);
      assert.equal(p.status, 2, p.stderr);
      assert.equal(p.stderr.match(/permission denied/g)?.length, 1, p.stderr);
      assert.doesNotMatch(p.stderr, /bad entr/);
    } finally {
      await redis.stop();
    }
    assert.deepEqual(numbersOf(db, 'select count(*) from events'), before);
  });
});

describe('issue 11.4: migrations under an advisory lock', () => {
  it('issue 11.4: 8 processes open a fresh PostgreSQL database at once: all succeed, each migration recorded once', async () => {
    const db = freshPgDatabase();
    const dir = tempDir();
    const go = join(dir, 'go');
    const file = join(dir, 'one.jsonl');
    const done = await cliTogether(
      Array.from({ length: 8 }, (_, i) => {
        writeFileSync(`${file}.${i}`, JSON.stringify({ job: `w${i}`, code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'a' }, source: "L['x']", kind: 'scalar', value: i }) + '\n');
        return { db, args: ['ingest', `${file}.${i}`] };
      }),
      go,
    );
    assert.deepEqual(done.map((r) => r.status), Array(8).fill(0), done.map((r) => r.stderr).join('\n'));
    const names = psql('select name, count(*) from kysely_migration group by name order by name', new URL(db).pathname.slice(1));
    assert.deepEqual(names, Object.keys(migrations).sort().map((n) => `${n}\t1`));
    assert.deepEqual(numbersOf(db, 'select count(*) from events'), [8]);
    assert.equal(cli(db, ['verify']).status, 0);
  });
});

describe('issue 11.4: concurrent writers on PostgreSQL', () => {
  it('issue 11.4: 8 writer processes of different jobs sharing codes, sources, runs and shapes lose nothing, and verify passes', async () => {
    const db = freshPgDatabase();
    const dir = tempDir();
    assert.equal(cli(db, ['ingest', '-'], '').status, 0); // migrated once up front
    const N = 25_000; // three batches each
    const go = join(dir, 'go');
    const done = await cliTogether(
      Array.from({ length: 8 }, (_, k) => {
        // each writer meets the shared dictionary values in another order
        const lines = Array.from({ length: N }, (_, i) =>
          JSON.stringify({ job: `w${k}`, run: `run-${(i + k) % 7}`, code: { filename: '/srv/m.py', firstlineno: 1 + ((i * (k + 1)) % 50), name: 'f', file_hash: 'abc' }, source: `L['x${(i + 3 * k) % 13}']`, kind: 'tensor', size: [(i + k) % 5, 8], stride: [8, 1] }),
        );
        writeFileSync(join(dir, `w${k}.jsonl`), lines.join('\n') + '\n');
        return { db, args: ['ingest', join(dir, `w${k}.jsonl`)] };
      }),
      go,
    );
    assert.deepEqual(done.map((r) => r.status), Array(8).fill(0), done.map((r) => r.stderr).join('\n'));
    const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jobs.map((j) => [j.job, j.events]), Array.from({ length: 8 }, (_, k) => [`w${k}`, N]));
    assert.deepEqual(numbersOf(db, 'select count(*), count(distinct position) from events'), [8 * N, 8 * N]);
    const v = cli(db, ['verify']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });
});

describe('issue 11.7: events by COPY', () => {
  /** Every stored column of every event but the transaction (the same rows by COPY or by insert). */
  const stored = (db: string) =>
    psql("select position, profile_id, kind, code_id, source_id, body_id, time::text, run_id, origin_id, origin_line, compile_id, idempotency_key from events order by position", new URL(db).pathname.slice(1));
  const code = { filename: 'a\\b.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  // text and numbers COPY's text format must carry unchanged (control characters never reach a column: prepareEvent refuses them):
  // its escape, its null marker, its end marker, unicode, odd floats
  const hostile = ['plain', 'back\\slash', '\\.', '\\N', 'N', '', 'é ü 漢字 🎉', '\\\\t', '\\t', 'end\\', '0/1'];
  const times = [1, 1.5, 0, 1e14 + 0.25, 1795600000123.7, 253402300799999, 5e-324, 0.1 + 0.2];
  const events = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      kind: 'shape.observed' as const,
      cacheKey: `j${i % 3}:None:`,
      payload: { code, source: `L['x${i % 7}']`, shape: { kind: 'scalar' as const, value: i % 11 }, automatic_dynamic: true },
      run: i % 5 === 0 ? null : `run\\${i % 2}`,
      time: times[i % times.length],
      origin: i % 4 === 0 ? null : `o\\${i % 3}`,
      originLine: i % 6 === 0 ? null : i,
      compileId: i % 9 === 0 ? null : hostile[i % hostile.length],
      idempotencyKey: `k${i}`,
    }));

  it('issue 11.7: a batch by COPY stores exactly what the insert stores, hostile text and odd floats included', async () => {
    const evs = events(600);
    const [copied, inserted] = [freshPgDatabase(), freshPgDatabase()];
    const a = await openLedger(copied);
    assert.equal(a.append(evs).appended, 600); // one batch: COPY
    await a.close();
    const b = await openLedger(inserted);
    for (let i = 0; i < evs.length; i += 100) assert.equal(b.append(evs.slice(i, i + 100)).appended, 100); // small batches: the insert
    await b.close();
    const rows = stored(copied);
    assert.equal(rows.length, 600);
    assert.deepEqual(rows, stored(inserted));
    assert.deepEqual(cli(copied, ['history', '--job', 'j1']).stdout, cli(inserted, ['history', '--job', 'j1']).stdout);
  });

  it('issue 11.7: a COPY batch meeting a taken key stores nothing twice and keeps the batch order', async () => {
    const evs = events(600);
    const [db, ref] = [freshPgDatabase(), freshPgDatabase()];
    const a = await openLedger(db);
    assert.equal(a.append(evs.slice(200, 300)).appended, 100);
    const r = a.append(evs); // COPY fails on a taken key; the insert skips the 100
    assert.deepEqual([r.appended, r.duplicates], [500, 100]);
    // a batch repeating a key: the first of the two is kept
    const again = events(700).slice(600);
    const r2 = a.append([...again, ...again]);
    assert.deepEqual([r2.appended, r2.duplicates], [100, 100]);
    await a.close();
    const b = await openLedger(ref);
    for (const part of [evs.slice(200, 300), evs.slice(0, 200), evs.slice(300), again]) b.append(part);
    await b.close();
    const strip = (rows: string[]) => rows.map((l) => l.split('\t').slice(1).join('\t'));
    assert.deepEqual(strip(stored(db)), strip(stored(ref)), 'the same events in the same order (positions aside: a failed COPY leaves a gap)');
    assert.equal(cli(db, ['verify']).status, 0);
  });
});

describe('issue 11.7: a key taken while a COPY runs', () => {
  it('issue 11.7: another writer takes a key of a batch as its COPY runs: the batch runs again, nothing lost or doubled', async () => {
    const dir = tempDir();
    const file = join(dir, 'mix.jsonl');
    const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'a' };
    writeFileSync(file, Array.from({ length: 300 }, (_, i) => JSON.stringify({ job: 'j', time: 1795600000 + i, code, source: `L['x${i % 5}']`, kind: 'scalar', value: i })).join('\n') + '\n');
    const ref = freshPgDatabase();
    assert.equal(cli(ref, ['ingest', file]).status, 0);
    const [key] = numbersOf(ref, 'select idempotency_key from events order by position offset 150 limit 1');
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    assert.equal(cli(db, ['ingest', '-'], '').status, 0);
    // another writer (of another profile) holds an uncommitted event of that key, then commits
    const other = spawn(pgBin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', `begin; insert into events(profile_id, kind, body_id, time, idempotency_key) values (999999, 'shape.observed', 1, 0, ${key}); select pg_sleep(2); commit;`], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => other.on('exit', r));
    for (let i = 0; i < 100 && psql("select count(*) from pg_stat_activity where query like 'begin; insert into events%' and wait_event = 'PgSleep'")[0] !== '1'; i++) await new Promise((r) => setTimeout(r, 50));
    const r = cli(db, ['ingest', '--json', file]); // its COPY waits on the key, then fails when the other commits
    assert.equal(await exited, 0);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([JSON.parse(r.stdout).appended, JSON.parse(r.stdout).duplicates], [300, 0]);
    // the first attempt's positions were taken and rolled back: the batch ran again
    assert.ok(numbersOf(db, 'select min(position) from events where profile_id <> 999999')[0] > 300);
    psql('delete from events where profile_id = 999999', name);
    const unplaced = (text: string) => text.replace(/#\d+ /g, '#N ');
    for (const args of [['show', '--job', 'j'], ['history', '--job', 'j']]) assert.equal(unplaced(cli(db, args).stdout), unplaced(cli(ref, args).stdout), args[0]);
    assert.equal(cli(db, ['verify']).status, 0);
  });
});
