import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture } from '../../../test/support/fixtures.ts';
import { decodeMegaCache, MegaCacheError } from '../megacache.ts';
import { PickleError, ProfileShapeError, unpickle, unpickleProfile } from './index.ts';
import { dictGet, type PyInstance } from './py-values.ts';

const isOurs = (e: unknown) => e instanceof PickleError || e instanceof ProfileShapeError;
const P4 = fixture('torch-2.11/protocols/code_state_p4.pkl');
const P0 = fixture('torch-2.11/protocols/code_state_p0.pkl');

/** A small deterministic PRNG so a failing fuzz case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

describe('hostile pickles', () => {
  it('refuses os.system by name (protocol 0 GLOBAL)', () => {
    const evil = Buffer.from("cos\nsystem\n(S'touch /tmp/pwned'\ntR.", 'latin1');
    assert.throws(() => unpickleProfile(evil), (e: unknown) => e instanceof PickleError && /refusing global os\.system/.test(e.message) && e.offset === 0);
  });
  it('refuses os.system by name (protocol 4 STACK_GLOBAL)', () => {
    const evil = Buffer.from([0x80, 4, 0x8c, 2, ...Buffer.from('os'), 0x8c, 6, ...Buffer.from('system'), 0x93, 0x8c, 1, 0x78, 0x85, 0x52, 0x2e]);
    assert.throws(() => unpickleProfile(evil), /refusing global os\.system.*at byte 14/);
  });
  it('refuses calling an allowed class it must never call', () => {
    const evil = Buffer.from("ctorch._dynamo.pgo\nCodeId\n(tR.", 'latin1');
    assert.throws(() => unpickleProfile(evil), /refusing to call torch\._dynamo\.pgo\.CodeId/);
  });
  it('an unknown opcode names itself and its offset', () => {
    const b = Buffer.from(P4);
    b[11] = 0xff;
    assert.throws(() => unpickleProfile(b), /unknown opcode 0xff \(at byte 11\)/);
  });
  it('a huge declared length is refused without allocating it', () => {
    const b = Buffer.from([0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x2e]);
    assert.throws(() => unpickleProfile(b), /truncated: opcode BINUNICODE8 declares 1099511627775 bytes, 1 left/);
  });
  it('a valid pickle of something else is a shape error', () => {
    assert.throws(() => unpickleProfile(Buffer.from([0x80, 4, 0x4b, 5, 0x2e])), /top object is a int/);
  });
  it('every truncation of a protocol 4 and a protocol 0 file is a clear error', () => {
    for (const src of [P4, P0]) {
      for (let n = 0; n < src.length; n++) {
        assert.throws(() => unpickleProfile(src.subarray(0, n)), isOurs, `cut at ${n}`);
      }
    }
  });
  it('fuzz: 4000 mutated fixtures end in a profile or a clear error, never anything else', () => {
    const r = rng(42);
    for (let i = 0; i < 4000; i++) {
      const src = i % 2 ? P4 : P0;
      const b = Buffer.from(src);
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        unpickleProfile(b);
      } catch (e) {
        assert.ok(isOurs(e), `mutation ${i}: ${(e as Error)?.stack}`);
      }
    }
  });
  it('fuzz: mutated mega-caches (checksum fixed up) end in a bundle or a clear error', () => {
    const r = rng(7);
    const src = fixture('torch-2.11/megacache/eager-cold-run.bin');
    const { crc32 } = crcMod;
    for (let i = 0; i < 1500; i++) {
      const b = Buffer.from(src);
      b[4 + Math.floor(r() * (b.length - 4))] = Math.floor(r() * 256);
      b.writeUInt32BE(crc32(b.subarray(4)), 0);
      try {
        const m = decodeMegaCache(b);
        for (const a of m.artifacts) if (a.type === 'pgo') try { unpickleProfile(a.content); } catch (e) { assert.ok(isOurs(e)); }
      } catch (e) {
        assert.ok(e instanceof MegaCacheError, `mutation ${i}: ${(e as Error)?.stack}`);
      }
    }
  });
  it('LONG1 and LONG4 read the two\'s complement int exactly at every length (read through hex text since trial 17.3)', () => {
    const r = rng(17);
    for (let i = 0; i < 400; i++) {
      const len = 1 + Math.floor(r() * (i < 300 ? 40 : 1785));
      const body = Buffer.from(Array.from({ length: len }, () => Math.floor(r() * 256)));
      let want = 0n;
      for (let k = len - 1; k >= 0; k--) want = want * 256n + BigInt(body[k]);
      if (body[len - 1] & 0x80) want -= 2n ** BigInt(8 * len);
      const head = len < 256 && i % 2 ? Buffer.from([0x8a, len]) : Buffer.from([0x8b, len & 0xff, len >> 8, 0, 0]);
      const got = unpickle(Buffer.concat([Buffer.from([0x80, 2]), head, body, Buffer.from('.')]));
      assert.equal(BigInt(got as number | bigint), want, `length ${len}`);
    }
  });
  it("an int of more digits than CPython reads (4300) is refused at its opcode, as text and as LONG4", () => {
    assert.throws(() => unpickle(Buffer.from(`I${'1'.repeat(4301)}\n.`, 'latin1')), /an int of more than 4300 decimal digits .*\(at byte 0\)/);
    assert.equal(String(unpickle(Buffer.from(`L-${'1'.repeat(4300)}L\n.`, 'latin1'))), `-${'1'.repeat(4300)}`);
    const big = Buffer.alloc(2 << 20, 0x7f);
    const head = Buffer.from([0x80, 2, 0x8b, 0, 0, 0, 0]);
    head.writeInt32LE(big.length, 3);
    assert.throws(() => unpickle(Buffer.concat([head, big, Buffer.from('.')])), /more than 4300 decimal digits .*\(at byte 2\)/);
  });
  it('an unknown field of tuples nested deeper than 1000 is a shape error naming it', () => {
    const P2 = fixture('torch-2.11/protocols/code_state_p2.pkl');
    const field = Buffer.from('X\x08\x00\x00\x00newfieldN', 'latin1');
    const at = (depth: number) => Buffer.concat([P2.subarray(0, 214), field, Buffer.alloc(depth, 0x85), P2.subarray(214)]);
    assert.ok(unpickleProfile(at(1000)));
    assert.throws(() => unpickleProfile(at(1001)), (e: unknown) => e instanceof ProfileShapeError && /unknown field newfield holds a tuple.*nested at most 1000 deep/.test(e.message));
    assert.throws(() => unpickleProfile(at(100_000)), ProfileShapeError);
  });
  // CPython's BUILD copies the state's items into the instance's __dict__ (load_build):
  // the state dict stays a dict of its own. The expected values are CPython 3.11's.
  describe("BUILD copies the state, as CPython's load_build does", () => {
    const u = (t: string) => Buffer.concat([Buffer.from([0x58]), Buffer.from(Uint32Array.of(t.length).buffer), Buffer.from(t)]);
    const FSSE = Buffer.from('ctorch._dynamo.pgo\nFrameStateSizeEntry\n)\x81', 'latin1');
    const set = (k: string, v: number) => Buffer.concat([u(k), Buffer.from([0x4b, v, 0x73])]); // key BININT1 SETITEM
    const scalar = (o: unknown) => dictGet((o as PyInstance).state!, 'scalar');
    it('a SETITEM on the state dict after BUILD leaves the instance alone', () => {
      // I, D (memo 1) {scalar: 5}, BUILD; then D from the memo, scalar = 7, POP D
      const p = Buffer.concat([Buffer.from([0x80, 2]), FSSE, Buffer.from('}q\x01', 'latin1'), set('scalar', 5), Buffer.from('bh\x01', 'latin1'), set('scalar', 7), Buffer.from('0.', 'latin1')]);
      assert.equal(scalar(unpickle(p)), 5);
    });
    it('a second BUILD on one instance leaves another built from the same dict alone', () => {
      // I1 (memo 2), D (memo 1) {scalar: 5}, BUILD, POP; I2, D, BUILD (memo 3), POP; I1, {scalar: 7}, BUILD, POP; I2
      const p = Buffer.concat([Buffer.from([0x80, 2]), FSSE, Buffer.from('q\x02}q\x01', 'latin1'), set('scalar', 5), Buffer.from('b0', 'latin1'),
        FSSE, Buffer.from('h\x01bq\x030h\x02}', 'latin1'), set('scalar', 7), Buffer.from('b0h\x03.', 'latin1')]);
      assert.equal(scalar(unpickle(p)), 5);
    });
  });
});

import * as crcMod from '../../model/file-hash.ts';
