import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s36a: in a folder, an empty or random `code_state_*.pkl` and a garbage
// `dedicated_log_torch_trace_*.log` were skipped as "not PGO data" with the folder's other files,
// unnamed, exit 0; given alone each failed (exit 2). Their names say PyTorch wrote them: damage.
const dir = tempDir();

describe('a folder: a file named as PyTorch names a snapshot or a trace log, holding no PGO data', () => {
  const line = JSON.stringify({ job: 'q', run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'aa' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1] });

  it('fails, named, and the other files go in; other files of no PGO data and an empty trace log are counted as before', () => {
    const d = join(dir, 'run');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'a.jsonl'), `${line}\n`);
    writeFileSync(join(d, 'code_state_q_None_.pkl'), '');
    writeFileSync(join(d, 'code_state_r_None_.pkl'), Buffer.from([0x13, 0x37, 0xff, 0x00, 0x42, 0x99]));
    writeFileSync(join(d, 'dedicated_log_torch_trace_abc.log'), 'hello, no glog here\n');
    writeFileSync(join(d, 'dedicated_log_torch_trace_empty.log'), '');
    writeFileSync(join(d, 'notes.bin'), Buffer.from([0x13, 0x37, 0xff, 0x00]));
    const r = cli(join(dir, 'run.db'), ['ingest', d]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /code_state_q_None_\.pkl: failed: empty file \(no PGO data\), named as PyTorch names a profile snapshot \(code_state_\*\.pkl\)\n/);
    assert.match(r.stderr, /code_state_r_None_\.pkl: failed: not PGO data, named as PyTorch names a profile snapshot \(code_state_\*\.pkl\): its first bytes are no pickle\n/);
    assert.match(r.stderr, /dedicated_log_torch_trace_abc\.log: failed: not PGO data, named as PyTorch names a TORCH_TRACE log \(dedicated_log_torch_trace_\*\.log\): its first bytes are no glog line\n/);
    assert.match(r.stderr, /3 inputs failed \(the others were ingested\)/);
    assert.match(r.stdout, /1 observations file; 2 not PGO data, skipped; 3 failed\): 1 event appended/);
    assert.match(cli(join(dir, 'run.db'), ['jobs']).stdout, /^q:None:\t1 event/m);
  });
});
