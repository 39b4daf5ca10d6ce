import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { readingOrder } from './reading-order.ts';

it("a tree's logs before its other files, each depth first in name order: a cache folder beside a trace folder, and a folder a run", () => {
  const top = join('/data', 'job');
  const files = ['cache/dynamo/code_state_a.pkl', 'code_state_a.pkl', 'run1/code_state_a.pkl', 'run1/trace.log.gz', 'run2/code_state_a.pkl', 'run2/trace.log', 'traces/rank0.log', 'z.log', 'notes.txt', 'run10/x.pkl'].map((f) => join(top, f));
  const logs = new Set(['run1/trace.log.gz', 'run2/trace.log', 'traces/rank0.log', 'z.log'].map((f) => join(top, f)));
  const want = [
    ...['run1/trace.log.gz', 'run2/trace.log', 'traces/rank0.log', 'z.log'],
    ...['cache/dynamo/code_state_a.pkl', 'code_state_a.pkl', 'notes.txt', 'run1/code_state_a.pkl', 'run10/x.pkl', 'run2/code_state_a.pkl'],
  ].map((f) => join(top, f));
  assert.deepEqual(readingOrder(files, (f) => logs.has(f)), want);
  // whatever order they come in
  assert.deepEqual(readingOrder([...files].reverse(), (f) => logs.has(f)), want);
  // no logs: depth first in name order, as the folder's walk lists them
  assert.deepEqual(readingOrder(files, () => false), [...files].sort());
});
