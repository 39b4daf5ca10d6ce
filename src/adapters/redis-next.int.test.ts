import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cli } from '../../test/support/cli.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { pickleProfile, unpickleProfile } from '../codecs/pickle/index.ts';
import { decodeRemoteValue, encodeRemoteValue, remoteKey } from '../codecs/remote-value.ts';
import { entryOf } from '../model/observation.ts';
import { emptyProfile } from '../model/profile.ts';
import { updateAutomaticDynamic } from '../model/update.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  describe('issue 13.4: publish and pull in the layout after 2.11 (a real redis-server)', () => {
    it('publish writes the layout the data came in, or --torch; 2.11 refuses closures unless --merge-closures; pull reads it back', async () => {
      const dir = tempDir();
      const { url } = await startRedis();
      const p = emptyProfile();
      const code = { filename: '/w/m.py', firstlineno: 7, name: 'inner', file_hash: 'abc' };
      updateAutomaticDynamic(p, { ...code, closure_hash: 1 }, "L['x']", entryOf({ kind: 'size', size: [2, 3] }));
      updateAutomaticDynamic(p, { ...code, closure_hash: 2 }, "L['x']", entryOf({ kind: 'size', size: [4, 3] }));
      const bytes = Buffer.from(pickleProfile(p, { layout: '2.12' }));
      writeFileSync(join(dir, 'p.pkl'), bytes);
      const db = ledgerAt(dialect, dir, 'r.db');
      assert.equal(cli(db, ['ingest', join(dir, 'p.pkl'), '--job', 'rj']).status, 0);

      assert.equal(cli(db, ['publish', url, '--job', 'rj']).status, 0);
      const r = new Redis(url);
      // a failed assertion must not leave the client open (the test would never end)
      try {
        const got = async () => Buffer.from(decodeRemoteValue((await r.get(remoteKey('rj:None:')))!));
        assert.ok((await got()).equals(bytes));

        const refused = cli(db, ['publish', url, '--job', 'rj', '--torch', '2.11']);
        assert.equal(refused.status, 2);
        assert.match(refused.stderr, /closure_hash: hash\(abc\)\/w\/m\.py:7:inner \(closures 0x1, 0x2\)/);
        assert.ok((await got()).equals(bytes), 'nothing written on refusal');

        // the dry run refuses it as the publish does, and counts what would be written
        const dry = cli(db, ['publish', url, '--job', 'rj', '--torch', '2.11', '--dry-run']);
        assert.equal(dry.status, 2, dry.stdout);
        assert.match(dry.stderr, /closure_hash: hash\(abc\)\/w\/m\.py:7:inner \(closures 0x1, 0x2\)/);
        const dryJoined = cli(db, ['publish', url, '--job', 'rj', '--torch', '2.11', '--merge-closures', '--dry-run']);
        assert.equal(dryJoined.status, 0, dryJoined.stderr);
        assert.match(dryJoined.stdout, /^dry run, would replace pt2:dynamo-pgo::rj:None::c1 .*\(1 code id\); nothing written$/m);
        const joined = cli(db, ['publish', url, '--job', 'rj', '--torch', '2.11', '--merge-closures']);
        assert.equal(joined.status, 0, joined.stderr);
        // the message counts the code ids written (the view holds two)
        assert.equal(joined.stdout, 'set pt2:dynamo-pgo::rj:None::c1 (1 code id)\n');
        const merged = unpickleProfile(await got());
        assert.equal(merged.codes.size, 1);
        assert.equal((await got()).indexOf('closure_hash'), -1);
        const again = cli(db, ['publish', url, '--job', 'rj', '--torch', '2.11', '--merge-closures', '--merge']);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(again.stdout, 'set pt2:dynamo-pgo::rj:None::c1 (1 code id: 1 joined with the 1 Redis held)\n');
        assert.equal(unpickleProfile(await got()).codes.size, 1);
      } finally {
        r.disconnect();
      }

      // pull of a newer-layout value keeps the closures apart
      const r2 = new Redis(url);
      await r2.set(remoteKey('rj:None:'), encodeRemoteValue(bytes));
      r2.disconnect();
      const db2 = ledgerAt(dialect, dir, 'r2.db');
      const pull = cli(db2, ['pull', url, '--job', 'rj']);
      assert.equal(pull.status, 0, pull.stderr);
      const json = JSON.parse(cli(db2, ['show', '--job', 'rj', '--json']).stdout);
      assert.deepEqual(json.codes.map((c: { code: { closure_hash: number } }) => c.code.closure_hash), [1, 2]);
    });
  });
});
