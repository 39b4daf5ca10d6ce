import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from '../model/code-id.ts';
import { eventSchemas } from './events.ts';
import { plainCodeId } from './log.ts';

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
