import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, fixtureText } from '../../test/support/fixtures.ts';
import { crc32 } from '../model/file-hash.ts';
import { renderProfile } from '../model/render.ts';
import { decodeMegaCache, encodeMegaCache, MegaCacheError } from './megacache.ts';
import { unpickleProfile } from './pickle/index.ts';
import { cacheKeyOfRemoteKey, decodeRemoteValue, encodeRemoteValue, profileOfRemoteValue, remoteKey } from './remote-value.ts';

const BUNDLES = ['megacache/eager-cold-run.bin', 'megacache/eager-warm-run.bin', 'megacache/inductor-cuda-run.bin', 'megacache/single-pgo-artifact.bin', 'workload2/megacache-rank1.bin'];

describe('mega-cache bundles written by PyTorch 2.11', () => {
  for (const f of BUNDLES) {
    it(`${f}: every pgo artifact reads; re-written byte-identical`, () => {
      const bytes = fixture(`torch-2.11/${f}`);
      const m = decodeMegaCache(bytes);
      const pgo = m.artifacts.filter((a) => a.type === 'pgo');
      assert.ok(pgo.length > 0);
      for (const a of pgo) assert.ok(unpickleProfile(a.content).codes.size > 0);
      assert.ok(Buffer.from(encodeMegaCache(m)).equals(bytes));
    });
  }
  it('the cold run: 9 pgo artifacts under fixture:None:, the last one is the final profile', () => {
    const m = decodeMegaCache(fixture('torch-2.11/megacache/eager-cold-run.bin'));
    const pgo = m.artifacts.filter((a) => a.type === 'pgo');
    assert.equal(pgo.length, 9);
    assert.ok(pgo.every((a) => a.key === 'fixture:None:'));
    assert.equal(renderProfile(unpickleProfile(pgo[8].content)), fixtureText('torch-2.11/render/eager-cold-run.txt'));
  });
  it('keeps the other artifact types in order', () => {
    const m = decodeMegaCache(fixture('torch-2.11/megacache/inductor-cuda-run.bin'));
    const counts = new Map<string, number>();
    for (const a of m.artifacts) counts.set(a.type, (counts.get(a.type) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { inductor: 10, aot_autograd: 8, pgo: 9, autotune: 2 });
  });
  it('a flipped byte fails the checksum, with the offset', () => {
    const b = Buffer.from(fixture('torch-2.11/megacache/eager-warm-run.bin'));
    b[100] ^= 0x40;
    assert.throws(() => decodeMegaCache(b), (e: unknown) => e instanceof MegaCacheError && /checksum mismatch/.test(e.message));
  });
  it('a truncated bundle (checksum fixed up) names what is missing and where', () => {
    const b = Buffer.from(fixture('torch-2.11/megacache/eager-warm-run.bin')).subarray(0, 400);
    const cut = Buffer.from(b);
    cut.writeUInt32BE(crc32(cut.subarray(4)), 0);
    assert.throws(() => decodeMegaCache(cut), /truncated: .*\(at byte \d+\)/);
  });
  it('a bundle cut short as it is (its checksum then fails too) is said to be cut off, with what is missing and where', () => {
    const whole = fixture('torch-2.11/megacache/eager-warm-run.bin');
    const cut = Buffer.from(whole).subarray(0, 400);
    assert.throws(
      () => decodeMegaCache(cut),
      (e: unknown) => e instanceof MegaCacheError && /^mega-cache: cut off: truncated: .* bytes, \d+ left; checksum mismatch: .*\(at byte \d+\)$/.test(e.message) && e.offset > 0 && e.offset < 400,
    );
  });
});

describe('remote cache value and key', () => {
  it('reads the value PyTorch wrote to Redis', () => {
    const pickle = decodeRemoteValue(fixtureText('torch-2.11/remote/redis_value.json'));
    assert.equal(renderProfile(unpickleProfile(pickle)), fixtureText('torch-2.11/render/eager-cold-run.txt'));
    assert.equal(encodeRemoteValue(pickle) + '\n', fixtureText('torch-2.11/remote/redis_value.json'));
  });
  it('key form', () => {
    assert.equal(remoteKey('fixture:None:'), fixtureText('torch-2.11/remote/redis_key.txt').trim());
    assert.equal(cacheKeyOfRemoteKey('pt2:dynamo-pgo::a:b:0:t:c1'), 'a:b:0:t');
    assert.equal(cacheKeyOfRemoteKey('pt2:other::x'), null);
  });
  it('bad values are clear errors', () => {
    assert.throws(() => decodeRemoteValue('{"data": 3}'), /remote cache value: data:/);
    assert.throws(() => decodeRemoteValue('nope'), /not JSON/);
    assert.throws(() => decodeRemoteValue('{"data": "@@@"}'), /not base64/);
  });
  // Trial s36a: "(at byte 2)" read as a byte of the JSON file; it is one of the pickle in "data".
  it("a pickle error's offset is said to be of the decoded pickle", () => {
    const text = JSON.stringify({ data: Buffer.from([0x80, 0x04, 0x95, 0x00, 0x00, 0x00]).toString('base64') });
    assert.throws(() => profileOfRemoteValue(text), (e: Error) => e.message === 'remote cache value: its "data" (base64) decodes to 6 bytes that are no profile pickle: pickle: truncated: opcode FRAME needs 8 more bytes, 3 left (at byte 2 of the decoded pickle)' && e.cause instanceof Error);
    assert.equal(renderProfile(profileOfRemoteValue(fixtureText('torch-2.11/remote/redis_value.json')).profile), fixtureText('torch-2.11/render/eager-cold-run.txt'));
  });
});
