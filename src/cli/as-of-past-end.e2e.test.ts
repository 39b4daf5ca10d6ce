import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

const dir = tempDir();

describe('a point past the log\'s end is said, and answers as the whole log', () => {
  const db = join(dir, 'end.db');
  const obs = join(dir, 'obs.jsonl');
  const line = (t: string, n: number) => JSON.stringify({ job: 'end', run: 'r1', time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
  writeFileSync(obs, [line('2026-11-26T10:00:00Z', 8), line('2026-11-26T10:05:00Z', 9), line('2026-11-26T10:01:00Z', 10)].join('\n') + '\n');
  const base = ['--job', 'end'];

  it('every read command that takes --as-of notes it on stderr, exit 0, the same answer', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    for (const cmd of [['show'], ['why'], ['history', '--json'], ['stats'], ['export', '--format', 'remote-json', '-o', '-']]) {
      const whole = cli(db, [...cmd, ...base]);
      assert.equal(whole.status, 0, whole.stderr);
      for (const [point, note] of [
        ['4', /pgo-ledger: note: --as-of 4 is past the log's last position, 3: it holds every event \(a bare number is a log position; a time is written in ISO 8601, such as the log's latest event time, 2026-11-26T10:05:00\.000Z\)\n/],
        ['2026-11-26T10:06:00Z', /pgo-ledger: note: --as-of 2026-11-26T10:06:00Z is after the log's latest event time, 2026-11-26T10:05:00\.000Z: it holds every event\n/],
      ] as const) {
        const r = cli(db, [...cmd, ...base, '--as-of', point]);
        assert.equal(r.status, 0, `${cmd[0]}: ${r.stderr}`);
        assert.match(r.stderr, note, cmd[0]);
        assert.equal(r.stdout, whole.stdout, cmd[0]);
      }
      // the last position and the latest time are inside the log: no note
      for (const point of ['3', '2026-11-26T10:05:00Z']) assert.equal(cli(db, [...cmd, ...base, '--as-of', point]).stderr, '', `${cmd[0]} --as-of ${point}`);
    }
  });

  it('a number past the end that reads as seconds since the epoch: the note says a time is ISO 8601 and gives those seconds as one, on every command that takes --as-of (session 20)', () => {
    // 1795687320 is 2026-11-26T10:02:00Z as seconds since the epoch: read as a position it held every event, unsaid
    const note = /pgo-ledger: note: --as-of 1795687320 is past the log's last position, 3: it holds every event \(a bare number is a log position; a time is written in ISO 8601: as seconds since the epoch, 1795687320 is 2026-11-26T10:02:00\.000Z\)\n/;
    for (const cmd of [['show'], ['why'], ['history', '--json'], ['stats'], ['export', '--format', 'remote-json', '-o', '-'], ['publish', 'redis://127.0.0.1:1', '--dry-run'], ['report', '-o', join(dir, 'end.html')]]) {
      const r = cli(db, [...cmd, ...base, '--as-of', '1795687320']);
      assert.match(r.stderr, note, cmd[0]);
    }
    // milliseconds too
    assert.match(cli(db, ['show', ...base, '--as-of', '1795687320000']).stderr, /a time is written in ISO 8601: as milliseconds since the epoch, 1795687320000 is 2026-11-26T10:02:00\.000Z\)\n$/);
    const d = cli(db, ['diff', ...base, '--from', '1', '--to', '1795687560']);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stderr, /note: --to 1795687560 is past the log's last position, 3: it holds every event \(a bare number is a log position; a time is written in ISO 8601: as seconds since the epoch, 1795687560 is 2026-11-26T10:06:00\.000Z\)/);
  });

  it('and diff says it of --from and --to', () => {
    const r = cli(db, ['diff', ...base, '--from', '1', '--to', '30']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /note: --to 30 is past the log's last position, 3/);
    assert.equal(r.stdout, cli(db, ['diff', ...base, '--from', '1']).stdout);
    const t = cli(db, ['diff', ...base, '--from', '2027-01-01T00:00:00Z', '--to', '2027-01-02T00:00:00Z']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stderr, /note: --to 2027-01-02T00:00:00Z is after the log's latest event time/);
    assert.match(t.stderr, /note: --from 2027-01-01T00:00:00Z is after the log's latest event time/);
    assert.equal(t.stdout, 'no change\n');
  });
});

for (const dialect of DIALECTS) describe(`a point before the log's first event is said too: the empty answer is right, exit 0 (${dialect})`, () => {
  const db = ledgerAt(dialect, dir, 'start.db');
  const obs = join(dir, `start-${dialect}.jsonl`);
  const line = (t: string, n: number) => JSON.stringify({ job: 'start', run: 'r1', time: t, code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
  writeFileSync(obs, [line('2026-11-26T10:05:00Z', 8), line('2026-11-26T10:00:00Z', 9)].join('\n') + '\n');
  const base = ['--job', 'start'];

  it('every read command that takes --as-of notes it on stderr, as past the end, with the same exit code', () => {
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    for (const cmd of [['show'], ['why'], ['history', '--json'], ['stats']]) {
      for (const [point, note] of [
        ['0', /pgo-ledger: note: --as-of 0 is before the log's first position, 1: no event is at or before it\n/],
        ['2026-11-26T09:59:59Z', /pgo-ledger: note: --as-of 2026-11-26T09:59:59Z is before the log's earliest event time, 2026-11-26T10:00:00\.000Z: no event is at or before it\n/],
      ] as const) {
        const r = cli(db, [...cmd, ...base, '--as-of', point]);
        assert.equal(r.status, 0, `${cmd[0]}: ${r.stderr}`);
        assert.match(r.stderr, note, cmd[0]);
      }
      // the first position and the earliest time hold an event: no note
      for (const point of ['1', '2026-11-26T10:00:00Z']) assert.equal(cli(db, [...cmd, ...base, '--as-of', point]).stderr, '', `${cmd[0]} --as-of ${point}`);
    }
  });
});
