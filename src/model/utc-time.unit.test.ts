import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIsoTime, parseUtcTime } from './utc-time.ts';

describe('times: ISO 8601, UTC where no offset is given', () => {
  it('reads a date, a time with Z (either case), an offset with or without its colon, or none (UTC)', () => {
    const at = Date.UTC(2026, 10, 26, 10, 0, 0);
    assert.equal(parseUtcTime('2026-11-26T10:00:00Z'), at);
    assert.equal(parseUtcTime('2026-11-26t10:00:00z'), at);
    assert.equal(parseUtcTime('2026-11-26T12:00:00+02:00'), at);
    assert.equal(parseUtcTime('2026-11-26T12:00:00+0200'), at);
    assert.equal(parseUtcTime('2026-11-26 10:00'), at);
    assert.equal(parseUtcTime('2026-11-26T10:00:00.250'), at + 250);
    assert.equal(parseUtcTime('2026-11-26'), Date.UTC(2026, 10, 26));
  });
  it("takes none of Date.parse's other forms, which it reads in the machine's zone", () => {
    for (const s of ['Nov 26 2026 10:00', 'Thu, 26 Nov 2026 10:00:00', '1', '26/11/2026', '2026-11-26T10', '']) {
      assert.equal(isIsoTime(s), false, s);
      assert.ok(Number.isNaN(parseUtcTime(s)), s);
    }
  });
  it('refuses a day its month does not have, as it refuses hour 25 and second 60 (Date.parse rolled 2026-11-31 over into December)', () => {
    for (const s of ['2026-11-31', '2026-11-31T00:00:00Z', '2026-02-30T00:00:00Z', '2026-02-29', '2100-02-29', '2026-04-31 10:00', '2026-00-10', '2026-13-01', '2026-01-00', '2026-11-30T25:00:00Z', '2026-11-30T01:31:60Z']) {
      assert.equal(isIsoTime(s), true, s);
      assert.ok(Number.isNaN(parseUtcTime(s)), s);
    }
    // the last day of each month, leap days included, stays a time
    assert.equal(parseUtcTime('2024-02-29'), Date.UTC(2024, 1, 29));
    assert.equal(parseUtcTime('2000-02-29T12:00:00Z'), Date.UTC(2000, 1, 29, 12));
    assert.equal(parseUtcTime('2026-11-30T23:59:59Z'), Date.UTC(2026, 10, 30, 23, 59, 59));
    assert.equal(parseUtcTime('2026-12-31'), Date.UTC(2026, 11, 31));
    assert.equal(parseUtcTime('2026-04-30'), Date.UTC(2026, 3, 30));
  });
});
