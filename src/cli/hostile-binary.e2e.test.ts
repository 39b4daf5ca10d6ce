import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { encodeMegaCache, decodeMegaCache } from '../codecs/megacache.ts';
import { encodeRemoteValue } from '../codecs/remote-value.ts';
import { builtCli } from '../../test/support/build.ts';
import { fixture } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { freshPgDatabase, psql } from '../../test/support/postgres.ts';

// Session 17 trial 3: hostile binary inputs through the built command line, in real processes.
const dir = tempDir();
const P2 = fixture('torch-2.11/protocols/code_state_p2.pkl');
/** Byte 214 of the protocol 2 fixture is the SETITEMS of the first CodeId's state: a field put before it is one more field. */
const withCodeIdField = (name: string, value: Buffer) => {
  const key = Buffer.alloc(5 + name.length);
  key[0] = 0x58; // BINUNICODE
  key.writeUInt32LE(name.length, 1);
  key.write(name, 5, 'latin1');
  return Buffer.concat([P2.subarray(0, 214), key, value, P2.subarray(214)]);
};
/** None inside `depth` TUPLE1s: a tuple nested that deep. */
const nested = (depth: number) => Buffer.concat([Buffer.from([0x4e]), Buffer.alloc(depth, 0x85)]);
/** LONG4 of `len` bytes, all 0x01: an int of about 2.4 digits a byte. */
const long4 = (len: number) => {
  const b = Buffer.alloc(5 + len, 1);
  b[0] = 0x8b;
  b.writeInt32LE(len, 1);
  return b;
};
let n = 0;
function ingest(name: string, bytes: Buffer | string) {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const db = join(dir, `h${n++}.db`);
  const r = spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', '--job', 'h', file], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, file };
}
const inBundle = (pickle: Buffer) => {
  const m = decodeMegaCache(fixture('torch-2.11/megacache/single-pgo-artifact.bin'));
  return Buffer.from(encodeMegaCache({ ...m, artifacts: m.artifacts.map((a) => (a.type === 'pgo' ? { ...a, content: pickle } : a)) }));
};

describe('trial 17.3: hostile profile pickles', () => {
  it('an unknown field holding tuples nested 200,000 deep is bad input naming the field (exit 2), in a pickle, a mega-cache and a remote value: it was exit 70, "Maximum call stack size exceeded"', () => {
    const evil = withCodeIdField('newfield', nested(200_000));
    for (const [name, bytes] of [['deep.pkl', evil], ['deep.bin', inBundle(evil)], ['deep.json', encodeRemoteValue(evil)]] as const) {
      const r = ingest(name, bytes);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /unknown field newfield holds a tuple;.*nested at most 1000 deep/);
      assert.ok(r.stderr.includes(r.file), r.stderr);
      assert.doesNotMatch(r.stderr, /this is a bug/);
    }
  });
  it('tuples nested 1000 deep (more than CPython can pickle) are still kept, and 1001 refused', () => {
    assert.equal(ingest('d1000.pkl', withCodeIdField('newfield', nested(1000))).status, 0);
    const r = ingest('d1001.pkl', withCodeIdField('newfield', nested(1001)));
    assert.equal(r.status, 2, r.stderr);
  });
  it('a LONG4 of 8 MB is refused at its byte as more digits than CPython reads (exit 2): reading it took minutes, quadratic in its length', () => {
    const r = ingest('long4.pkl', withCodeIdField('closure_hash', long4(8 << 20)));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /pickle: an int of more than 4300 decimal digits .*\(at byte 231\)/);
  });
  it("ints up to CPython's 4300 digits are read, one more is refused (exit 2), as text (LONG) and as LONG4", () => {
    const text = (digits: number) => Buffer.from(`L-${'9'.repeat(digits)}L\n`, 'latin1');
    assert.equal(ingest('l4300.pkl', withCodeIdField('closure_hash', text(4300))).status, 0);
    assert.equal(ingest('l4301.pkl', withCodeIdField('closure_hash', text(4301))).status, 2);
    // as LONG4 (little-endian, a sign byte when the top bit is set): 10**4300 - 1 has 4300 digits, 10**4300 one more
    const asLong4 = (v: bigint) => {
      let hex = v.toString(16);
      if (hex.length % 2) hex = '0' + hex;
      const le = Buffer.from(hex, 'hex').reverse();
      const body = le[le.length - 1] & 0x80 ? Buffer.concat([le, Buffer.from([0])]) : le;
      const head = Buffer.from([0x8b, 0, 0, 0, 0]);
      head.writeInt32LE(body.length, 1);
      return Buffer.concat([head, body]);
    };
    assert.equal(ingest('long4-4300.pkl', withCodeIdField('closure_hash', asLong4(10n ** 4300n - 1n))).status, 0);
    assert.equal(ingest('long4-4301.pkl', withCodeIdField('closure_hash', asLong4(10n ** 4300n))).status, 2);
  });
});

