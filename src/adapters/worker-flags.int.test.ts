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
