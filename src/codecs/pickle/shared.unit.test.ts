import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, nextOracleCases, oracleCases } from '../../../test/support/fixtures.ts';
import { DYNAMIC, InferStride } from '../../model/atoms.ts';
import type { CodeId } from '../../model/code-id.ts';
import type { FrameStateSizeEntry } from '../../model/entry.ts';
import { codeStateFor, type CodeState, type Profile } from '../../model/profile.ts';
import type { PyPlain } from '../../model/py-plain.ts';
import { updateAutomaticDynamic } from '../../model/update.ts';
import { pickleProfile, unpickleProfile, type PickleProtocol } from './index.ts';
import { unpickleTree } from './unpickle.ts';

// Profile.unshared lets the writer skip the identity memo of tuples and automatic_dynamic
// objects. A profile without it is written as before this flag existed (tuplesUnshared, then
// the identity memo where any tuple occurs twice): that path is the reference here.

/** The tuples (non-empty arrays) and automatic_dynamic maps that occur more than once in p. */
function sharedObjects(p: Profile): number {
  const seen = new Set<unknown>();
  let twice = 0;
  const meet = (o: unknown) => {
    if (seen.has(o)) twice++;
    else seen.add(o);
  };
  const plain = (v: PyPlain) => {
    if (Array.isArray(v) && v.length) {
      meet(v);
      for (const x of v as readonly PyPlain[]) plain(x);
    }
  };
  for (const { id, state } of p.codes.values()) {
    for (const [, v] of id.extra ?? []) plain(v);
    meet(state.automaticDynamic);
    for (const e of state.automaticDynamic.values()) {
      for (const t of [e.size, e.stride, e.excluded_sizes]) if (Array.isArray(t) && t.length) meet(t);
      for (const [, v] of e.extra ?? []) plain(v);
    }
  }
  return twice;
}

/** The same profile without the mark: what the writer gives where nobody vouches for it. */
const unmarked = (p: Profile): Profile => ({ codes: p.codes, ...(p.layout ? { layout: p.layout } : {}) });

function written(p: Profile, protocol: PickleProtocol): string {
  try {
    return Buffer.from(pickleProfile(p, { protocol })).toString('base64');
  } catch (e) {
    return `throws ${String(e)}`;
  }
}

/** A marked profile holds nothing twice, and writes what the unmarked one writes. */
function checkMarked(p: Profile, what: string): void {
  if (!p.unshared) return;
  assert.equal(sharedObjects(p), 0, `${what}: marked unshared, yet an object occurs twice`);
  for (const protocol of [2, 3, 4, 5] as const) assert.equal(written(p, protocol), written(unmarked(p), protocol), `${what}, protocol ${protocol}`);
}

