import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES } from './support/fixtures.ts';
import { pickleProfile, unpickleProfile } from '../src/codecs/pickle/index.ts';
import { parseRenderText } from '../src/codecs/render-text.ts';
import { localFileName, parseCacheKey } from '../src/model/cache-key.ts';
import { makeScalar } from '../src/model/entry.ts';
import { PyFloat } from '../src/model/float.ts';
import { entryOf } from '../src/model/observation.ts';
import { emptyProfile } from '../src/model/profile.ts';
import { renderProfile } from '../src/model/render.ts';
import { updateAutomaticDynamic, type DynamicRecord } from '../src/model/update.ts';

/**
 * PyTorch's answers from scripts/oracle-probe.py, for the rules the audit of session 15 could
 * not settle by reading the source (test/fixtures/oracle-probe/README.md: PyTorch 2.11.0's run
 * of it is test/fixtures/oracle-probe/probe.jsonl; skipped where that file is absent).
 */
const PROBE = join(FIXTURES, 'oracle-probe', 'probe.jsonl');
const present = existsSync(PROBE);
type Line = Record<string, unknown> & { case: string; error?: string; render?: string; pickle?: string; pickle_p4?: string; records?: Record<string, unknown>[]; frames_after_each_call?: unknown };
const lines: Map<string, Line> = new Map(
  present
    ? readFileSync(PROBE, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Line)
        .map((l) => [l.case, l])
    : [],
);
const probe = (name: string): Line => {
  const l = lines.get(name);
  assert.ok(l, `the probe's output has no case ${name}`);
  assert.equal(l.error, undefined, `case ${name} raised in PyTorch:\n${l.error}`);
  return l;
};
const records = (l: Line) => (l.records ?? []).map((r) => ({ name: r.name, dim_changed: r.dim_changed, reason: r.reason, cached: r.cached, new: r.new }));
const ours = (rs: DynamicRecord[]) => rs.map((r) => ({ name: r.name, dim_changed: r.dim_changed, reason: r.reason, cached: r.cached, new: r.new }));
const code = (name: string) => ({ filename: 'probe.py', firstlineno: 1, name, file_hash: 'h' });

