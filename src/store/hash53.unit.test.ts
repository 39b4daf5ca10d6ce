import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash53, hash53After, hash53Prefix } from './hash53.ts';

describe('hash53 from a shared start', () => {
  it('hash53 gives the values it always gave (the stored idempotency keys)', () => {
    // values of hash53 before it was split into a start and a rest (a458dc2)
    assert.equal(hash53(''), 3338908027751811);
    assert.equal(hash53('a'), 7929297801672961);
    assert.equal(hash53('trace\u0000j:0:\u0000r\u00001'), 289854285665205);
    assert.equal(hash53('naïve ✓ 😀'), 8406694344610179);
    assert.equal(hash53('x', 3), 6397656199650645);
  });

  it('hash53After(hash53Prefix(p), r) is hash53(p + r), for any split of a key', () => {
    const keys = ['', 'a', 'trace\u0000fixture:None:\u0000fixture:pid10000@2026-11-26T05:46:07Z\u000055\u0000described\u0000L[\'x\']', 'naïve ✓ 😀 \ud800 lone', '\u0000\u0000\uffff'];
    let splits = 0;
    for (const key of keys) {
      for (let at = 0; at <= key.length; at++) {
        assert.equal(hash53After(hash53Prefix(key.slice(0, at)), key.slice(at)), hash53(key), `${JSON.stringify(key)} split at ${at}`);
        splits++;
      }
    }
    assert.ok(splits > 100);
    // one start, many keys: the state is not changed by a use
    const start = hash53Prefix('trace\u0000j:0:\u0000r\u0000');
    for (const rest of ['1', '2\u0000x', '']) assert.equal(hash53After(start, rest), hash53(`trace\u0000j:0:\u0000r\u0000${rest}`));
  });
});
