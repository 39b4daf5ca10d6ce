import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from '../model/code-id.ts';
import { eventSchemas, joinPayload } from './events.ts';
import { shapeFromJson } from './fold.ts';
import { plainCodeId, plainShapeBody } from './log.ts';

describe('dictionaries: the plain check of a code id', () => {
  it('passes only code ids zod passes (zod gives the verdict on the rest), and the common ones', () => {
    const base = { filename: '/m.py', firstlineno: 3, name: 'f', file_hash: 'h' };
    const odd: Record<string, unknown>[] = [
      base,
      { filename: '', firstlineno: 0, name: '', file_hash: '' },
      { ...base, firstlineno: -1 },
      { ...base, firstlineno: 2 ** 53 },
      { ...base, firstlineno: 2 ** 53 - 1 },
      { ...base, firstlineno: 1.5 },
      { ...base, firstlineno: NaN },
      { ...base, firstlineno: Infinity },
      { ...base, firstlineno: '1' },
      { ...base, firstlineno: 1n },
      { ...base, closure_hash: null },
      { ...base, closure_hash: undefined },
      { ...base, closure_hash: 5 },
      { ...base, closure_hash: 2 ** 60 },
      { ...base, closure_hash: 5n },
      { ...base, closure_hash: 'None' },
      { ...base, extra: [] },
      { ...base, extra: [['a', 1]] },
      { ...base, extra: 'x' },
      { ...base, filename: 1 },
      { ...base, name: null },
      { ...base, file_hash: undefined },
      { filename: '/m.py', firstlineno: 3, name: 'f' },
      { ...base, unknown: 1 },
      { ...base, filename: '\u0000\ud800"\\' },
    ];
    const schema = eventSchemas().CodeIdSchema;
    for (const c of odd) if (plainCodeId(c as unknown as CodeId)) assert.ok(schema.safeParse(c).success, JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    assert.ok(plainCodeId(base as CodeId) && plainCodeId({ ...base, closure_hash: null } as CodeId));
  });
});

describe('dictionaries: the plain check of a shape.observed body', () => {
  it('passes only bodies zod passes, as zod reads them (zod gives the verdict on the rest), and the common ones', () => {
    const tensor = { kind: 'tensor', size: [8, 3], stride: [3, 1] };
    const odd: unknown[] = [
      tensor,
      { ...tensor, automatic_dynamic: false },
      { ...tensor, automatic_dynamic: true },
      { ...tensor, automatic_dynamic: 'no' },
      { ...tensor, automatic_dynamic: null },
      { kind: 'tensor', size: [], stride: [] },
      { kind: 'tensor', size: [8] },
      { kind: 'tensor', stride: [1] },
      { kind: 'tensor', size: [8], stride: [1], value: 3 },
      { kind: 'tensor', size: ['8'], stride: [1] },
      { kind: 'tensor', size: ['-12345678901234567890'], stride: [1] },
      { kind: 'tensor', size: [2 ** 53], stride: [1] },
      { kind: 'tensor', size: [-(2 ** 53) + 1, -0], stride: [1.5] },
      { kind: 'tensor', size: [null], stride: [1] },
      { kind: 'tensor', size: [[1]], stride: [1] },
      { kind: 'tensor', size: {}, stride: [1] },
      { kind: 'tensor', size: [1], stride: [1], extra: 1 },
      { kind: 'scalar', value: 7 },
      { kind: 'scalar', value: 7, automatic_dynamic: false },
      { kind: 'scalar', value: '7' },
      { kind: 'scalar', value: 7.5 },
      { kind: 'scalar', value: null },
      { kind: 'scalar' },
      { kind: 'scalar', value: 7, size: [1] },
      { kind: 'size', size: [4, 5] },
      { kind: 'size', size: [4, 5], stride: [1, 1] },
      { kind: 'size', stride: [1] },
      { kind: 'Tensor', size: [1], stride: [1] },
      { size: [1], stride: [1] },
      JSON.parse('{"kind":"scalar","value":1,"__proto__":{"x":1}}'),
      JSON.parse('{"kind":"scalar","kind":"size","size":[1]}'),
      [tensor],
      null,
      'tensor',
      7,
    ];
    const schema = eventSchemas().StoredBodies['shape.observed'][1];
    for (const b of odd) {
      if (!plainShapeBody(b)) continue;
      assert.ok(schema.safeParse(b).success, JSON.stringify(b));
      // what the dictionaries make of it, either way
      const viaZod = joinPayload('shape.observed', 1, { filename: '', firstlineno: 0, name: '', file_hash: '' }, '', b);
      assert.ok(viaZod.kind === 'shape.observed');
      const o = b as { automatic_dynamic?: boolean };
      assert.deepEqual([shapeFromJson(b as never), o.automatic_dynamic !== false], [shapeFromJson(viaZod.payload.shape), viaZod.payload.automatic_dynamic]);
    }
    for (const b of [tensor, { ...tensor, automatic_dynamic: false }, { kind: 'scalar', value: -3 }, { kind: 'size', size: [4, 5] }]) assert.ok(plainShapeBody(b), JSON.stringify(b));
  });
});
