import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cli } from '../../test/support/cli.ts';
import { TORCH, fixtureText } from '../../test/support/fixtures.ts';
import { freePort, startRedis } from '../../test/support/redis-server.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { unpickleProfile } from '../codecs/pickle/index.ts';
import { decodeRemoteValue } from '../codecs/remote-value.ts';
import { renderProfile } from '../model/render.ts';
import { openLedger } from '../store/ledger.ts';
import { ingestFile } from './ingest-file.ts';
import { publishProfile, pullProfiles, RedisError } from './redis.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();
  const COLD = fixtureText('torch-2.11/render/eager-cold-run.txt');

  describe('Redis, the remote cache PyTorch reads (a real redis-server)', () => {
    it('publish sets the key PyTorch reads; pull ingests it back; --all scans; TTL', async () => {
      const { url } = await startRedis();
      const l = await openLedger(ledgerAt(dialect, dir, 'a.db'));
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const key = await publishProfile(url, p.cacheKey, l.view(p.id).profile, { ttlSeconds: 600 });
      assert.equal(key, fixtureText('torch-2.11/remote/redis_key.txt').trim());
      const r = new Redis(url);
      const raw = await r.get(key);
      const ttl = await r.ttl(key);
      // a second job's entry, written the way PyTorch writes it (the fixture's value)
      await r.set('pt2:dynamo-pgo::other-job:None::c1', fixtureText('torch-2.11/remote/redis_value.json').trim());
      await r.set('unrelated', 'x');
      r.disconnect();
      assert.ok(ttl > 0 && ttl <= 600);
      assert.match(raw!, /^\{"data": "[A-Za-z0-9+/=]+"\}$/);
      assert.equal(renderProfile(unpickleProfile(decodeRemoteValue(raw!))), COLD);

      const l2 = await openLedger(ledgerAt(dialect, dir, 'b.db'));
      const one = await pullProfiles(l2, url, { cacheKey: 'fixture:None:' });
      assert.deepEqual(one.keys, [key]);
      assert.equal(renderProfile(l2.view(l2.profileByKey('fixture:None:')!.id).profile), COLD);
      const all = await pullProfiles(l2, url, { all: true });
      assert.deepEqual(all.keys, ['pt2:dynamo-pgo::fixture:None::c1', 'pt2:dynamo-pgo::other-job:None::c1']);
      assert.equal(renderProfile(l2.view(l2.profileByKey('other-job:None:')!.id).profile), COLD);
      assert.ok(all.duplicates > 0, 'the entry pulled before adds nothing');
      const missing = await pullProfiles(l2, url, { cacheKey: 'nobody:None:' });
      assert.deepEqual(missing.missing, ['pt2:dynamo-pgo::nobody:None::c1']);
    });

    it('a password in the URL; a wrong one is a clear error', async () => {
      const { url, port } = await startRedis({ password: 's3cret' });
      const l = await openLedger(ledgerAt(dialect, dir, 'c.db'));
      await ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'));
      const p = l.profileByKey('fixture:None:')!;
      await publishProfile(url, p.cacheKey, l.view(p.id).profile);
      await assert.rejects(publishProfile(`redis://:wrong@127.0.0.1:${port}`, p.cacheKey, l.view(p.id).profile), (e: unknown) => e instanceof RedisError && /refused the credentials/.test(e.message) && !e.message.includes('wrong'));
      await assert.rejects(publishProfile(`redis://127.0.0.1:${port}`, p.cacheKey, l.view(p.id).profile), /refused the credentials.*NOAUTH/);
    });

    it('a server that is down: a clear error within a bounded time, from the command line too', async () => {
      const port = await freePort();
      const l = await openLedger(ledgerAt(dialect, dir, 'd.db'));
      const t0 = Date.now();
      await assert.rejects(pullProfiles(l, `redis://127.0.0.1:${port}`, { all: true }, { timeoutMs: 2000 }), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
      assert.ok(Date.now() - t0 < 5000);
      const db = ledgerAt(dialect, dir, 'e.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'local/code_state_fixture_None_.pkl')]).status, 0);
      const r = cli(db, ['publish', `redis://127.0.0.1:${port}`, '--job', 'fixture']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /cannot reach Redis/);
      const bad = cli(db, ['pull', 'http://example.invalid', '--all']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /not a Redis URL/);
    });

    // Trial s36b: a server that takes the connection and closes it (an HTTP port, one that drops
    // clients) was said in ioredis's words: "Stream isn't writeable and enableOfflineQueue
    // options is false", "Connection is closed.", "write EPIPE".
    it('a server that is no Redis (it answers HTTP, or closes at once): said so, naming it', async () => {
      const { createServer } = await import('node:net');
      const servers = ['http', 'close'].map((mode) =>
        createServer((sock) => {
          sock.on('error', () => {});
          if (mode === 'close') return void sock.destroy();
          sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
        }),
      );
      const ports = await Promise.all(servers.map((s) => new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as { port: number }).port)))));
      try {
        const l = await openLedger(ledgerAt(dialect, dir, 'f.db'));
        for (const port of ports) {
          await assert.rejects(pullProfiles(l, `redis://127.0.0.1:${port}`, { all: true }, { timeoutMs: 2000 }), (e: unknown) => e instanceof RedisError && e.message.startsWith(`cannot reach Redis at redis://127.0.0.1:${port}: the server `) && /: the server (closed the connection without answering PING as Redis does|answered PING in another protocol, not Redis's)/.test(e.message) && !/Stream isn't writeable|Please report this/.test(e.message));
        }
        await l.close();
      } finally {
        for (const s of servers) s.close();
      }
    });
  });

  describe('issue 9: pull --all past bad entries', () => {
    it('issue 9.3: pull --all goes on past each bad entry, names its key, and exits 2 at the end', async () => {
      const { url } = await startRedis();
      const r = new Redis(url);
      const good = fixtureText('torch-2.11/remote/redis_value.json').trim();
      const evil = Buffer.from("cos\nsystem\n(S'touch /tmp/pwned'\ntR.", 'latin1').toString('base64');
      await r.set('pt2:dynamo-pgo::aaa:None::c1', good);
      await r.set('pt2:dynamo-pgo::bad-json:None::c1', '{not json');
      await r.set('pt2:dynamo-pgo::hostile:None::c1', JSON.stringify({ data: evil }));
      await r.rpush('pt2:dynamo-pgo::a-list:None::c1', 'x');
      await r.set('pt2:dynamo-pgo::garbage:c1', good);
      await r.set('pt2:dynamo-pgo::no-suffix', good);
      await r.set('pt2:dynamo-pgo::mast:x:None::c1', good);
      await r.set('pt2:dynamo-pgo::zzz:None::c1', good);
      r.disconnect();
      const db = ledgerAt(dialect, dir, 'pull-bad.db');
      const out = cli(db, ['pull', url, '--all']);
      assert.equal(out.status, 2, out.stderr);
      assert.match(out.stdout, /pulled 3 entries/);
      const lines = out.stderr.trim().split('\n');
      const named = (k: string, why: RegExp) => assert.ok(lines.some((l) => l.includes(k) && why.test(l)), `${k} named with ${why}: ${out.stderr}`);
      named('pt2:dynamo-pgo::bad-json:None::c1', /not JSON/);
      named('pt2:dynamo-pgo::hostile:None::c1', /refusing global os\.system.*at byte 0/);
      named('pt2:dynamo-pgo::a-list:None::c1', /WRONGTYPE/);
      named('pt2:dynamo-pgo::garbage:c1', /not a PGO cache key/);
      named('pt2:dynamo-pgo::no-suffix', /not a PGO entry key/);
      assert.match(out.stderr, /5 bad entries not pulled/);
      // a mast: key is PyTorch's own (get_extra_cache_key formats any pgo_extra_write_key unchecked)
      assert.ok(!out.stderr.includes('mast:x'), out.stderr);
      const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l).cache_key);
      assert.deepEqual(jobs, ['aaa:None:', 'mast:x:None:', 'zzz:None:']);
      const one = cli(ledgerAt(dialect, dir, 'pull-mast.db'), ['pull', url, '--job', 'mast:x']);
      assert.equal(one.status, 0, one.stderr);
      assert.match(one.stdout, /pulled 1 entry/);
    });
  });

  describe('trial s23: pull --all where every entry is bad', () => {
    it('exits 2 and leaves no ledger where it made one (it left an empty one); an existing ledger is kept', async (t) => {
      if (dialect !== 'sqlite') return t.skip('a SQLite file: a PostgreSQL database is made by its owner');
      const { existsSync } = await import('node:fs');
      const { url } = await startRedis();
      const r = new Redis(url);
      await r.set('pt2:dynamo-pgo::bad-json:None::c1', '{not json');
      await r.set('pt2:dynamo-pgo::no-suffix', 'x');
      r.disconnect();
      const db = ledgerAt(dialect, dir, 'pull-all-bad.db');
      const out = cli(db, ['pull', url, '--all']);
      assert.equal(out.status, 2, out.stderr);
      assert.match(out.stderr, /2 bad entries not pulled/);
      assert.match(out.stderr, new RegExp(`nothing was written: the new ledger ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is removed\n$`));
      assert.ok(!existsSync(db), 'no empty ledger left behind');
      // a ledger that was there is never taken back
      assert.equal(cli(db, ['ingest', join(TORCH, 'local/code_state_fixture_None_.pkl')]).status, 0);
      assert.equal(cli(db, ['pull', url, '--all']).status, 2);
      assert.ok(existsSync(db));
      assert.equal(cli(db, ['verify']).status, 0);
    });
  });

  describe('issue 9: Redis database index', () => {
    it('issue 9.11: a database index beyond the server\'s databases is an error, and database 0 is left alone', async () => {
      const { url } = await startRedis();
      const db = ledgerAt(dialect, dir, 'index.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'local/code_state_fixture_None_.pkl')]).status, 0);
      const r = cli(db, ['publish', `${url}/99`, '--job', 'fixture']);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /has no database 99: .*DB index is out of range/);
      const pull = cli(db, ['pull', `${url}/99`, '--all']);
      assert.equal(pull.status, 2);
      assert.match(pull.stderr, /has no database 99/);
      const bad = cli(db, ['publish', `${url}/x`, '--job', 'fixture']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /the path must be a database number/);
      const c = new Redis(url);
      assert.deepEqual(await c.keys('*'), [], 'nothing written to database 0');
      c.disconnect();
      // a database that exists is used
      assert.equal(cli(db, ['publish', `${url}/3`, '--job', 'fixture']).status, 0);
      const c3 = new Redis(`${url}/3`);
      assert.deepEqual(await c3.keys('*'), ['pt2:dynamo-pgo::fixture:None::c1']);
      c3.disconnect();
    });
  });
});
