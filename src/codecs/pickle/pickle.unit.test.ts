import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, fixtureText, nextOracleCases, oracleCases } from '../../../test/support/fixtures.ts';
import { profileJson, profileJsonNext } from '../../../test/support/oracle-json.ts';
import { entryOf, type Shape } from '../../model/observation.ts';
import { emptyProfile } from '../../model/profile.ts';
import { renderProfile } from '../../model/render.ts';
import { updateAutomaticDynamic } from '../../model/update.ts';
import { pickleProfile, unpickle, unpickleProfile } from './index.ts';
import { dictGet, isDict } from './py-values.ts';

const BIG = ['big-7-0', 'big-7-1', 'big-7-2', 'big-7-3', 'big-7-4', 'big-8-0', 'big-8-1'];

describe('pickle writer: CPython bytes for all 600 oracle cases', () => {
  for (const c of oracleCases()) {
    it(`case ${c.id}`, () => {
      const p = emptyProfile();
      for (const o of c.observations) updateAutomaticDynamic(p, c.codes[o.code], o.source, entryOf(o as Shape), c.automatic_dynamic_shapes);
      const want = Buffer.from(c.expected.pickle_p4, 'base64');
      assert.equal(Buffer.from(pickleProfile(p)).toString('base64'), want.toString('base64'));
      // and the reader gives back PyTorch's state
      const back = unpickleProfile(want);
      assert.deepEqual(profileJson(back).map((x, i) => ({ code: c.expected.state[i].code, entries: x.entries })), c.expected.state);
      for (const [proto, b64] of Object.entries(c.expected.pickle_by_protocol ?? {})) {
        assert.equal(renderProfile(unpickleProfile(Buffer.from(b64, 'base64'))), c.expected.render, `protocol ${proto}`);
      }
    });
  }
});

describe('large CPython pickles (big-canonical-dev)', () => {
  for (const name of BIG) {
    it(`${name}: read, then write: identical bytes; state as described`, () => {
      const bytes = fixture(`oracle/big-canonical-dev/${name}.pkl`);
      const p = unpickleProfile(bytes);
      assert.ok(Buffer.from(pickleProfile(p)).equals(bytes));
      const desc = JSON.parse(fixtureText(`oracle/big-canonical-dev/${name}.json`));
      assert.deepEqual(profileJson(p), desc.state);
    });
  }
});

describe('real PyTorch 2.11 profile files', () => {
  const render = fixtureText('torch-2.11/render/eager-cold-run.txt');
  for (const p of [0, 1, 2, 3, 4, 5]) {
    it(`protocol ${p} reads to the cold run's profile${p >= 2 ? ' and writes back byte for byte' : ''}`, () => {
      const bytes = fixture(`torch-2.11/protocols/code_state_p${p}.pkl`);
      const prof = unpickleProfile(bytes);
      assert.equal(renderProfile(prof), render);
      if (p >= 2) {
        const out = pickleProfile(prof, { protocol: p as 2, sourceNames: 'per-code' });
        assert.ok(Buffer.from(out).equals(bytes));
      }
    });
  }
  it('the local file and the tagged run', () => {
    assert.equal(renderProfile(unpickleProfile(fixture('torch-2.11/local/code_state_fixture_None_.pkl'))), render);
    assert.equal(
      renderProfile(unpickleProfile(fixture('torch-2.11/local/code_state_team_job_7_None_v2.pkl'))),
      fixtureText('torch-2.11/render/tagged-run.txt'),
    );
  });
  it('workload 2 (resume functions, int attributes, mark_dynamic, ranks)', () => {
    for (const [file, render2] of [
      ['code_state_fixture2_None_.pkl', 'render-single.txt'],
      ['code_state_fixture2_0_.pkl', 'render-rank0.txt'],
      ['code_state_fixture2_1_.pkl', 'render-rank1.txt'],
    ]) {
      assert.equal(renderProfile(unpickleProfile(fixture(`torch-2.11/workload2/${file}`))), fixtureText(`torch-2.11/workload2/${render2}`), file);
    }
  });
  it('ints past 2**53 round-trip exactly', () => {
    const p = emptyProfile();
    const code = { filename: 'x.py', firstlineno: 1, name: 'f', file_hash: 'x.py' };
    updateAutomaticDynamic(p, code, 'n', entryOf({ kind: 'scalar', value: -(2n ** 80n) }));
    updateAutomaticDynamic(p, code, 'm', entryOf({ kind: 'size', size: [2n ** 64n, -129, 70000, -(2n ** 31n)] }));
    const back = unpickleProfile(pickleProfile(p));
    assert.equal(renderProfile(back), renderProfile(p));
    assert.equal(back.codes.values().next().value!.state.automaticDynamic.get('n')!.scalar, -(2n ** 80n));
  });
});

