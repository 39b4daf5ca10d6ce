import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureText, nextOracleCases, oracleCases } from '../../test/support/fixtures.ts';
import { pickleProfile } from './pickle/index.ts';
import { PyFloat } from '../model/float.ts';
import { renderProfile } from '../model/render.ts';
import { parseRenderText, RenderTextError } from './render-text.ts';

describe('render text back to a profile', () => {
  it('every oracle render parses to the profile PyTorch pickled (same bytes)', () => {
    for (const c of oracleCases()) {
      const p = parseRenderText(c.expected.render);
      assert.equal(renderProfile(p), c.expected.render, `case ${c.id}`);
      assert.equal(Buffer.from(pickleProfile(p)).toString('base64'), c.expected.pickle_p4, `case ${c.id} pickle`);
    }
  });
  it('the fixtures’ renders, the unusual repr included', () => {
    for (const f of ['render/eager-cold-run.txt', 'render/tagged-run.txt', 'workload2/render-rank0.txt', 'workload2/render-rank1.txt']) {
      const t = fixtureText(`torch-2.11/${f}`);
      assert.equal(renderProfile(parseRenderText(t)), t, f);
    }
  });
  it("a file PyTorch could not read has its path as file_hash: a path with ')' in it is read whole", () => {
    // torch/_dynamo/pgo.py (v2.11.0) _hash_containing_file returns the path itself for a file that
    // does not exist, and CodeId.__str__ prints f"hash({file_hash}){filename}:{firstlineno}:{name}"
    for (const path of ['/tmp/run (2)/m.py', '<exec (cell 3)>', 'a)b']) {
      const text = `hash(${path})${path}:7:forward:\n  L['x']: scalar 5`;
      const [{ id }] = [...parseRenderText(text).codes.values()];
      assert.deepEqual({ ...id }, { filename: path, firstlineno: 7, name: 'forward', file_hash: path });
      assert.equal(renderProfile(parseRenderText(text)), text);
    }
    // a CRC32 hash and a path with ')' (the file existed)
    const [{ id }] = [...parseRenderText("hash(d02731e6)/srv/a (1).py:3:f:\n  L['n']: scalar 2").codes.values()];
    assert.deepEqual([id.file_hash, id.filename], ['d02731e6', '/srv/a (1).py']);
  });
  it('float scalars (specialize_float=False) as render() prints them, its unusual repr included', () => {
    const text = ["hash(h)m.py:1:f:", "  L['lr']: scalar 0.5", "  L['eps']: scalar 1e-05", "  L['a']: scalar nan", "  L['b']: scalar -inf", "  L['c']: scalar 2.0", "  L['s']: unusual FrameStateSizeEntry(scalar=0.25, size=(3,), stride=<AutoUnset.token: 0>)"].join('\n');
    const p = parseRenderText(text);
    assert.equal(renderProfile(p), text);
    const e = [...p.codes.values()][0].state.automaticDynamic.get("L['c']")!;
    assert.ok(e.scalar instanceof PyFloat && e.scalar.value === 2);
    // an int stays an int
    assert.equal([...parseRenderText("hash(h)m.py:1:f:\n  L['n']: scalar 2").codes.values()][0].state.automaticDynamic.get("L['n']")!.scalar, 2);
  });
  it('a line that is neither a code id nor an entry names its line', () => {
    assert.throws(() => parseRenderText('hash(a)f.py:1:f:\n  L[x]: tensor size=[1] stride=[1]\n  garbage'), (e: unknown) => e instanceof RenderTextError && e.line === 3);
    assert.throws(() => parseRenderText('  L[x]: scalar 3'), /line 1: an entry before any code id/);
    assert.throws(() => parseRenderText('hash(a)f.py:1:f:\n  L[x]: scalar three'), /line 2: not an int/);
  });
});

describe('issue 13.1: render text of the layout after 2.11', () => {
  it('reads every oracle/next render back to the same text', () => {
    for (const c of nextOracleCases()) {
      const heads = c.expected.render.split('\n').filter((l) => l.startsWith('hash('));
      if (new Set(heads).size !== heads.length) continue; // closures render alike: refused (next test)
      const p = parseRenderText(c.expected.render);
      p.layout = '2.12';
      assert.equal(renderProfile(p), c.expected.render, `case ${c.id}`);
    }
  });
  it('refuses closures that render alike, naming the line, rather than merging them', () => {
    const c = nextOracleCases().find((x) => {
      const heads = x.expected.render.split('\n').filter((l) => l.startsWith('hash('));
      return new Set(heads).size !== heads.length;
    })!;
    assert.throws(() => parseRenderText(c.expected.render), /render text line \d+: code id .* appears twice: closures/);
  });
  it("an empty block of a code id that repeats is log_frame_dynamic_whitelist's closure-less lookup: it joins the other, before or after it", () => {
    // torch/_dynamo/pgo.py after #173512: log_frame_dynamic_whitelist does get_code_state()[CodeId.make(f_code, None)]
    // on each compiled frame, a defaultdict lookup that leaves an empty CodeState beside a closure's own.
    const head = 'hash(deadbeef)/a.py:3:f:';
    const entry = "  L['x']: tensor size=[?, 4] stride=[4, 1]";
    const advice = '\n\nPGO detected a recompilation due to dynamic shapes. To reduce shape recompilations by compiling dynamically to start, set environment variable TORCH_COMPILE_DYNAMIC_SOURCES="L[\'x\']"';
    const alone = `${head}\n${entry}${advice}`;
    for (const text of [`${head}\n${entry}\n${head}\n${advice}`, `${head}\n\n${head}\n${entry}${advice}`]) {
      const p = parseRenderText(text);
      assert.equal(p.codes.size, 1);
      assert.equal(renderProfile(p), alone);
    }
    // the twin's block holding an entry is two closures again, named at the twin's line
    assert.throws(() => parseRenderText(`${head}\n${entry}\n${head}\n${entry}`), /render text line 3: code id .* appears twice: closures/);
  });
});