describe('PyTorch probe (scripts/oracle-probe.py)', { skip: present ? false : `no ${PROBE}: run scripts/oracle-probe.py with PyTorch and put its output there` }, () => {
  it('every profile the probe wrote reads back to its render text and pickles to the same protocol-4 bytes', () => {
    for (const l of lines.values()) {
      if (l.error || !l.pickle_p4) continue;
      const p4 = Buffer.from(l.pickle_p4, 'base64');
      const p = unpickleProfile(p4);
      assert.equal(renderProfile(p), l.render, `${l.case}: render`);
      // as the live process wrote it: each code state's source names are their own string objects
      assert.equal(Buffer.from(pickleProfile(p, { sourceNames: 'per-code' })).toString('base64'), l.pickle_p4, `${l.case}: protocol-4 bytes`);
      // the pickle put_code_state wrote (this Python's default protocol) reads as the same profile
      assert.equal(renderProfile(unpickleProfile(Buffer.from(l.pickle!, 'base64'))), l.render, `${l.case}: default-protocol pickle`);
    }
  });
  it('an int that turned dynamic compiles no more for 0 and 1; a size dim does (switches.ts: no UNBACKED advice for ints)', () => {
    const i = probe('int_zero_one').frames_after_each_call as number[];
    assert.deepEqual(i.slice(1, 4), [i[1], i[1], i[1]], `int: frames after each call ${i}`);
    const s = probe('size_zero_one').frames_after_each_call as number[];
    assert.ok(s[2] > s[1] && s[3] > s[2], `size: frames after each call ${s}`);
  });
  it("a source that flips between tensor and int logs what update_automatic_dynamic's model logs", () => {
    const l = probe('tensor_int_flip');
    const p = emptyProfile();
    const got: DynamicRecord[] = [];
    for (const shape of [{ kind: 'tensor', size: [3, 4], stride: [4, 1] }, { kind: 'scalar', value: 5 }] as const) got.push(...updateAutomaticDynamic(p, code('f'), "L['a']", entryOf(shape)).records);
    assert.deepEqual(records(l), ours(got));
    assert.equal(renderProfile(p).split('\n')[1], "  L['a']: fully dynamic scalar or tensor");
    // g(5) made no graph, and Dynamo compiled g no more (frames [0, 0]): its entry is the int's
    assert.deepEqual((l.frames_after_each_call as number[][])[1], [0, 0]);
    assert.deepEqual((l.state as { entries: Record<string, unknown> }[])[1].entries["L['a']"], { scalar: 5, size: 'dynamic', stride: 'dynamic' });
  });
  it('views and wobbling strides: the records of a view and its ._base (recorded first) are the model\'s', () => {
    const t = (size: number[], stride: number[]) => entryOf({ kind: 'tensor', size, stride });
    const p = emptyProfile();
    const got: DynamicRecord[] = [];
    const obs: [string, string, ReturnType<typeof t>][] = [
      // f: a contiguous (3, 4); then ones(4, 5).t(): its base first; the third call compiled nothing
      ['f', "L['x']", t([3, 4], [4, 1])], ['f', "L['x']._base", t([4, 5], [5, 1])], ['f', "L['x']", t([5, 4], [1, 5])],
      // g: (3, 4); ones(4, 3).t(); ones(3, 5)[:, :4]
      ['g', "L['x']", t([3, 4], [4, 1])], ['g', "L['x']._base", t([4, 3], [3, 1])], ['g', "L['x']", t([3, 4], [1, 3])],
      ['g', "L['x']._base", t([3, 5], [5, 1])], ['g', "L['x']", t([3, 4], [5, 1])],
    ];
    for (const [c, src, e] of obs) got.push(...updateAutomaticDynamic(p, code(c), src, e).records);
    assert.deepEqual(records(probe('stride_with_dynamic_size')), ours(got));
  });
  it('a rank change and a size-0 tensor log what the model logs', () => {
    const p = emptyProfile();
    const got: DynamicRecord[] = [];
    for (const size of [[0], [3], [2, 3]]) got.push(...updateAutomaticDynamic(p, code('f'), "L['x']", entryOf({ kind: 'tensor', size, stride: size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1)) })).records);
    assert.deepEqual(records(probe('empty_and_rank_change')), ours(got));
  });
  it('strides are inferred (no symbol of their own) while a size dim is dynamic; symbolic when sizes are static (why.ts)', () => {
    const [f, g] = probe('stride_with_dynamic_size').inputs as { size: string[]; stride: string[] | null }[][][];
    const symbols = (xs: string[]) => new Set(xs.flatMap((x) => x.match(/\b[a-z]\d+\b/g) ?? []));
    // each compile's first tensor input (SymInt inputs may come first)
    const tensorOf = (compiles: { size: string[]; stride: string[] | null }[][]) => compiles.at(-1)!.find((i) => i.size)!;
    const lastF = tensorOf(f);
    assert.ok(symbols(lastF.size).size > 0, `f's last compile has a dynamic size: ${JSON.stringify(lastF)}`);
    for (const s of symbols(lastF.stride!)) assert.ok(symbols(lastF.size).has(s), `f's stride symbol ${s} is one of its sizes': ${JSON.stringify(lastF)}`);
    const lastG = tensorOf(g);
    assert.equal(symbols(lastG.size).size, 0, `g's sizes stay static: ${JSON.stringify(lastG)}`);
    assert.ok(symbols(lastG.stride!).size > 0, `g's strides are symbolic: ${JSON.stringify(lastG)}`);
  });
  it('a cache_key_tag with colons: the key and the local file name', () => {
    const l = probe('cache_key_tag_colon');
    assert.deepEqual(parseCacheKey(l.cache_key as string), { job: 'job', rank: null, tag: 'exp:v2' });
    assert.equal(localFileName(l.cache_key as string), l.local_file);
  });
  it("a file PyTorch could not read, with ')' in its path: the render text's code id", () => {
    const l = probe('missing_file_with_paren');
    const [{ id }] = [...parseRenderText(l.render!).codes.values()];
    const [{ code: want }] = l.state as { code: Record<string, unknown> }[];
    assert.deepEqual({ ...id }, want);
  });
  it("mark_dynamic's |= logs no record and leaves the marked dim dynamic from the first compile", () => {
    const l = probe('mark_dynamic');
    const first = l.after_first as Line & { state: { entries: Record<string, { size: unknown[] }> }[] };
    assert.deepEqual(first.records, []);
    assert.equal(first.state[0].entries["L['x']"].size[0], 'dynamic');
  });
  it("floats: 2.11's default is specialize_float=False, and a float input's records are the model's for float scalars", () => {
    const l = probe('float_scalar');
    assert.equal(l.specialize_float_default, false);
    const p = emptyProfile();
    const got: DynamicRecord[] = [];
    for (const v of [0.5, 0.25]) got.push(...updateAutomaticDynamic(p, code('f'), "L['s']", makeScalar(new PyFloat(v))).records);
    assert.deepEqual(records(l), ours(got));
  });
});