const B = (s: string) => Buffer.from(s, 'base64');
// Made with CPython 3.11 and bench/floors/standin (pickle.dumps(profile, protocol=4)):
// objects that hold tuples shared by identity, so CPython wrote a BINGET of the container.
const CPYTHON = {
  // one FrameStateSizeEntry object under two sources of one code id and a source of another
  entry: 'gASVdgEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlChoA4wGQ29kZUlklJOUKYGUfZQojAhmaWxlbmFtZZSMBy9tL2EucHmUjAtmaXJzdGxpbmVub5RLAYwEbmFtZZSMAWaUjAlmaWxlX2hhc2iUjAJhYZR1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUKIwGTFsneCddlGgXKYGUfZQojAZzY2FsYXKUaAOMC0F1dG9EeW5hbWljlJOUSwCFlFKUjARzaXpllEsISxCGlIwGc3RyaWRllEsQSwGGlHVijAZMWyd5J12UaBt1c2JoCSmBlH2UKGgMjAcvbS9iLnB5lGgOSwJoD4wBZ5RoEYwCYmKUdWJoBSmBlH2UaBVoAmgXhZRSlGgaaBtzc2J1Lg==',
  // one CodeState object under two code ids
  state: 'gASVVAEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlChoA4wGQ29kZUlklJOUKYGUfZQojAhmaWxlbmFtZZSMBy9tL2EucHmUjAtmaXJzdGxpbmVub5RLAYwEbmFtZZSMAWaUjAlmaWxlX2hhc2iUjAJhYZR1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUjAZMWyd4J12UaBcpgZR9lCiMBnNjYWxhcpRoA4wLQXV0b0R5bmFtaWOUk5RLAIWUUpSMBHNpemWUSwhoIYaUjAZzdHJpZGWUaCFLAYaUdWJzc2JoCSmBlH2UKGgMjAcvbS9iLnB5lGgOSwJoD4wBZ5RoEYwCYmKUdWJoE3Uu',
  // one automatic_dynamic defaultdict under two CodeState objects
  ad: 'gASVRQEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlChoA4wGQ29kZUlklJOUKYGUfZQojAhmaWxlbmFtZZSMBy9tL2EucHmUjAtmaXJzdGxpbmVub5RLAYwEbmFtZZSMAWaUjAlmaWxlX2hhc2iUjAJhYZR1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUjAZMWyd4J12UaBcpgZR9lCiMBnNjYWxhcpRLA4wEc2l6ZZRLBIWUjAZzdHJpZGWUSwGFlHVic3NiaAkpgZR9lChoDIwHL20vYi5weZRoDksCaA+MAWeUaBGMAmJilHViaAUpgZR9lGgVaBlzYnUu',
};
// One InferStride object in two entries of two code ids, no tuple shared.
const CPYTHON_INFER = 'gASVpQEAAAAAAACMC2NvbGxlY3Rpb25zlIwLZGVmYXVsdGRpY3SUk5SMEXRvcmNoLl9keW5hbW8ucGdvlIwJQ29kZVN0YXRllJOUhZRSlChoA4wGQ29kZUlklJOUKYGUfZQojAhmaWxlbmFtZZSMBy9tL2EucHmUjAtmaXJzdGxpbmVub5RLAYwEbmFtZZSMAWaUjAlmaWxlX2hhc2iUjAJhYZR1YmgFKYGUfZSMEWF1dG9tYXRpY19keW5hbWljlGgCaAOME0ZyYW1lU3RhdGVTaXplRW50cnmUk5SFlFKUjAZMWyd4J12UaBcpgZR9lCiMBnNjYWxhcpRoA4wLQXV0b0R5bmFtaWOUk5RLAIWUUpSMBHNpemWUaCFLA4aUjAZzdHJpZGWUaAOMC0luZmVyU3RyaWRllJOUKYGUfZSMA2RpbZRLAHNiSwGGlHVic3NiaAkpgZR9lChoDIwHL20vYi5weZRoDksCaA+MAWeUaBGMAmJilHViaAUpgZR9lGgVaAJoF4WUUpRoGmgXKYGUfZQoaB1oIWgiaCFLBYaUaCRoJ0sBhpR1YnNzYnUu';

