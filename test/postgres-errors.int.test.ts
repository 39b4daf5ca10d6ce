import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { freshPgDatabase, numbersOf, psql } from './support/postgres.ts';
import { startPgServer } from './support/postgres-server.ts';
import { freePort } from './support/redis-server.ts';
import { tempDir } from './support/tmp.ts';

// The cases test/postgres.int.test.ts leaves out: through the command line, copy included.

function timed(db: string, args: string[], input = '') {
  const t0 = Date.now();
  const r = cli(db, args, input);
  return { ...r, ms: Date.now() - t0 };
}

const LINE = JSON.stringify({ job: 'j', code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'a' }, source: "L['x']", kind: 'scalar', value: 3 }) + '\n';

describe('issue 11.6: more PostgreSQL errors, each clear within 5 s with nothing written', () => {
  it('issue 11.6: a host that does not resolve', () => {
    const r = timed('postgres://u:hunter2@no-such-host.invalid:5432/x', ['jobs']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot connect to postgres:\/\/u:\*\*\*@no-such-host\.invalid:5432\/x/);
    assert.ok(!r.stderr.includes('hunter2'));
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  });

  it('issue 11.6: a database from a newer pgo-ledger: ingest, read commands and copy into it are refused, nothing written', () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    assert.equal(cli(db, ['ingest', '-'], LINE).status, 0);
    psql("insert into kysely_migration(name, timestamp) values ('2099-01-01T00-00-future', '2099')", name);
    const before = psql('select (select count(*) from events), (select count(*) from kysely_migration), (select count(*) from information_schema.tables)', name);
    const dir = tempDir();
    const src = join(dir, 'src.db');
    assert.equal(cli(src, ['ingest', '-'], LINE.replace('"j"', '"k"')).status, 0);
    for (const [where, args] of [
      [db, ['ingest', '-']],
      [db, ['jobs']],
      [db, ['verify']],
      [src, ['copy', '--from', src, '--to', db]],
      [src, ['copy', '--from', db, '--to', join(dir, 'out.db')]],
    ] as const) {
      const r = timed(where, [...args], LINE);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /written by a newer pgo-ledger \(unknown migrations: 2099-01-01T00-00-future\)/, args.join(' '));
      assert.ok(r.ms < 5000, `${args.join(' ')}: ${r.ms} ms`);
    }
    assert.deepEqual(psql('select (select count(*) from events), (select count(*) from kysely_migration), (select count(*) from information_schema.tables)', name), before);
  });

  it('a ledger whose first migration was cut off (trial s27a: the server stopped mid-migration): read commands say so, not "an older pgo-ledger"; a write command finishes it', () => {
    const db = freshPgDatabase();
    const name = new URL(db).pathname.slice(1);
    // what Kysely's migrator leaves when its migration's transaction never commits: its record, empty
    psql('create table kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null)', name);
    for (const args of [['jobs'], ['verify']]) {
      const r = timed(db, args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /: its tables are half made \(its first migration was cut off: none is recorded\), which a read command never finishes: run a write command on it once \(e\.g\. pgo-ledger replay\)/);
      assert.doesNotMatch(r.stderr, /older pgo-ledger/);
    }
    assert.equal(cli(db, ['ingest', '-'], LINE).status, 0);
    assert.equal(cli(db, ['jobs']).status, 0);
  });

  it('issue 11.6: copy to a server that is down: a clear error within 5 s, the source untouched', async () => {
    const dir = tempDir();
    const src = join(dir, 'src.db');
    writeFileSync(join(dir, 'l.jsonl'), LINE);
    assert.equal(cli(src, ['ingest', join(dir, 'l.jsonl')]).status, 0);
    const port = await freePort();
    const r = timed(src, ['copy', '--from', src, '--to', `postgres://admin:hunter2@127.0.0.1:${port}/l`]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot connect to postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/l: no server is listening there/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
    assert.deepEqual(numbersOf(src, 'select count(*) from events'), [1]);
  });
});

describe('trial 17: a server with TLS', () => {
  it("sslmode=require against a certificate Node does not trust says what to do (it said only 'self-signed certificate'); uselibpqcompat=true connects", () => {
    const server = startPgServer({ ssl: true });
    try {
      const password = new URL(server.adminUrl).password;
      const req = cli(`${server.adminUrl}?sslmode=require`, ['jobs']);
      assert.equal(req.status, 2, req.stderr);
      assert.match(req.stderr, /cannot connect to postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=require: self-signed certificate: the server's TLS certificate is checked \(node-postgres takes sslmode=require, prefer and verify-ca as verify-full\): give its CA with sslrootcert=FILE, or add uselibpqcompat=true/);
      assert.ok(!req.stderr.includes(password), 'no password in messages');
      const compat = cli(`${server.adminUrl}?uselibpqcompat=true&sslmode=require`, ['ingest', '-'], LINE);
      assert.equal(compat.status, 0, compat.stderr);
      assert.match(cli(`${server.adminUrl}?uselibpqcompat=true&sslmode=require`, ['jobs']).stdout, /^j:None:\t1 event/);
    } finally {
      server.stop();
    }
  });
});
