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

it('the logs in the order their runs began (a TORCH_TRACE folder names them at random), those that say none after them (trial s28a)', () => {
  const top = join('/data', 'traces');
  const f = (n: string) => join(top, n);
  const starts = new Map([
    [f('dedicated_log_torch_trace_zz1.log'), '1130 01:30:59.400000'],
    [f('dedicated_log_torch_trace_aa2.log.gz'), '1130 01:31:11.300000'],
    [f('dedicated_log_torch_trace_mm3.log'), '1130 01:31:23.100000'],
  ]);
  const files = [...starts.keys(), f('cut.log'), f('code_state_a.pkl')];
  const isLog = (p: string) => p !== f('code_state_a.pkl');
  const want = [...starts.keys(), f('cut.log'), f('code_state_a.pkl')];
  assert.deepEqual(readingOrder(files, isLog, (p) => starts.get(p) ?? null), want);
  assert.deepEqual(readingOrder([...files].reverse(), isLog, (p) => starts.get(p) ?? null), want);
});

it('glogStart: a log\'s first glog line as a text that sorts in time order', async () => {
  const { glogStart } = await import('../codecs/trace/glog-start.ts');
  assert.equal(glogStart(Buffer.from('V1130 01:31:23.417000 640 torch/_logging/structured.py:29] {"str": ["a", 0]}\nV1130 …')), '1130 01:31:23.417000');
  // glog's microseconds fixed-width: a shorter fraction pads, so it sorts as a time
  assert.equal(glogStart(Buffer.from('I0101 00:00:00.5 1 x.py:1] {}\n')), '0101 00:00:00.500000');
  assert.equal(glogStart(Buffer.from('not a glog line\n')), null);
  assert.equal(glogStart(Buffer.alloc(0)), null);
});