describe('Profile.unshared: the reader vouches only for what it knows', () => {
  it('every oracle case, large pickle, PyTorch file and the shared-tuple fixture: marked ones hold nothing twice and write as unmarked', () => {
    const files = ['pickle-speed/shared-tuples.pkl', 'torch-2.11/local/code_state_fixture_None_.pkl', 'torch-2.11/local/code_state_team_job_7_None_v2.pkl'];
    for (let p = 0; p <= 5; p++) files.push(`torch-2.11/protocols/code_state_p${p}.pkl`);
    for (const n of ['big-7-0', 'big-7-4', 'big-8-1']) files.push(`oracle/big-canonical-dev/${n}.pkl`);
    let marked = 0;
    for (const f of files) {
      const bytes = fixture(f);
      const p = unpickleProfile(bytes);
      if (p.unshared) marked++;
      checkMarked(p, f);
    }
    // PyTorch's own files share no tuple: they are marked; shared-tuples.pkl is not
    assert.equal(marked, files.length - 1);
    assert.equal(unpickleProfile(fixture('pickle-speed/shared-tuples.pkl')).unshared, undefined);
    for (const c of [...oracleCases(), ...nextOracleCases()]) {
      const bytes = Buffer.from(c.expected.pickle_p4, 'base64');
      const p = unpickleProfile(bytes);
      assert.equal(p.unshared, true, `case ${c.id}`);
      checkMarked(p, `case ${c.id}`);
      assert.ok(Buffer.from(pickleProfile(p)).equals(bytes), `case ${c.id}`);
    }
  });

  it('CPython pickles that share an entry, a CodeState or an automatic_dynamic: not marked, and written as before', () => {
    for (const [what, b64] of Object.entries(CPYTHON)) {
      const p = unpickleProfile(B(b64));
      assert.equal(p.unshared, undefined, what);
      assert.ok(sharedObjects(p) > 0, `${what}: the tuples are shared in the model`);
    }
    // A shared InferStride holds no tuple: still marked, and written back byte for byte.
    const bytes = B(CPYTHON_INFER);
    const p = unpickleProfile(bytes);
    assert.equal(p.unshared, true);
    checkMarked(p, 'shared InferStride');
    assert.ok(Buffer.from(pickleProfile(p)).equals(bytes));
  });

  it('the unpickler: a memo fetch or DUP of a tuple, list, dict or instance is no tree; of a str, int, class or InferStride it is', () => {
    const tree = (s: string) => unpickleTree(Buffer.from(s, 'latin1')).tree;
    assert.equal(tree('((I1\nI2\nt2t.'), false); // DUP of a tuple
    assert.equal(tree('((I1\nI2\ntp0\ng0\nt.'), false); // GET of a tuple
    assert.equal(tree('(}p0\ng0\nt.'), false); // GET of a dict
    assert.equal(tree('(]p0\ng0\nt.'), false); // GET of a list
    assert.equal(tree("(S'a'\np0\ng0\n2I5\np1\ng1\nt."), true); // str and int, fetched and DUPed
    assert.equal(tree('(ctorch._dynamo.pgo\nInferStride\np0\ng0\nt.'), true); // a class
    assert.equal(tree("(ctorch._dynamo.pgo\nInferStride\n)\x81p0\n(S'dim'\nI0\ndbg0\nt."), true); // an InferStride
    assert.equal(tree('(ctorch._dynamo.pgo\nCodeState\n)\x81p0\ng0\nt.'), false); // any other instance
    assert.equal(tree('(F1.5\np0\ng0\nt.'), false); // a float: an object, counted
  });

  it('fuzz: 6000 mutated pickles (memo fetches and DUPs among the flips) that read as marked hold nothing twice', () => {
    let seed = 11;
    const r = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const sources = [fixture('torch-2.11/protocols/code_state_p0.pkl'), fixture('torch-2.11/protocols/code_state_p2.pkl'), B(CPYTHON_INFER), B(CPYTHON.entry)];
    const ops = [0x32, 0x68, 0x67, 0x6a, 0x94, 0x71, 0x70, 0x30];
    let read = 0;
    let marked = 0;
    for (let i = 0; i < 6000; i++) {
      const b = Buffer.from(sources[i % sources.length]);
      const flips = 1 + Math.floor(r() * 3);
      for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = r() < 0.5 ? ops[Math.floor(r() * ops.length)] : Math.floor(r() * 256);
      let p: Profile;
      try {
        p = unpickleProfile(b);
      } catch {
        continue;
      }
      read++;
      if (p.unshared) marked++;
      checkMarked(p, `mutation ${i}`);
    }
    // both kinds among those read (the numbers are the PRNG's, fixed by its seed)
    assert.ok(read > 100 && marked > 50 && read - marked > 20, `${read} mutations read, ${marked} marked`);

  });
});

// Profiles built in the model with one tuple object in two places: the writer must memoise it
// by identity (a BINGET the second time), as CPython does, marked or not. Every place a tuple
// can sit, taken two at a time.
const T = () => [8, 16] as const;
type Place = (p: Built, t: readonly number[]) => void;
interface Built {
  ids: { -readonly [K in keyof CodeId]: CodeId[K] }[];
  entries: FrameStateSizeEntry[][];
}
const PLACES: Record<string, Place> = {
  'size, code 0 entry 0': (b, t) => (b.entries[0][0].size = t),
  'stride, code 0 entry 0': (b, t) => (b.entries[0][0].stride = t),
  'size, code 0 entry 1': (b, t) => (b.entries[0][1].size = t),
  'stride, code 1 entry 0': (b, t) => (b.entries[1][0].stride = t),
  'excluded_sizes, code 0 entry 1': (b, t) => (b.entries[0][1].excluded_sizes = t),
  'excluded_sizes, code 1 entry 1': (b, t) => (b.entries[1][1].excluded_sizes = t),
  'entry field of a newer layout, code 1 entry 0': (b, t) => (b.entries[1][0].extra = [['since', t]]),
  'inside an entry field, code 0 entry 1': (b, t) => (b.entries[0][1].extra = [['hint', [1, t, 'x']]]),
  'code id field of a newer layout, code 0': (b, t) => (b.ids[0].extra = [['module', t]]),
  'inside a code id field, code 1': (b, t) => (b.ids[1].extra = [['deps', [t, [t.length]]]]),
};
function build(places: [Place, readonly number[]][]): Profile {
  const b: Built = {
    ids: [0, 1].map((c) => ({ filename: `/m/f${c}.py`, firstlineno: c + 1, name: `fn${c}`, file_hash: `h${c}`, closure_hash: null })),
    entries: [0, 1].map((c) => [0, 1].map((j) => ({ scalar: DYNAMIC, size: [c + 2, j + 3], stride: [j + 3, 1] }) as FrameStateSizeEntry)),
  };
  for (const [place, t] of places) place(b, t);
  const p: Profile = { codes: new Map(), layout: '2.12' };
  b.ids.forEach((id, c) => {
    const st: CodeState = { automaticDynamic: new Map(b.entries[c].map((e, j) => [`L['x${j}']`, e])) };
    p.codes.set(`k${c}`, { id, state: st });
  });
  return p;
}

