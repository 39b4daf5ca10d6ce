import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cli, cliTogether } from '../../test/support/cli.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { pickleProfile, unpickleProfile } from '../codecs/pickle/index.ts';
import { decodeRemoteValue, encodeRemoteValue } from '../codecs/remote-value.ts';
import { joinProfiles } from '../model/join-profiles.ts';
import { renderProfile } from '../model/render.ts';
import type { Profile } from '../model/profile.ts';
import { openLedger } from '../store/ledger.ts';
import { ingestFile } from './ingest-file.ts';
import { publishMerged } from './redis.ts';

const dir = tempDir();
const KEY = 'pt2:dynamo-pgo::fleet:None::c1';

/** Observation lines: one tensor of the given size per (code name, source). */
function lines(file: string, obs: { name: string; source?: string; size: number[]; run?: string }[]): string {
  writeFileSync(
    file,
    obs
      .map((o, i) =>
        JSON.stringify({ job: 'fleet', run: o.run ?? 'r1', time: new Date(Date.UTC(2026, 10, 26, 10, 0, i)).toISOString(), code: { filename: '/srv/m.py', firstlineno: 10, name: o.name, file_hash: 'abc' }, source: o.source ?? "L['x']", kind: 'tensor', size: o.size, stride: o.size.map((_, d) => o.size.slice(d + 1).reduce((a, b) => a * b, 1)) }),
      )
      .join('\n') + '\n',
  );
  return file;
}

async function profileOf(name: string, obs: Parameters<typeof lines>[1]): Promise<Profile> {
  const l = await openLedger(join(dir, `${name}.db`));
  await ingestFile(l, lines(join(dir, `${name}.jsonl`), obs));
  const p = l.view(l.profileByKey('fleet:None:')!.id).profile;
  await l.close();
  return p;
}

const decode = (v: string) => unpickleProfile(decodeRemoteValue(v));

/** A client of the test's own, closed after the file even when an assertion fails (else it reconnects for ever). */
function client(url: string): Redis {
  const c = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  after(() => c.disconnect());
  return c;
}

