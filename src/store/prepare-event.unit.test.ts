import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePayload } from './events.ts';
import { prepareEvent, surelyValid, type NewEvent } from './prepare-event.ts';

const code = { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'ab' };
const BASES: [string, Record<string, unknown>][] = [
  ['entry.imported', { code, source: "L['x']", entry: { scalar: 'unset', size: [2, 'dynamic', '99999999999999999999'], stride: [{ infer: 1 }, { infer: 1, obj: 1 }, 1], excluded_sizes: [null, 3], excluded_scalar: null }, import_id: null, format: 'put_local_code_state', records: 'logged' }],
  ['entry.imported', { code: { ...code, closure_hash: 5n }, source: 's', entry: { scalar: 7, size: 'dynamic', stride: 'unset' }, import_id: 4, format: 'pickle' }],
  ['dynamic.logged', { code: { ...code, closure_hash: null }, source: 's', record: { dim_changed: 0, reason: 'size change', cached: '[2]', new: '[3]' }, guard: null }],
  ['dynamic.logged', { code, source: 's', record: { dim_changed: 'scalar', reason: 'scalar change', cached: '1', new: '2' }, guard: 'x == 1' }],
  ['shape.described', { code, source: 's', size: [2, 's0', null], stride: null, dtype: 'torch.float32', device: null, role: 'buffer' }],
  ['shape.observed', { code, source: 's', shape: { kind: 'tensor', size: [2, '3'], stride: [3, 1] }, automatic_dynamic: true }],
  ['shape.observed', { code, source: 's', shape: { kind: 'scalar', value: -4 }, automatic_dynamic: false }],
  ['shape.observed', { code, source: 's', shape: { kind: 'size', size: [] }, automatic_dynamic: true }],
  ['run.retracted', { run: 'r', reason: 'bad' }],
];
const ODD: unknown[] = [undefined, null, 0, -0, -1, 1.5, NaN, Infinity, 2 ** 53, 1e20, 5n, '', '1', '-1', '01', '1.0', ' 1', '1e3', 'dynamic', 'unset', 'scalar', 'all', 'other', 'fold', 'logged', 'input', true, [], [1], ['x'], [null], [undefined], {}, { infer: 1 }, { infer: -1 }, { infer: 1, obj: 0 }, Object.create(null), new Date(0), [['a', 1]]];

/** Every payload one leaf (or whole subtree) away from a base one. */
function* mutants(v: unknown): Generator<unknown> {
  for (const o of ODD) yield o;
  if (Array.isArray(v)) {
    for (let i = 0; i <= v.length; i++) for (const m of mutants(v[i])) yield Object.assign([...v], { [i]: m });
    yield [...v, , 1]; // a hole
  } else if (typeof v === 'object' && v !== null) {
    for (const k of [...Object.keys(v), 'extra', 'closure_hash', 'obj']) for (const m of mutants((v as Record<string, unknown>)[k])) yield { ...v, [k]: m };
  }
}

const zodAccepts = (kind: string, p: unknown) => {
  try {
    validatePayload(kind, 1, p);
    return true;
  } catch {
    return false;
  }
};

describe('surelyValid: the check that spares zod', () => {
  it('says yes to the payloads builders make', () => {
    for (const [kind, p] of BASES) assert.ok(surelyValid(kind, p), kind);
  });
  it('never says yes where zod says no, on payloads a leaf away from valid ones', () => {
    let yes = 0;
    let n = 0;
    for (const [kind, base] of BASES) {
      for (const m of mutants(base)) {
        n++;
        if (!surelyValid(kind, m)) continue;
        yes++;
        assert.ok(zodAccepts(kind, m), `${kind}: ${JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v === undefined ? '(undefined)' : v))}`);
      }
    }
    assert.ok(n > 2000 && yes > 100, `${n} payloads, ${yes} passed the check`);
  });
});

describe('prepareEvent: the ids checked', () => {
  // checkIds skips a value that passed just before (a trace's run, key, compiles; one CodeId object a compile)
  const good = (): NewEvent => ({ kind: 'dynamic.logged', cacheKey: 'j:0:', payload: { code, source: 's', record: { dim_changed: 0, reason: 'size change', cached: '[2]', new: '[3]' }, guard: null }, time: 1, run: 'r', origin: 'o', originLine: 1, compileId: '0/0', idempotencyKey: 'k' });
  it('each id of an event, whatever the events before it passed', () => {
    const bad: [string, (e: NewEvent & { kind: 'dynamic.logged' }) => void][] = [
      ['source', (e) => (e.payload.source = 's\u0007')],
      ['code.filename', (e) => (e.payload.code = { ...code, filename: '/srv/m\u000a.py' })],
      ['code.name', (e) => (e.payload.code = { ...code, name: 'f\ud800' })],
      ['code.file_hash', (e) => (e.payload.code = { ...code, file_hash: 'a\u007f' })],
      ['run', (e) => (e.run = 'r\u0000')],
      ['compile_id', (e) => (e.compileId = '0/0\u001b')],
      ['cache key', (e) => (e.cacheKey = 'j\u0001:0:')],
    ];
    for (const [field, spoil] of bad) {
      prepareEvent(good());
      const e = good() as NewEvent & { kind: 'dynamic.logged' };
      spoil(e);
      assert.throws(() => prepareEvent(e), (err: Error) => err.message.includes(`field ${field}:`), field);
    }
    // a cache key that is no job:rank:tag, after one that is
    prepareEvent(good());
    assert.throws(() => prepareEvent({ ...good(), cacheKey: 'j' }), /o:1: /);
    assert.equal(prepareEvent(good()).run, 'r');
  });
});