describe('issue 13: the layout after 2.11 (oracle/next), 600 cases', () => {
  for (const c of nextOracleCases()) {
    it(`issue 13.4/13.5: next case ${c.id}: CPython's bytes written; read back, state and bytes as they were`, () => {
      const p = emptyProfile();
      for (const o of c.observations) updateAutomaticDynamic(p, c.codes[o.code], o.source, entryOf(o as Shape), c.automatic_dynamic_shapes);
      const want = Buffer.from(c.expected.pickle_p4, 'base64');
      assert.equal(Buffer.from(pickleProfile(p, { layout: '2.12' })).toString('base64'), c.expected.pickle_p4);
      const back = unpickleProfile(want);
      assert.equal(back.layout, '2.12');
      assert.equal(back.codes.size, c.expected.state.length);
      assert.deepEqual(profileJsonNext(back), c.expected.state.map((s) => ({ entries: s.entries })));
      assert.equal(renderProfile(back), c.expected.render);
      assert.ok(Buffer.from(pickleProfile(back)).equals(want), 'the default layout is the one read');
    });
  }
});

describe('issue 13.1: a hand-made newer pickle', () => {
  // Two closures of one factory-made function, plus a field of a still newer layout on each class.
  const code = { filename: '/w/m.py', firstlineno: 7, name: 'inner', file_hash: 'abc' };
  function made(): Uint8Array {
    const p = emptyProfile();
    updateAutomaticDynamic(p, { ...code, closure_hash: 11 }, "L['x']", entryOf({ kind: 'size', size: [2, 3] }));
    updateAutomaticDynamic(p, { ...code, closure_hash: 11 }, "L['x']", entryOf({ kind: 'size', size: [4, 3] }));
    updateAutomaticDynamic(p, { ...code, closure_hash: -(2n ** 63n) }, "L['x']", entryOf({ kind: 'size', size: [5, 3] }));
    const ids = [...p.codes.values()];
    for (const slot of ids) slot.id = { ...slot.id, extra: [['qualname', 'make.<locals>.inner']] };
    ids[1].state.automaticDynamic.get("L['x']")!.extra = [['hint', [1, null, 'x', true]]];
    return pickleProfile(p, { layout: '2.12' });
  }
  it('two code ids that differ only in closure_hash stay two, each with its entries', () => {
    const p = unpickleProfile(made());
    assert.equal(p.codes.size, 2);
    const [a, b] = [...p.codes.values()];
    assert.equal(a.id.closure_hash, 11);
    assert.equal(b.id.closure_hash, -(2n ** 63n));
    assert.deepEqual(profileJsonNext(p).map((x) => x.entries["L['x']"]), [
      { scalar: 'unset', size: ['dynamic', 3], stride: 'unset', excluded_sizes: [2, 3], excluded_scalar: null },
      { scalar: 'unset', size: [5, 3], stride: 'unset', excluded_sizes: null, excluded_scalar: null },
    ]);
  });
  it('unknown fields of known classes are kept and written back, byte for byte', () => {
    const bytes = made();
    const p = unpickleProfile(bytes);
    const b = [...p.codes.values()][1];
    assert.deepEqual(b.id.extra, [['qualname', 'make.<locals>.inner']]);
    assert.deepEqual(b.state.automaticDynamic.get("L['x']")!.extra, [['hint', [1, null, 'x', true]]]);
    assert.ok(Buffer.from(pickleProfile(p)).equals(Buffer.from(bytes)));
    assert.match(renderProfile(p), /unusual FrameStateSizeEntry\(.*excluded_scalar=None, hint=\(1, None, 'x', True\)\)/);
  });
  it('written as 2.11: an error naming the closure-distinct code ids', () => {
    assert.throws(() => pickleProfile(unpickleProfile(made()), { layout: '2.11' }), /closure_hash: hash\(abc\)\/w\/m\.py:7:inner \(closures 0xb, -0x8000000000000000\)/);
  });
  it('an unknown class is still refused by name', () => {
    const bytes = Buffer.from(made());
    const i = bytes.indexOf('InferStride');
    const at = bytes.indexOf('CodeState');
    bytes.write('CodeStatX', at, 'latin1');
    assert.ok(i === -1);
    assert.throws(() => unpickleProfile(bytes), /CodeStatX/);
  });
});

