import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryOf } from './observation.ts';
import { emptyProfile } from './profile.ts';
import { dimSwitchHint, switchAdvice, switchText } from './switches.ts';
import { updateAutomaticDynamic } from './update.ts';

const code = { filename: 'm.py', firstlineno: 1, name: 'f', file_hash: 'h' };

describe('issue 13.6: advice in the newer switches', () => {
  it('per-dim DYNAMIC_SOURCES where only some dims are dynamic, STATIC and UNBACKED from the facts, each with its versions', () => {
    const p = emptyProfile();
    const t = (size: number[]) => entryOf({ kind: 'tensor', size, stride: size.map(() => 1) });
    updateAutomaticDynamic(p, code, "L['x']", t([8, 3, 4]));
    updateAutomaticDynamic(p, code, "L['x']", t([1, 3, 5]));
    updateAutomaticDynamic(p, code, "L['n']", entryOf({ kind: 'scalar', value: 2 }));
    updateAutomaticDynamic(p, code, "L['n']", entryOf({ kind: 'scalar', value: 3 }));
    const a = switchAdvice(p, [{ source: "L['w']", staticAcrossRuns: true }, { source: "L['x']", zeroOneDims: [0] }]);
    assert.deepEqual(
      a.map((x) => [x.switch, x.value, x.versions]),
      [
        ['TORCH_COMPILE_DYNAMIC_SOURCES', "L['x'],L['n']", 'PyTorch 2.7+'],
        ['TORCH_COMPILE_DYNAMIC_SOURCES', "L['x']:0,L['x']:2,L['n']", 'PyTorch after 2.11 (#184120)'],
        ['TORCH_COMPILE_STATIC_SOURCES', "L['w']", 'PyTorch after 2.11 (#193626)'],
        ['TORCH_COMPILE_UNBACKED_SOURCES', "L['x']:0", 'PyTorch 2.9+, per-dim entries PyTorch after 2.11 (#184120)'],
      ],
    );
    assert.match(switchText(a[3]), /^TORCH_COMPILE_UNBACKED_SOURCES="L\['x'\]:0" \(PyTorch 2\.9\+.*\): these took 0 or 1/);
  });
  // Trial s36a: g's L['x'] dims 0 and 1 dynamic, f's L['x'] dim 1 static at 3: the per-dim line
  // lists L['x']:1, which starts f's dim 1 dynamic too, and said "the others stay static".
  it('the per-dim line says the frames its dims reach where they are static', () => {
    const p = emptyProfile();
    const g = { ...code, name: 'g', firstlineno: 9 };
    const t = (size: number[]) => entryOf({ kind: 'tensor', size, stride: size.map(() => 1) });
    updateAutomaticDynamic(p, g, "L['x']", t([2, 3, 4]));
    updateAutomaticDynamic(p, g, "L['x']", t([5, 6, 4]));
    updateAutomaticDynamic(p, code, "L['x']", t([2, 3]));
    const perDim = switchAdvice(p)[1];
    assert.equal(perDim.value, "L['x']:0,L['x']:1");
    assert.equal(perDim.why, "only the dims that changed start dynamic; the others stay static, and a dim listed starts dynamic in every frame with its source: also L['x'] dim 0 of f (m.py:1), L['x'] dim 1 of f (m.py:1), static there");
  });
  it('no per-dim line when every dim is dynamic; nothing when nothing is', () => {
    const p = emptyProfile();
    assert.deepEqual(switchAdvice(p), []);
    updateAutomaticDynamic(p, code, "L['x']", entryOf({ kind: 'size', size: [2, 3] }));
    updateAutomaticDynamic(p, code, "L['x']", entryOf({ kind: 'size', size: [4, 5] }));
    assert.deepEqual(switchAdvice(p).map((x) => x.value), ["L['x']"]);
  });
  it('an int that took 0 or 1 gets no UNBACKED advice: Dynamo does not specialize an unspecialized int on 0/1', () => {
    // torch/_dynamo/variables/builder.py (v2.11.0) VariableBuilder.wrap_symint makes a dynamic int
    // with ShapeEnv.create_unspecified_symint_and_symbol, whose create_unspecified_symbol passes
    // do_not_specialize_zero_one=True (torch/fx/experimental/symbolic_shapes.py): 0 and 1 get a
    // symbol like any other value. Only tensor sizes (create_symbol's default) are specialized.
    const p = emptyProfile();
    updateAutomaticDynamic(p, code, "L['n']", entryOf({ kind: 'scalar', value: 0 }));
    updateAutomaticDynamic(p, code, "L['n']", entryOf({ kind: 'scalar', value: 5 }));
    const a = switchAdvice(p, [{ source: "L['n']", zeroOneDims: ['scalar'] }]);
    assert.deepEqual(a.map((x) => x.switch), ['TORCH_COMPILE_DYNAMIC_SOURCES']);
    const hint = dimSwitchHint("L['n']", 'scalar', true, [{ value: '0', runs: ['a'] }, { value: '5', runs: ['b'] }]);
    assert.match(hint, /^TORCH_COMPILE_DYNAMIC_SOURCES="L\['n'\]"/);
    assert.doesNotMatch(hint, /UNBACKED|specializes/);
    // a size dim that took 1 still does
    assert.deepEqual(switchAdvice(p, [{ source: "L['x']", zeroOneDims: [0, 'scalar'] }]).at(-1)!.value, "L['x']:0");
  });
  it('an int read from a global: the profile alone does not make it dynamic, only the switch does', () => {
    // torch/_dynamo/variables/builder.py (v2.11.0) wrap_literal: is_dynamic_source first, then
    // is_int_specialization_case (`not source.guard_source().is_local()`: globals) gives a constant
    // with EQUALS_MATCH after recording the profile. test/fixtures/oracle-probe/probe.jsonl
    // (int_specialization_warm_start): PyTorch 2.11 compiled G['N'] = 2, 3, 4 three times cold and
    // three times again warm, with the profile saying dynamic.
    const values = [{ value: '2', runs: ['a'] }, { value: '3', runs: ['a'] }];
    const g = dimSwitchHint("G['N']", 'scalar', true, values);
    assert.match(g, /^TORCH_COMPILE_DYNAMIC_SOURCES="G\['N'\]" \(PyTorch 2\.7\+\) starts it dynamic; the profile alone does not: Dynamo specializes an int read from a global/);
    assert.doesNotMatch(dimSwitchHint("L['n']", 'scalar', true, values), /profile alone/);
    assert.doesNotMatch(dimSwitchHint("G['x']", 0, true, values), /profile alone/);
  });
  it("why's hint: per dim, unbacked for 0/1, static over runs", () => {
    assert.match(dimSwitchHint("L['x']", 0, true, [{ value: '1', runs: ['a'] }, { value: '8', runs: ['b'] }]), /DYNAMIC_SOURCES="L\['x'\]:0" \(PyTorch after 2\.11.*it took 1, which PyTorch specializes: TORCH_COMPILE_UNBACKED_SOURCES="L\['x'\]:0"/);
    assert.match(dimSwitchHint("L['x']", 1, false, [{ value: '3', runs: ['a', 'b'] }]), /^TORCH_COMPILE_STATIC_SOURCES="L\['x'\]:1" \(PyTorch after 2\.11 \(#193626\)\)/);
    // trial s36b: a static dim that took four values (overwrites) was told to be pinned static,
    // which compiles once per value
    assert.equal(dimSwitchHint("L['x']", 0, false, [{ value: '4', runs: ['a'] }, { value: '8', runs: ['b'] }, { value: '16', runs: ['c'] }, { value: '32', runs: ['d'] }]), '');
    assert.equal(dimSwitchHint("L['x']", 1, false, [{ value: '3', runs: ['a'] }]), '');
  });
});

it('advice in the switches can be pasted into a shell as it is (found by a new-user tryout)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { shellQuoted } = await import('./switches.ts');
  for (const v of [`L["q"]`, `L['x'],L['self'].w`, 'L["a$b"]', 'L["back\\\\slash`tick`"]']) {
    assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuoted(v)}`], { encoding: 'utf8' }), v);
  }
});
