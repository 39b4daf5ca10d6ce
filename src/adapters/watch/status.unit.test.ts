import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusSink } from './status.ts';

const pass = (n: number, time: number, appended: number, behindBytes = 0, failed = 0) => ({ pass: n, time, files: 3, keys: 2, redisUp: true, appended, failed, behindBytes, behindSeconds: behindBytes ? 1.5 : null });

describe('watch status (issue 12.3)', () => {
  it('issue 12.3: on a terminal one status line on stderr, rewritten in place; notes above it', () => {
    const err: string[] = [];
    const out: string[] = [];
    const s = statusSink({ json: false, tty: true, out: (x) => out.push(x), err: (x) => err.push(x) });
    s.input({ input: '/t/trace.log', kind: 'trace', from: 0, to: 10, appended: 4, duplicates: 0, records: 1 }, Date.UTC(2026, 10, 28, 4, 0, 0));
    s.pass(pass(1, Date.UTC(2026, 10, 28, 4, 0, 1), 4, 20));
    s.note('a note');
    s.pass(pass(2, Date.UTC(2026, 10, 28, 4, 0, 3), 0));
    s.done();
    assert.deepEqual(out, []);
    assert.deepEqual(err, [
      'watch 04:00:01: 3 files, 2 Redis keys; 4 events appended (last from trace.log at 04:00:00); behind 20 bytes, 1.5 s',
      '\r\x1b[2K',
      'a note\n',
      'watch 04:00:01: 3 files, 2 Redis keys; 4 events appended (last from trace.log at 04:00:00); behind 20 bytes, 1.5 s',
      '\r\x1b[2K',
      'watch 04:00:03: 3 files, 2 Redis keys; 4 events appended (last from trace.log at 04:00:00); up to date',
      '\n',
    ]);
  });

  it('issue 12.3: --json: one object per input and per pass that appended or is behind, else one a minute', () => {
    const out: string[] = [];
    const s = statusSink({ json: true, tty: false, out: (x) => out.push(x), err: () => {} });
    const t = Date.UTC(2026, 10, 28, 4, 0, 0);
    s.input({ input: 'redis://127.0.0.1:6379/pt2:dynamo-pgo::a:None::c1', kind: 'redis', appended: 9, duplicates: 0, records: 0 }, t);
    s.pass(pass(1, t, 9));
    s.pass(pass(2, t + 2000, 0));
    s.pass(pass(3, t + 61_000, 0));
    const lines = out.map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { report: 'input', time: '2026-11-28T04:00:00.000Z', input: 'redis://127.0.0.1:6379/pt2:dynamo-pgo::a:None::c1', kind: 'redis', appended: 9, duplicates: 0, skipped: 0, records: 0 });
    assert.deepEqual(lines[1], { report: 'pass', pass: 1, time: '2026-11-28T04:00:00.000Z', files: 3, keys: 2, redis_up: true, appended: 9, failed: 0, behind: { bytes: 0, seconds: null } });
    assert.deepEqual(lines.map((l) => l.pass ?? null), [null, 1, 3]);
  });

  it('a pass with inputs that could not be taken is reported (a --json line even when it appended nothing; "N failed" on the status line)', () => {
    const out: string[] = [];
    const s = statusSink({ json: true, tty: false, out: (x) => out.push(x), err: () => {} });
    const t = Date.UTC(2026, 10, 28, 4, 0, 0);
    s.pass(pass(1, t, 9));
    s.pass(pass(2, t + 2000, 0, 0, 2));
    assert.deepEqual(out.map((l) => JSON.parse(l).failed), [0, 2]);
    const err: string[] = [];
    const tty = statusSink({ json: false, tty: true, out: () => {}, err: (x) => err.push(x) });
    tty.pass(pass(1, t, 0, 0, 1));
    assert.equal(err[0], 'watch 04:00:00: 3 files, 2 Redis keys; 0 events appended; 1 failed (said above); up to date');
  });

  it('the status line counts in English: one Redis key, one byte behind (it wrote "1 Redis keys", "1 bytes")', () => {
    const err: string[] = [];
    const s = statusSink({ json: false, tty: true, out: () => {}, err: (x) => err.push(x) });
    s.pass({ ...pass(1, Date.UTC(2026, 10, 28, 4, 0, 0), 0, 1), files: 1, keys: 1 });
    assert.equal(err[0], 'watch 04:00:00: 1 file, 1 Redis key; 0 events appended; behind 1 byte, 1.5 s');
  });
});