describe('issue 13.1: pickles CPython made with newer fields (stand-in classes of torch._dynamo.pgo)', () => {
  // Made by CPython 3.11 pickle.dumps(protocol=4) of stand-in dataclass objects (see the
  // fixtures README): the bytes themselves, so no Python is needed at test time.
  const B = (s: string) => Buffer.from(s, 'base64');
  it('fields of a newer layout in known classes: kept, and written back as CPython wrote them', () => {
    const bytes = B('gASVhAEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlGgDjAZDb2RlSWSUk5QpgZR9lCiMCGZpbGVuYW1llIwHL3cvbS5weZSMC2ZpcnN0bGluZW5vlEsHjARuYW1llIwFaW5uZXKUjAlmaWxlX2hhc2iUjANhYmOUjAxjbG9zdXJlX2hhc2iUSwOMBm1vZHVsZZSMAW2UdWJoBSmBlH2UjBFhdXRvbWF0aWNfZHluYW1pY5RoAmgDjBNGcmFtZVN0YXRlU2l6ZUVudHJ5lJOUhZRSlIwGTFsneCddlGgaKYGUfZQojAZzY2FsYXKUaAOMCUF1dG9VbnNldJSTlEsAhZRSlIwEc2l6ZZRLAksDhpSMBnN0cmlkZZRoJIwOZXhjbHVkZWRfc2l6ZXOUSwJOhpSMD2V4Y2x1ZGVkX3NjYWxhcpRLCYwFc2luY2WUKEsBjAF4lE6IdJR1YnNzYnMu');
    const p = unpickleProfile(bytes);
    const [slot] = [...p.codes.values()];
    assert.deepEqual(slot.id.extra, [['module', 'm']]);
    const e = slot.state.automaticDynamic.get("L['x']")!;
    assert.deepEqual([e.excluded_sizes, e.excluded_scalar, e.extra], [[2, null], 9, [['since', [1, 'x', null, true]]]]);
    assert.ok(Buffer.from(pickleProfile(p)).equals(bytes));
  });
  it('a bad closure_hash, an unknown field holding a dict, a bad excluded_sizes: refused by name', () => {
    assert.throws(() => unpickleProfile(B('gASVXwEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlGgDjAZDb2RlSWSUk5QpgZR9lCiMCGZpbGVuYW1llIwHL3cvbS5weZSMC2ZpcnN0bGluZW5vlEsHjARuYW1llIwFaW5uZXKUjAlmaWxlX2hhc2iUjANhYmOUjAxjbG9zdXJlX2hhc2iUaBJ1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUjAZMWyd4J12UaBgpgZR9lCiMBnNjYWxhcpRoA4wJQXV0b1Vuc2V0lJOUSwCFlFKUjARzaXpllEsCSwOGlIwGc3RyaWRllGgijA5leGNsdWRlZF9zaXplc5ROjA9leGNsdWRlZF9zY2FsYXKUTnVic3Nicy4=')), /code 0: closure_hash is "abc", not an int or None/);
    assert.throws(() => unpickleProfile(B('gASVbwEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlGgDjAZDb2RlSWSUk5QpgZR9lCiMCGZpbGVuYW1llIwHL3cvbS5weZSMC2ZpcnN0bGluZW5vlEsHjARuYW1llIwFaW5uZXKUjAlmaWxlX2hhc2iUjANhYmOUjAxjbG9zdXJlX2hhc2iUTnViaAUpgZR9lIwRYXV0b21hdGljX2R5bmFtaWOUaAJoA4wTRnJhbWVTdGF0ZVNpemVFbnRyeZSTlIWUUpSMBkxbJ3gnXZRoGCmBlH2UKIwGc2NhbGFylGgDjAlBdXRvVW5zZXSUk5RLAIWUUpSMBHNpemWUSwJLA4aUjAZzdHJpZGWUaCKMDmV4Y2x1ZGVkX3NpemVzlE6MD2V4Y2x1ZGVkX3NjYWxhcpROjAVoaW50c5R9lIwBYZRLAXN1YnNzYnMu')), /FrameStateSizeEntry: unknown field hints holds a dict/);
    assert.throws(() => unpickleProfile(B('gASVYAEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlGgDjAZDb2RlSWSUk5QpgZR9lCiMCGZpbGVuYW1llIwHL3cvbS5weZSMC2ZpcnN0bGluZW5vlEsHjARuYW1llIwFaW5uZXKUjAlmaWxlX2hhc2iUjANhYmOUjAxjbG9zdXJlX2hhc2iUSwN1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUjAZMWyd4J12UaBgpgZR9lCiMBnNjYWxhcpRoA4wJQXV0b1Vuc2V0lJOUSwCFlFKUjARzaXpllEsCSwOGlIwGc3RyaWRllGgijA5leGNsdWRlZF9zaXplc5RLBYwPZXhjbHVkZWRfc2NhbGFylE51YnNzYnMu')), /excluded_sizes is 5, not a tuple of int \| None or None/);
  });
});

