import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Shape } from '../model/observation.ts';
import { renderProfile } from '../model/render.ts';
import { emptyStream, fold, type FoldInput, type FoldStep } from './fold.ts';

/** A seeded stream of fold inputs: a few codes and sources, shapes repeating, changing and turning dynamic, with unflagged and logged events between. */
function inputs(n: number, seed: number, shared: boolean): FoldInput[] {
  let x = seed;
  const rnd = (k: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % k);
  const codes = [0, 1, 2].map((i) => ({ filename: `m${i}.py`, firstlineno: 10 * i, name: `f${i}`, file_hash: 'h' }));
  const pool = new Map<string, Shape>();
  const shape = (s: Shape): Shape => {
    if (!shared) return structuredClone(s);
    const k = JSON.stringify(s);
    if (!pool.has(k)) pool.set(k, s);
    return pool.get(k)!;
  };
  const out: FoldInput[] = [];
  for (let i = 0; i < n; i++) {
    const code = codes[rnd(3)];
    const source = `L['x${rnd(3)}']`;
    const r = rnd(100);
    const base = { code, source, entry: null, quiet: false, format: null, record: null, guard: null };
    if (r < 3) {
      out.push({ ...base, kind: 'dynamic.logged', shape: null, automaticDynamic: true, record: { dim_changed: 0, reason: 'size change', cached: '8', new: '16' } });
      continue;
    }
    const dims = 1 + (source.charCodeAt(4) % 3);
    const size = Array.from({ length: dims }, (_, d) => (d === 0 && rnd(4) === 0 ? [8, 16, 32][rnd(3)] : 4 + d));
    const stride = size.map((_, d) => size.slice(d + 1).reduce((a, b) => a * b, 1));
    const s: Shape = r < 10 ? { kind: 'scalar', value: rnd(3) } : r < 14 ? { kind: 'size', size } : { kind: 'tensor', size, stride };
    out.push({ ...base, kind: 'shape.observed', shape: shape(s), automaticDynamic: rnd(40) !== 0 });
  }
  return out;
}

const plain = (s: FoldStep | null) => s && { code: s.code, seq: s.codeSeq, source: s.source, before: s.before && { ...s.before }, after: { ...s.after }, same: s.before === s.after, records: s.records, guard: s.guard };

describe('the fold', () => {
  it('shapes shared between events (the known-kept shortcut) fold exactly as a fresh shape for each event: every step and the profile', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const a = emptyStream();
      const b = emptyStream();
      const fresh = inputs(3000, seed, false);
      const shared = inputs(3000, seed, true);
      for (let i = 0; i < fresh.length; i++) assert.deepEqual(plain(fold(a, shared[i])), plain(fold(b, fresh[i])), `seed ${seed}, event ${i}`);
      assert.equal(renderProfile(a.profile), renderProfile(b.profile));
    }
  });
});
