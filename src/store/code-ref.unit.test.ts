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

// Trial s31 (5, 8): the advice of an ambiguous ref, and the list of code ids in "no code id matches".
describe('--code advice where a ref names several code ids', () => {
  const v1: CodeId = { filename: '/srv/a/model.py', firstlineno: 10, name: 'forward', file_hash: 'aaaa0001' };
  const v2: CodeId = { ...v1, file_hash: 'aaaa0002' };
  const b: CodeId = { filename: '/srv/b/model.py', firstlineno: 10, name: 'forward', file_hash: 'bbbb0001' };
  const refused = (cands: CodeId[], ref: string) => {
    try {
      matchCode(cands, ref, '--code');
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail(`${ref} matched`);
  };
  it('one function in two versions of its file (its hash changed): the code id text, hash included (failed before: file:line:name, which is the ref given)', () => {
    assert.match(refused([v1, v2], '/srv/a/model.py:10:forward'), /is ambiguous: hash\(aaaa0001\)\/srv\/a\/model\.py:10:forward, hash\(aaaa0002\)\/srv\/a\/model\.py:10:forward; pick one with the code id text shown, hash\(…\) included/);
    assert.deepEqual([v1, v2].filter(matchCode([v1, v2], 'hash(aaaa0002)/srv/a/model.py:10:forward')), [v2]);
  });
  it('files of one name in two folders, named by the last path part: more of the path', () => {
    assert.match(refused([v1, b], 'model.py:10:forward'), /pick one with file:line:name with more of the file's path, or the code id text shown$/);
    assert.deepEqual([v1, b].filter(matchCode([v1, b], 'b/model.py:10:forward')), [b]);
  });
  it('versions of one file beside another file of the name: the code id text, "some are" versions (trial s31: said all were)', () => {
    const other: CodeId = { filename: '/other/model.py', firstlineno: 10, name: 'forward', file_hash: 'cccc0001' };
    assert.match(refused([v1, v2, other], 'forward'), /pick one with the code id text shown, hash\(…\) included \(some are one function in versions of its file\)$/);
  });
  it('a bare name: file:line:name, as before', () => {
    assert.match(refused([v1, b], 'forward'), /pick one with file:line:name$/);
  });
  it('no match among many: the first 20 listed and how many more (a fleet profile listed 50,000: 1.5 MB)', () => {
    const many = Array.from({ length: 25 }, (_, i): CodeId => ({ filename: '/srv/m.py', firstlineno: i, name: `f${i}`, file_hash: '00' }));
    const m = refused(many, 'nope');
    assert.match(m, /^no code id matches --code nope \(there are: hash\(00\)\/srv\/m\.py:0:f0, .*hash\(00\)\/srv\/m\.py:19:f19 and 5 more \(show lists them\)\)$/);
    assert.ok(!m.includes(':20:f20'));
  });
});