describe('issue 12.4: safe publish (a real redis-server)', () => {
  it('issue 12.4: publish --merge keeps what another job wrote between our read and our write (compare-and-set, retried)', async () => {
    const { url } = await startRedis();
    const ours = await profileOf('ours', [{ name: 'f', size: [8, 128] }]);
    const theirs = await profileOf('theirs', [{ name: 'f', size: [16, 128] }, { name: 'g', source: "L['y']", size: [3] }]);
    const other = client(url);
    const m = await publishMerged(url, 'fleet:None:', ours, {
      // the other job writes right after our first read: our first EXEC must write nothing
      beforeWrite: async (attempt) => {
        if (attempt === 1) await other.set(KEY, encodeRemoteValue(pickleProfile(theirs)));
      },
    });
    assert.equal(m.attempts, 2, 'the conflicting write made the first round write nothing');
    assert.equal(m.heldBefore, 2);
    const got = decode((await other.get(KEY))!);
    assert.equal(renderProfile(got), renderProfile(joinProfiles(theirs, ours)));
    assert.match(renderProfile(got), /g.*\n.*L\['y'\]: tensor size=\[3\]/);
    assert.match(renderProfile(got), /L\['x'\]: tensor size=\[\?, 128\]/, 'the two jobs\' sizes joined: dim 0 dynamic');

    // a writer that never stops: a bounded number of rounds, then a clear error, nothing written by us
    await assert.rejects(
      publishMerged(url, 'fleet:None:', ours, { maxAttempts: 3, beforeWrite: async () => void (await other.set(KEY, encodeRemoteValue(pickleProfile(theirs)))) }),
      /changed by another writer during each of 3 attempts.*nothing was written/,
    );
    other.disconnect();
  });

  it('issue 12.4: four publish --merge processes at once on one key: no job is lost', async () => {
    const { url } = await startRedis();
    const dbs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const db = join(dir, `racer-${i}.db`);
      const r = cli(db, ['ingest', lines(join(dir, `racer-${i}.jsonl`), [{ name: `f${i}`, size: [i + 1, 4] }, { name: 'shared', size: [10 + i] }])]);
      assert.equal(r.status, 0, r.stderr);
      dbs.push(db);
    }
    const go = join(dir, 'go');
    for (const d of await cliTogether(dbs.map((db) => ({ db, args: ['publish', url, '--job', 'fleet', '--merge'] })), go)) assert.equal(d.status, 0, d.stdout + d.stderr);
    const c = client(url);
    const got = renderProfile(decode((await c.get(KEY))!));
    c.disconnect();
    for (let i = 0; i < 4; i++) assert.match(got, new RegExp(`\\bf${i}\\b`), `job ${i}'s code id is in what Redis holds:\n${got}`);
    assert.match(got, /shared[^\n]*\n\s+L\['x'\]: tensor size=\[\?\]/, 'the shared entry is the join of all four');
  });

  it('issue 12.4: publish --dry-run prints the diff against what Redis holds, in diff\'s words and JSON, and leaves the value byte-identical', async () => {
    const { url } = await startRedis();
    const db = join(dir, 'dry.db');
    assert.equal(cli(db, ['ingest', lines(join(dir, 'dry.jsonl'), [{ name: 'f', size: [8, 128] }])]).status, 0);
    const theirs = await profileOf('dry-theirs', [{ name: 'f', size: [16, 128] }, { name: 'g', source: "L['y']", size: [3] }]);
    const c = client(url);
    const before = encodeRemoteValue(pickleProfile(theirs));
    await c.set(KEY, before, 'EX', 1000);

    const plain = cli(db, ['publish', url, '--job', 'fleet', '--dry-run']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^changed L\['x'\] in \S+:10:f: tensor size=\[16, 128\].* -> tensor size=\[8, 128\].*\n {4}size\[0\]: 16 -> 8\n/m);
    assert.match(plain.stdout, /^removed L\['y'\] in \S+:10:g: /m);
    assert.match(plain.stdout, /dry run, would replace pt2:dynamo-pgo::fleet:None::c1 \(--merge not given: add it to preview a merge\): exists; 2 entries would change \(1 code id\); nothing written/);

    const merged = cli(db, ['publish', url, '--job', 'fleet', '--dry-run', '--merge', '--json']);
    assert.equal(merged.status, 0, merged.stderr);
    const rows = merged.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => [r.change, r.source, r.code.name, r.dims]),
      [['changed', "L['x']", 'f', [{ dim: 'size[0]', from: '16', to: '?' }]]],
    );
    assert.equal(await c.get(KEY), before, 'dry runs write nothing');
    assert.ok((await c.ttl(KEY)) > 900, 'the TTL is untouched');

    // a dim the ledger made dynamic: where, as diff --json says it (trial s25b: no position)
    const grown = join(dir, 'dry-grown.db');
    assert.equal(cli(grown, ['ingest', lines(join(dir, 'dry-grown.jsonl'), [{ name: 'f', size: [8, 128] }, { name: 'f', size: [16, 128] }])]).status, 0);
    const dry = cli(grown, ['publish', url, '--job', 'fleet', '--dry-run', '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    const diff = cli(grown, ['diff', '--job', 'fleet', '--from', '1', '--json']);
    const dims = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as { change: string; dims: unknown[] }).filter((c) => c.change === 'changed').map((c) => c.dims);
    assert.deepEqual(dims(dry.stdout), [[{ dim: 'size[0]', from: '16', to: '?', position: 2 }]]);
    assert.deepEqual(dims(diff.stdout), [[{ dim: 'size[0]', from: '8', to: '?', position: 2 }]]);
    assert.match(cli(grown, ['publish', url, '--job', 'fleet', '--dry-run']).stdout, /size\[0\]: 16 -> \? \(at #2\)/);

    // an empty key: every entry would be added
    await c.del(KEY);
    const none = cli(db, ['publish', url, '--job', 'fleet', '--dry-run']);
    assert.match(none.stdout, /^added L\['x'\] in \S+:f: /m);
    assert.match(none.stdout, /holds nothing; 1 entry would change/);
    assert.equal(await c.exists(KEY), 0);
    c.disconnect();
  });

  it('issue 12.4: publishing an empty profile (everything retracted) is refused with exit 2, nothing written, --merge included', async () => {
    const { url } = await startRedis();
    const db = join(dir, 'empty.db');
    assert.equal(cli(db, ['ingest', lines(join(dir, 'empty.jsonl'), [{ name: 'f', size: [8, 128], run: 'bad' }])]).status, 0);
    assert.equal(cli(db, ['retract', '--run', 'bad']).status, 0);
    const c = client(url);
    await c.set(KEY, '{"data": "gARdlC4="}');
    for (const extra of [[], ['--merge'], ['--merge', '--allow-empty']]) {
      const r = cli(db, ['publish', url, '--job', 'fleet', ...extra]);
      assert.equal(r.status, 2, `${extra}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /fleet:None: has no code ids/);
      assert.equal(await c.get(KEY), '{"data": "gARdlC4="}', 'nothing written');
    }
    c.disconnect();
  });

  it('a value there that is no PGO profile: the library names its publishProfile as what replaces it, the command line its publish without --merge (session 19)', async () => {
    const { url } = await startRedis();
    const other = client(url);
    await other.set(KEY, 'not a profile');
    const ours = await profileOf('words', [{ name: 'f', size: [8, 128] }]);
    await assert.rejects(publishMerged(url, 'fleet:None:', ours), (e: Error) => /holds a value that is no PGO profile \(publishProfile replaces it\)/.test(e.message) && !e.message.includes('--merge'));
    const db = join(dir, 'words.db');
    for (const args of [['--merge'], ['--dry-run']]) {
      const r = cli(db, ['publish', url, '--job', 'fleet', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /holds a value that is no PGO profile \(publish without --merge replaces it\)/, args[0]);
    }
    assert.equal(await other.get(KEY), 'not a profile');
  });

  it('a damaged profile there: publish --merge and --dry-run say why, in the words pull says it (trial s23: they said only "no PGO profile")', async () => {
    const { url } = await startRedis();
    const other = client(url);
    const held = pickleProfile(await profileOf('damaged-held', [{ name: 'f', size: [8, 128] }]));
    // a profile cut in half: its pickle's frame declares more bytes than are left
    const damaged = encodeRemoteValue(held.subarray(0, held.length >> 1));
    await other.set(KEY, damaged);
    const pull = cli(join(dir, 'damaged-pull.db'), ['pull', url, '--job', 'fleet']);
    assert.equal(pull.status, 2, pull.stderr);
    // (the pickle's offset said to be of the decoded pickle: trial s36a)
    const why = /c1: (remote cache value: its "data" \(base64\) decodes to \d+ bytes that are no profile pickle: pickle: truncated: .+ of the decoded pickle\))\n/.exec(pull.stderr)?.[1];
    assert.ok(why, pull.stderr);
    await profileOf('damaged', [{ name: 'f', size: [8, 64] }]);
    for (const args of [['--merge'], ['--dry-run'], ['--dry-run', '--merge']]) {
      const r = cli(join(dir, 'damaged.db'), ['publish', url, '--job', 'fleet', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(`${KEY} holds a value that is no PGO profile (publish without --merge replaces it): ${why}\n`), `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(await other.get(KEY), damaged, 'nothing written');
    other.disconnect();
  });

  it('a key of another type (a hash): publish --merge and --dry-run name the key with Redis\'s words (trial s29b: WRONGTYPE with no key)', async () => {
    const { url } = await startRedis();
    const other = client(url);
    await other.hset(KEY, 'a', '1');
    await profileOf('wrongtype', [{ name: 'f', size: [8, 64] }]);
    for (const args of [['--merge'], ['--dry-run']]) {
      const r = cli(join(dir, 'wrongtype.db'), ['publish', url, '--job', 'fleet', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(r.stderr.includes(`: ${KEY}: WRONGTYPE`), `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(await other.type(KEY), 'hash', 'nothing written');
    other.disconnect();
  });
});
