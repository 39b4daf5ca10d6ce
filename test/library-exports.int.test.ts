import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { decodeMegaCache } from '../src/codecs/megacache.ts';
import { decodeRemoteValue } from '../src/codecs/remote-value.ts';
import { exportBytes, profilePickle, publishMerged, publishProfile, writeLocalDir, ingestFile, openLedger, type Ledger } from '../src/index.ts';
import { joinProfiles } from '../src/model/join-profiles.ts';
import { fixture, FIXTURES, TORCH } from './support/fixtures.ts';
import { DIALECTS, ledgerAt } from './support/postgres.ts';
import { startRedis } from './support/redis-server.ts';
import { tempDir } from './support/tmp.ts';

// Session 22: the command line exported a trace-ingested profile byte for byte as PyTorch wrote
// it (each code state's source names their own objects, sourceNamesFor), while the library's
// exportBytes and publishProfile, told nothing, wrote equal names as one object: bytes PyTorch
// would not have written. The library's default is the command line's now.
for (const dialect of DIALECTS) describe(dialect, () => {
  const dir = tempDir();
  const LOCAL = fixture('torch-2.11/local/code_state_fixture_None_.pkl');
  const cold = async (name: string): Promise<{ l: Ledger; id: number; cacheKey: string }> => {
    const l = await openLedger(ledgerAt(dialect, dir, name));
    await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
    const p = l.profileByKey('fixture:None:')!;
    return { l, id: p.id, cacheKey: p.cacheKey };
  };

  it("a trace-ingested profile exported by the library's defaults is PyTorch's local file, byte for byte (every format, view or window)", async () => {
    const { l, id, cacheKey } = await cold('defaults.db');
    try {
      const profile = l.view(id).profile;
      assert.ok(Buffer.from(exportBytes(profile, { format: 'pickle', cacheKey })).equals(LOCAL), 'exportBytes pickle');
      assert.ok(Buffer.from(profilePickle(profile)).equals(LOCAL), 'profilePickle');
      assert.ok(Buffer.from(decodeRemoteValue(Buffer.from(exportBytes(profile, { format: 'remote-json', cacheKey })).toString('utf8').trim())).equals(LOCAL), 'remote-json');
      const bundle = decodeMegaCache(exportBytes(profile, { format: 'megacache', cacheKey }));
      assert.ok(Buffer.from(bundle.artifacts[0].content).equals(LOCAL), 'megacache');
      assert.ok(readFileSync(writeLocalDir(join(dir, `cache-${dialect}`), cacheKey, profile)).equals(LOCAL), 'writeLocalDir');
      // a window's fold, as export --as-of
      const last = l.profiles().find((p) => p.id === id)!.lastPosition!;
      assert.ok(Buffer.from(exportBytes(l.fold(id, { untilPosition: last }).profile, { format: 'pickle', cacheKey })).equals(LOCAL), 'a window');
      // told, it writes as told: equal names one object, not PyTorch's bytes
      assert.ok(!Buffer.from(exportBytes(profile, { format: 'pickle', cacheKey, sourceNames: 'shared' })).equals(LOCAL), "sourceNames: 'shared'");
      assert.ok(Buffer.from(exportBytes(profile, { format: 'pickle', cacheKey, sourceNames: 'per-code' })).equals(LOCAL), "sourceNames: 'per-code'");
      // a profile the ledger did not hand out (put together by the caller) keeps 'shared'
      const joined = joinProfiles({ codes: new Map() }, profile);
      assert.ok(Buffer.from(profilePickle(joined)).equals(Buffer.from(profilePickle(profile, 4, { sourceNames: 'shared' }))), 'a joined profile');
    } finally {
      await l.close();
    }
  });

  it("a warm-started run's profile (its loaded code ids' strings apart) exported by the library's defaults is PyTorch's file", async () => {
    // test/fixtures/multirun/probe7: run 3 loaded run 2's file and first compiled two more code ids
    const l = await openLedger(ledgerAt(dialect, dir, 'warm.db'));
    try {
      for (const n of [1, 2, 3]) await ingestFile(l, join(FIXTURES, 'multirun', 'probe7', `run${n}`, 'trace.log.gz'));
      const p = l.profileByKey('probe7:None:')!;
      const file = fixture('multirun/probe7/run3/code_state_probe7_None_.pkl');
      assert.ok(Buffer.from(exportBytes(l.view(p.id).profile, { format: 'pickle', cacheKey: p.cacheKey })).equals(file));
    } finally {
      await l.close();
    }
  });

  it('publishProfile and publishMerged write the same value PyTorch would (a real redis-server)', async () => {
    const { url } = await startRedis();
    const { l, id, cacheKey } = await cold('publish.db');
    const r = new Redis(url);
    try {
      const key = await publishProfile(url, cacheKey, l.view(id).profile);
      assert.ok(Buffer.from(decodeRemoteValue((await r.get(key))!)).equals(LOCAL), 'publishProfile');
      await r.del(key);
      await publishMerged(url, cacheKey, l.view(id).profile);
      assert.ok(Buffer.from(decodeRemoteValue((await r.get(key))!)).equals(LOCAL), 'publishMerged, onto nothing');
      // joined with what Redis holds (the same profile): the join, a new profile, as the one given
      await publishMerged(url, cacheKey, l.view(id).profile);
      assert.ok(Buffer.from(decodeRemoteValue((await r.get(key))!)).equals(LOCAL), 'publishMerged, joined');
    } finally {
      r.disconnect();
      await l.close();
    }
  });
});