describe('one tuple object in two places of a profile: CPython\'s BINGET, read back and written again the same', () => {
  const names = Object.keys(PLACES);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      it(`${names[i]} and ${names[j]}`, () => {
        const t = T();
        const shared = build([[PLACES[names[i]], t], [PLACES[names[j]], t]]);
        const apart = build([[PLACES[names[i]], T()], [PLACES[names[j]], T()]]);
        assert.equal(sharedObjects(shared), 1);
        for (const protocol of [2, 4] as const) {
          const bytes = pickleProfile(shared, { protocol });
          // the sharing shows in the bytes (a memo fetch where the copy writes the tuple again)
          assert.ok(!Buffer.from(bytes).equals(pickleProfile(apart, { protocol })), `protocol ${protocol}: shared and apart differ`);
          // read back: one array again, not vouched for, and written back byte for byte
          const back = unpickleProfile(bytes);
          assert.equal(back.unshared, undefined);
          assert.equal(sharedObjects(back), 1);
          assert.ok(Buffer.from(pickleProfile(back, { protocol })).equals(bytes), `protocol ${protocol}: written back`);
          // the copy is vouched for, and its bytes are the unmarked writer's
          const apartBack = unpickleProfile(pickleProfile(apart, { protocol }));
          assert.equal(apartBack.unshared, true);
          checkMarked(apartBack, 'apart');
        }
      });
    }
  }
});

describe('Profile.unshared and changes to the profile', () => {
  it('codeStateFor (every fold and join) clears it: an entry sharing a tuple then pickles with the memo', () => {
    const p = unpickleProfile(fixture('torch-2.11/protocols/code_state_p4.pkl'));
    assert.equal(p.unshared, true);
    const [slot] = p.codes.values();
    const [[, e]] = slot.state.automaticDynamic;
    const before = pickleProfile(unmarked(p));
    // automatic dynamic off: the observed entry is put in as it is, its tuple the first entry's
    updateAutomaticDynamic(p, slot.id, "L['copy']", { scalar: DYNAMIC, size: e.size, stride: e.stride }, false);
    assert.equal(p.unshared, false);
    assert.ok(sharedObjects(p) > 0);
    assert.equal(Buffer.from(pickleProfile(p)).toString('base64'), Buffer.from(pickleProfile(unmarked(p))).toString('base64'));
    assert.ok(!Buffer.from(pickleProfile(p)).equals(before));
    const q = unpickleProfile(fixture('torch-2.11/protocols/code_state_p4.pkl'));
    codeStateFor(q, slot.id);
    assert.equal(q.unshared, false);
  });
  it('a marked profile with InferStride objects shared across code ids keeps their memo', () => {
    const s = new InferStride(0);
    const p = build([]);
    const [a, b] = [...p.codes.values()];
    a.state.automaticDynamic.get("L['x0']")!.stride = [s, 1];
    b.state.automaticDynamic.get("L['x1']")!.stride = [s, 1];
    const bytes = pickleProfile(p);
    const back = unpickleProfile(bytes);
    assert.equal(back.unshared, true);
    assert.ok(Buffer.from(pickleProfile(back)).equals(bytes));
  });
});
