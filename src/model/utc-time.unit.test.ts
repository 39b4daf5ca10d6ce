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
});
