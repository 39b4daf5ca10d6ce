import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from '../model/code-id.ts';
import { matchCode } from './code-ref.ts';

// Trial s23 (6): for code ids that differ only in closure_hash, the ambiguity error said "pick
// one with the text shown, closure included"; the text shown without its hash(…) prefix gave
// "no code id matches", and a closure as the data gives it (a decimal int) was not taken.
const at = (closure_hash: CodeId['closure_hash']): CodeId => ({ filename: '<eval_with_key>.3', firstlineno: 4161, name: 'inner', file_hash: '0a1b2c3d', closure_hash });
const zero = at(0);
const minusOne = at(-1);
const big = at(2n ** 64n - 1n);
const other: CodeId = { filename: '/srv/m.py', firstlineno: 7, name: 'outer', file_hash: '0a1b2c3d' };
const codes = [zero, minusOne, big, other];

/** The code ids of `codes` a ref names. */
const named = (ref: string) => codes.filter(matchCode(codes, ref, '--code'));

describe('--code names one closure of a factory-made function', () => {
  it('a name its closures share is ambiguous, and the error says how a closure is written', () => {
    assert.throws(
      () => named('inner'),
      (e: Error) =>
        e.message.includes('--code inner is ambiguous: hash(0a1b2c3d)<eval_with_key>.3:4161:inner closure 0x0, hash(0a1b2c3d)<eval_with_key>.3:4161:inner closure -0x1') &&
        e.message.includes('closure included (hash(…) may be left out; the closure in hex as shown, or as the decimal int the data gives)'),
    );
  });

  it('the text shown, whole', () => {
    assert.deepEqual(named('hash(0a1b2c3d)<eval_with_key>.3:4161:inner closure 0x0'), [zero]);
  });

  it('the text shown without its hash(…) (failed before: no code id matches)', () => {
    assert.deepEqual(named('<eval_with_key>.3:4161:inner closure 0x0'), [zero]);
    assert.deepEqual(named('<eval_with_key>.3:4161:inner closure -0x1'), [minusOne]);
    assert.deepEqual(named('<eval_with_key>.3:4161:inner closure 0xffffffffffffffff'), [big]);
  });

  it('the closure as a decimal int, as observation lines and --json give it (failed before)', () => {
    assert.deepEqual(named('<eval_with_key>.3:4161:inner closure -1'), [minusOne]);
    assert.deepEqual(named('hash(0a1b2c3d)<eval_with_key>.3:4161:inner closure 0'), [zero]);
    assert.deepEqual(named('<eval_with_key>.3:4161:inner closure 18446744073709551615'), [big]);
  });

  it('a closure no code id has, or one at another place, matches none', () => {
    assert.throws(() => named('<eval_with_key>.3:4161:inner closure 0x7'), /no code id matches --code <eval_with_key>\.3:4161:inner closure 0x7 \(there are: /);
    assert.throws(() => named('<eval_with_key>.3:4162:inner closure 0'), /no code id matches/);
    assert.throws(() => named('/srv/m.py:7:outer closure 0'), /no code id matches/);
  });
});