describe('issue 10.4: the unpickler stack after the speed work', () => {
  const load = (s: string) => unpickle(Buffer.from(s, 'latin1'));
  it('TUPLE of 4 to 7 items, DICT with items, POP and POP_MARK as CPython loads them', () => {
    // Expected values are what CPython's pickle.loads gives for the same bytes.
    assert.deepEqual(load('((I1\nI2\nI3\nI4\nt(I1\nI2\nI3\nI4\nI5\nt(I1\nI2\nI3\nI4\nI5\nI6\nt(I1\nI2\nI3\nI4\nI5\nI6\nI7\nt(I8\nI9\ntt.'), [
      [1, 2, 3, 4], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7], [8, 9],
    ]);
    const d = load("(S'a'\nI1\nS'b'\n(I1\nI2\nI3\nI4\nI5\nI6\nI7\ntd.");
    assert.ok(isDict(d));
    assert.deepEqual([dictGet(d, 'a'), dictGet(d, 'b'), d.size], [1, [1, 2, 3, 4, 5, 6, 7], 2]);
    assert.equal(load('I5\n(I1\nI2\n1I3\n0.'), 5);
    assert.deepEqual(load('(I7\n(I1\n1I2\n0t.'), [7]);
  });
  it('the chunked memo: 10,000 MEMOIZEd values read back across chunks, far and negative keys', () => {
    const ops: number[] = [0x80, 4, 0x28];
    for (let i = 0; i < 10_000; i++) ops.push(0x4a, i & 0xff, (i >> 8) & 0xff, 0, 0, 0x94, 0x30); // BININT i, MEMOIZE, POP
    for (const i of [0, 4095, 4096, 8191, 8192, 9999]) ops.push(0x6a, i & 0xff, (i >> 8) & 0xff, 0, 0); // LONG_BINGET
    ops.push(0x74, 0x2e);
    assert.deepEqual(unpickle(Uint8Array.from(ops)), [0, 4095, 4096, 8191, 8192, 9999]);
    assert.equal(load('I5\np100000\n0g100000\n.'), 5);
    assert.throws(() => load('I5\np-1\n.'), /negative PUT argument/);
    assert.throws(() => load('I5\np0\n0g-1\n.'), /memo key -1 was never stored/);
  });
  it('runs one after another: each reads what it would alone (the stack and memo start with a placeholder)', () => {
    const inputs = ["(S'a'\nI1\nd.", 'I5\np0\n0g0\n.', 'g0\n.', "S'x'\np0\n(g0\ng0\nt.", "S'\\x41\\n'\n.", 'Sabc\n.', 'N.'];
    const once = (s: string) => {
      try {
        return { v: load(s) };
      } catch (e) {
        return { e: String(e) };
      }
    };
    const alone = inputs.map(once);
    assert.deepEqual(alone.slice(1, 6), [{ v: 5 }, { e: 'PickleError: pickle: memo key 0 was never stored (at byte 0)' }, { v: ['x', 'x'] }, { v: 'A\n' }, { e: 'PickleError: pickle: STRING is not quoted (at byte 0)' }]);
    for (let round = 0; round < 3; round++) assert.deepEqual(inputs.map(once), alone);
  });
});

describe('issue 10.4: the writer after the speed work', () => {
  it('tuple objects shared between entries, code states and fields, and batch edges: CPython\'s bytes', () => {
    const bytes = fixture('pickle-speed/shared-tuples.pkl');
    const p = unpickleProfile(bytes);
    const states = [...p.codes.values()].map((s) => s.state.automaticDynamic);
    // the shared tuple is one array in the model, in two code states
    assert.equal(states[0].get("L['x0']")!.size, states[1].get("L['x97']")!.size);
    assert.equal(states[0].get("L['x89']")!.size, states[0].get("L['x89']")!.stride);
    assert.deepEqual([p.codes.size, states[0].size, states[1].size], [1001, 1001, 1000]);
    assert.ok(Buffer.from(pickleProfile(p)).equals(bytes));
  });
  it('memo indices past 255 and ints of every width, negatives included: CPython\'s protocol 2 and 4 bytes', () => {
    for (const protocol of [2, 4] as const) {
      const bytes = fixture(`pickle-speed/ints-memo-p${protocol}.pkl`);
      const p = unpickleProfile(bytes);
      const scalars = [...p.codes.values()].slice(0, 12).map((s) => s.state.automaticDynamic.get("L['x']")!.scalar);
      assert.deepEqual(scalars, [-5, -70000, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 40, -(2 ** 40) - 3, 65535, 65536, 255, 256, -1]);
      assert.ok(Buffer.from(pickleProfile(p, { protocol })).equals(bytes), `protocol ${protocol}`);
    }
  });
});