describe('trial 17.3: SQLite files handed over as ledgers', () => {
  const ledger = (name: string, change: string) => {
    const db = join(dir, `${name}.db`);
    const r = spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', '--job', 'h', join(dir, 'p2.pkl')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const d = new Database(db);
    d.exec(change);
    d.close();
    return spawnSync(process.execPath, [builtCli(), '--db', db, 'verify'], { encoding: 'utf8' });
  };
  it("verify names an event row whose kind is not its body's, or whose time is text: both passed as matching the log (exit 0)", () => {
    writeFileSync(join(dir, 'p2.pkl'), P2);
    assert.equal(ledger('fine', 'select 1').status, 0);
    const kind = ledger('kind', "update events set kind = 'run.retracted' where position = 2");
    assert.equal(kind.status, 1, kind.stdout + kind.stderr);
    assert.match(kind.stdout, /event at position 2: kind "run\.retracted", but its body's kind is entry\.imported/);
    const time = ledger('time', "update events set time = 'yesterday' where position = 1");
    assert.equal(time.status, 1, time.stdout + time.stderr);
    assert.match(time.stdout, /event at position 1: time "yesterday" is not a number/);
  });
});

describe("trial 17.3: another program's SQLite file given as --db", () => {
  it('a write command refuses it and leaves it untouched (no ledger tables, no WAL): ingest made it a ledger, exit 0', () => {
    const db = join(dir, 'foreign.db');
    const d = new Database(db);
    d.exec('create table t(x); insert into t values (1)');
    d.close();
    writeFileSync(join(dir, 'p2.pkl'), P2);
    const r = spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', '--job', 'h', join(dir, 'p2.pkl')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /foreign\.db is a database of something else \(tables: t\), not a pgo-ledger ledger; it was left untouched/);
    const after = new Database(db, { readonly: true });
    assert.deepEqual(after.prepare("select name from sqlite_master where type = 'table'").all(), [{ name: 't' }]);
    assert.equal(after.pragma('journal_mode', { simple: true }), 'delete');
    after.close();
  });
  /** A ledger of p2.pkl (job h) at `name`, then `damage` run on its file by hand. */
  const damagedLedger = (name: string, damage: string) => {
    const db = join(dir, name);
    writeFileSync(join(dir, 'p2.pkl'), P2);
    assert.equal(spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', '--job', 'h', join(dir, 'p2.pkl')]).status, 0);
    const d = new Database(db);
    d.exec(damage);
    d.close();
    return db;
  };

  it('a ledger whose record of migrations was dropped is said to be damaged, not made again', () => {
    const db = damagedLedger('no-record.db', 'drop table kysely_migration');
    const r = spawnSync(process.execPath, [builtCli(), '--db', db, 'ingest', '--job', 'h', join(dir, 'p2.pkl')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /holds a ledger's tables but no record of its migrations \(kysely_migration\): it is damaged/);
    // a read command says the same (it said the file "holds no ledger tables")
    const show = spawnSync(process.execPath, [builtCli(), '--db', db, 'show', '--job', 'h'], { encoding: 'utf8' });
    assert.equal(show.status, 2, show.stderr);
    assert.match(show.stderr, /holds a ledger's tables but no record of its migrations \(kysely_migration\): it is damaged/);
  });

  const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('a ledger with its events table dropped is said to be damaged by every command, show and verify included, with what to do: show answered from the views, verify pointed at verify (trial 18)', () => {
    const db = damagedLedger('no-events.db', 'drop table events');
    for (const args of [['show', '--job', 'h'], ['jobs'], ['why', '--job', 'h'], ['history', '--job', 'h'], ['verify'], ['ingest', '--job', 'h2', join(dir, 'p2.pkl')]]) {
      const r = spawnSync(process.execPath, [builtCli(), '--db', db, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stdout, '', args[0]);
      assert.equal(r.stderr, `pgo-ledger: ${db} is damaged: the ledger's table events is missing (dropped by hand?); what the log kept there is lost and no command makes it again: restore the ledger from a backup\n`, args[0]);
    }
  });

  it("a ledger with a view's table dropped: verify names every table missing and says copy makes a whole ledger (replay cannot), and copy does (trial 18)", () => {
    const db = damagedLedger('no-views.db', 'drop table code_states; drop table history');
    const v = spawnSync(process.execPath, [builtCli(), '--db', db, 'verify'], { encoding: 'utf8' });
    assert.equal(v.status, 2, v.stderr);
    const advice = `the log is whole: \`pgo-ledger copy --from ${db} --to NEW-LEDGER\` makes a whole ledger of it (\`replay\` cannot: it rebuilds the views' rows, not their tables), its live merges included; not watch's cursors: a watch on the new ledger reads its inputs again, and what the log holds adds nothing`;
    assert.equal(v.stderr, `pgo-ledger: ${db} is damaged: the ledger's tables code_states, history are missing (dropped by hand?); ${advice}\n`);
    assert.doesNotMatch(v.stderr, /run `pgo-ledger verify/);
    // a command that meets one of them says the same of it
    const show = spawnSync(process.execPath, [builtCli(), '--db', db, 'show', '--job', 'h'], { encoding: 'utf8' });
    assert.equal(show.status, 2, show.stderr);
    assert.match(show.stderr, new RegExp(`is damaged: the ledger's table code_states is missing \\(dropped by hand\\?\\); ${escaped(advice)}`));
    // what it advises repairs it; replay, which it says cannot, does not
    const replay = spawnSync(process.execPath, [builtCli(), '--db', db, 'replay'], { encoding: 'utf8' });
    assert.equal(replay.status, 2, replay.stderr);
    const fresh = join(dir, 'from-no-views.db');
    const copy = spawnSync(process.execPath, [builtCli(), 'copy', '--from', db, '--to', fresh], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    const again = spawnSync(process.execPath, [builtCli(), '--db', fresh, 'verify'], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.equal(spawnSync(process.execPath, [builtCli(), '--db', fresh, 'show', '--job', 'h'], { encoding: 'utf8' }).stdout.split('\n')[0], 'hash(d02731e6)/srv/train/train.py:24:f:');
  });

  it("copy repairs a ledger whose live merges' and watch's tables were dropped: nothing of them to carry (session 19)", () => {
    const db = damagedLedger('no-merges.db', 'drop table live_merges; drop table watch_cursors');
    const fresh = join(dir, 'from-no-merges.db');
    const copy = spawnSync(process.execPath, [builtCli(), 'copy', '--from', db, '--to', fresh], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(copy.stdout, /; 1 import snapshot\n$/);
    const again = spawnSync(process.execPath, [builtCli(), '--db', fresh, 'verify'], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stdout + again.stderr);
  });
});

describe('trial 18: PostgreSQL says what SQLite says of a database that is no ledger, or a damaged one', () => {
  const run = (db: string, ...args: string[]) => spawnSync(process.execPath, [builtCli(), '--db', db, ...args], { encoding: 'utf8' });
  const dbName = (url: string) => new URL(url).pathname.slice(1);
  /** A PostgreSQL ledger of p2.pkl (job h), then `damage` run on it by hand. */
  const pgLedger = (damage: string) => {
    const url = freshPgDatabase();
    writeFileSync(join(dir, 'p2.pkl'), P2);
    const r = run(url, 'ingest', '--job', 'h', join(dir, 'p2.pkl'));
    assert.equal(r.status, 0, r.stderr);
    psql(damage, dbName(url));
    return url;
  };

  it("a database holding another program's tables is refused by a write command and left untouched: ingest made it a ledger, exit 0", () => {
    const url = freshPgDatabase();
    psql('create table t(x int); insert into t values (1)', dbName(url));
    const r = run(url, 'ingest', '--job', 'h', join(dir, 'p2.pkl'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgo-ledger: \S+ is a database of something else \(tables: t\), not a pgo-ledger ledger; it was left untouched: give an empty database as --db\n$/);
    assert.deepEqual(psql("select tablename from pg_tables where schemaname = 'public'", dbName(url)), ['t']);
  });

  it("a read command given another program's database, or one with no tables, says so in one message on SQLite and PostgreSQL (session 19)", () => {
    const sqlite = (name: string, sql: string) => {
      const db = join(dir, name);
      const d = new Database(db);
      d.exec(sql);
      d.close();
      return db;
    };
    const foreignPg = freshPgDatabase();
    psql('create table t(x int); insert into t values (1)', dbName(foreignPg));
    const cases = [
      { what: 'foreign', dbs: [sqlite('foreign-read.db', 'create table t(x); insert into t values (1)'), foreignPg] },
      { what: 'empty', dbs: [sqlite('empty-read.db', 'pragma user_version = 0'), freshPgDatabase()] },
    ];
    for (const { what, dbs } of cases) {
      const said = dbs.map((db) => {
        const r = run(db, 'jobs');
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stdout, '');
        // the path as the message names it: a SQLite file's, a URL's database
        return r.stderr.replace(db.startsWith('postgres') ? /^pgo-ledger: \S+/ : `pgo-ledger: ${db}`, 'pgo-ledger: DB');
      });
      assert.equal(said[1], said[0], what);
      assert.equal(
        said[0],
        what === 'foreign'
          ? 'pgo-ledger: DB is a database of something else (tables: t), not a pgo-ledger ledger: a read command never makes one (check --db or PGO_LEDGER_DB)\n'
          : 'pgo-ledger: DB holds no pgo-ledger ledger (no tables at all): a read command never creates one (check --db or PGO_LEDGER_DB; ingest or pull creates a ledger)\n',
      );
    }
    assert.deepEqual(psql("select tablename from pg_tables where schemaname = 'public'", dbName(foreignPg)), ['t']);
  });

  it("a ledger whose record of migrations was dropped is said to be damaged, by write and read commands", () => {
    const url = pgLedger('drop table kysely_migration');
    for (const args of [['ingest', '--job', 'h', join(dir, 'p2.pkl')], ['show', '--job', 'h']]) {
      const r = run(url, ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /holds a ledger's tables but no record of its migrations \(kysely_migration\): it is damaged, and was left untouched/, args[0]);
    }
  });

  it('a table dropped is said as SQLite says it, naming the table and what repairs it, not in PostgreSQL\'s words', () => {
    const noEvents = pgLedger('drop table events cascade');
    for (const args of [['show', '--job', 'h'], ['verify'], ['ingest', '--job', 'h2', join(dir, 'p2.pkl')]]) {
      const r = run(noEvents, ...args);
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^pgo-ledger: \S+ is damaged: the ledger's table events is missing \(dropped by hand\?\); what the log kept there is lost and no command makes it again: restore the ledger from a backup\n$/, args[0]);
    }
    const noViews = pgLedger('drop table code_states cascade');
    for (const args of [['verify'], ['show', '--job', 'h']]) {
      const r = run(noViews, ...args);
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^pgo-ledger: \S+ is damaged: the ledger's table code_states is missing \(dropped by hand\?\); the log is whole: `pgo-ledger copy --from \S+ --to NEW-LEDGER` makes a whole ledger of it/, args[0]);
      assert.doesNotMatch(r.stderr, /relation .* does not exist/, args[0]);
    }
  });
});
