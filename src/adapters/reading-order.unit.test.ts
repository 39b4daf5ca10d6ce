import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { readingOrder } from './reading-order.ts';

it("each folder's logs before its other files and subfolders; runs' folders in name order, each its log then its file", () => {
  const top = join('/data', 'job');
  const files = ['code_state_a.pkl', 'run1/code_state_a.pkl', 'run1/trace.log.gz', 'run2/code_state_a.pkl', 'run2/trace.log', 'z.log', 'notes.txt', 'run10/x.pkl'].map((f) => join(top, f));
  const logs = new Set(['run1/trace.log.gz', 'run2/trace.log', 'z.log'].map((f) => join(top, f)));
  const want = ['z.log', 'code_state_a.pkl', 'notes.txt', 'run1/trace.log.gz', 'run1/code_state_a.pkl', 'run10/x.pkl', 'run2/trace.log', 'run2/code_state_a.pkl'].map((f) => join(top, f));
  assert.deepEqual(readingOrder(files, (f) => logs.has(f)), want);
  // whatever order they come in
  assert.deepEqual(readingOrder([...files].reverse(), (f) => logs.has(f)), want);
  // no logs: depth first in name order
  assert.deepEqual(readingOrder(files, () => false), [...files].sort());
});
