import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { openLedger } from '../store/ledger.ts';
import { ingestObservations } from './ingest-observations.ts';

it("the parse worker starts under Node's own V8 flags where the command line set them, raised again before its first batch", async () => {
  const dir = tempDir();
  const file = join(dir, 'obs.jsonl');
  const line = (i: number) => JSON.stringify({ job: 'j', run: 'r', time: 1795600000 + i, code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [8 + (i % 3), 4], stride: [4, 1] });
  writeFileSync(file, Array.from({ length: 300 }, (_, i) => line(i)).join('\n') + '\n');
  // What bin/v8-flags.cjs sets, noting the calls instead of setting V8's flags.
  const key = Symbol.for('pgo-ledger.nodeFlags');
  const g = globalThis as { [k: symbol]: unknown };
  const calls: string[] = [];
  g[key] = () => {
    calls.push('own flags');
    return () => calls.push('raised');
  };
  const l = await openLedger(join(dir, 'l.db'));
  try {
    const sum = await ingestObservations(l, file, { worker: true, batchSize: 100, onProgress: () => calls.push('batch') });
    assert.equal(sum.appended, 300);
  } finally {
    delete g[key];
    await l.close();
  }
  assert.deepEqual(calls.slice(0, 3), ['own flags', 'raised', 'batch']);
  assert.ok(calls.slice(3).every((c) => c === 'batch'), calls.join(', '));
});

it("an observation ingest sets the command line's ingest flags for its whole run, and sets them back when it ends, a bad line's failure too", async () => {
  const dir = tempDir();
  const file = join(dir, 'obs.jsonl');
  const line = (i: number) => JSON.stringify({ job: 'j', run: 'r', time: 1795600000 + i, code: { filename: '/srv/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [8 + (i % 3), 4], stride: [4, 1] });
  writeFileSync(file, Array.from({ length: 300 }, (_, i) => line(i)).join('\n') + '\n');
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, Array.from({ length: 250 }, (_, i) => line(i)).join('\n') + '\n{"job": \n');
  const key = Symbol.for('pgo-ledger.ingestFlags');
  const g = globalThis as { [k: symbol]: unknown };
  const calls: string[] = [];
  g[key] = () => {
    calls.push('set');
    return () => calls.push('back');
  };
  const l = await openLedger(join(dir, 'l.db'));
  try {
    const sum = await ingestObservations(l, file, { batchSize: 100, onProgress: () => calls.push('batch') });
    assert.equal(sum.appended, 300);
    // set before the first batch, back after the last (an empty one closes a file that fills its batches)
    assert.deepEqual([calls[0], calls.at(-1)], ['set', 'back']);
    assert.ok(calls.length >= 5 && calls.slice(1, -1).every((c) => c === 'batch'), calls.join(', '));
    calls.length = 0;
    await assert.rejects(ingestObservations(l, bad, { batchSize: 100, onProgress: () => calls.push('batch') }), /bad\.jsonl:251/);
    assert.deepEqual(calls, ['set', 'batch', 'batch', 'back']);
  } finally {
    delete g[key];
    await l.close();
  }
});
