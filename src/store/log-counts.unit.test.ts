import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToLogCounts, decodeLogCounts, emptyLogCounts, encodeLogCounts, logCountsText, type LogCounts } from './log-counts.ts';

/** The text as it was written before it kept its sort: JSON.stringify of the sorted counts. */
const plainText = (c: LogCounts) =>
  JSON.stringify({
    runs: [...c.runs].sort((a, b) => a - b),
    sources: [...c.sources.values()]
      .flatMap((m) => [...m.values()])
      .sort((a, b) => a.codeId - b.codeId || a.sourceId - b.sourceId)
      .map((s) => [s.codeId, s.sourceId, s.n, [...s.runs].sort((a, b) => a - b)]),
  });

describe('log counts: the text', () => {
  it('issue 10.7: kept between writes (its sort, each set of runs), the text is what JSON.stringify of the sorted counts gives, as counts grow and sources come', () => {
    const c = emptyLogCounts();
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    assert.equal(logCountsText(c), plainText(c));
    for (let i = 0; i < 3000; i++) {
      const run = rnd(9) === 0 ? null : 1 + rnd(12);
      addToLogCounts(c, 1 + rnd(40), 1 + rnd(6), run, rnd(7) === 0 ? 'dynamic.logged' : rnd(2) ? 'shape.observed' : 'entry.imported', 1 + rnd(3));
      if (i % 97 === 0) assert.equal(logCountsText(c), plainText(c));
    }
    assert.equal(logCountsText(c), plainText(c));
    // read back, and counted into again
    const back = decodeLogCounts(encodeLogCounts(c));
    assert.equal(logCountsText(back), plainText(c));
    addToLogCounts(back, 1000, 1, 3, 'shape.observed');
    addToLogCounts(back, 0, 2, 99, 'shape.observed');
    assert.equal(logCountsText(back), plainText(back));
  });

  it('issue 10.7: odd ids (a hostile log) are written as JSON.stringify writes them', () => {
    const c = emptyLogCounts();
    for (const [code, source] of [[-0, 1], [2 ** 53, 2], [1.5, 3], [null, 4], ['7', 5], [Number.NaN, 6]] as [number, number][]) addToLogCounts(c, code, source, null, 'shape.observed');
    c.sources.get(1.5)!.get(3)!.n = Number.POSITIVE_INFINITY;
    assert.equal(logCountsText(c), plainText(c));
  });
});
