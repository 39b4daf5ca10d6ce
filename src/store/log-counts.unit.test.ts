import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
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

describe('log counts: runs added to the text kept', () => {
  // the text as it was written afresh at each write (the list sorted unless in order already)
  const byNumber = (a: number, b: number) => a - b;
  const fresh = (runs: Set<number>) => {
    const list = [...runs];
    let sorted = true;
    for (let i = 1; i < list.length && sorted; i++) sorted = byNumber(list[i - 1], list[i]) <= 0;
    return JSON.stringify(sorted ? list : list.sort(byNumber));
  };
  const runsOf = (c: LogCounts) => JSON.parse(logCountsText(c)) as { runs: unknown; sources: [number, number, number, unknown][] };
  it('issue 10.7: runs in order, then one out of order, then odd ones (NaN, -0, a string, a huge one), written between the adds: the text written afresh', () => {
    const c = emptyLogCounts();
    const adds: unknown[] = [3, 4, 4, 7, 20, 21, 5, 30, 31, Number.NaN, 40, -0, 0, '41', 2 ** 60, 50, 60];
    const write = () => {
      const text = logCountsText(c);
      assert.equal(JSON.stringify(runsOf(c).runs), JSON.stringify(JSON.parse(fresh(c.runs))));
      assert.ok(text.startsWith(`{"runs":${fresh(c.runs)},`), text);
      assert.ok(text.includes(`[1,2,${c.sources.get(1)!.get(2)!.n},${fresh(c.sources.get(1)!.get(2)!.runs)}]`), text);
    };
    for (const [i, r] of adds.entries()) {
      addToLogCounts(c, 1, 2, r as number, 'shape.observed');
      if (i % 2 === 0 || i > 8) write();
    }
    // odd ones that keep the order: added to the kept text as JSON.stringify writes them
    const o = emptyLogCounts();
    for (const r of [1, 2, '3', 2 ** 60, 1e21, Number.POSITIVE_INFINITY] as number[]) {
      addToLogCounts(o, 1, 2, r, 'shape.observed');
      assert.equal(logCountsText(o), `{"runs":${fresh(o.runs)},"sources":[[1,2,${o.sources.get(1)!.get(2)!.n},${fresh(o.runs)}]]}`);
    }
    // the same adds, written only after each run in order: the kept text grows by the runs added
    const d = emptyLogCounts();
    for (let r = 1; r <= 40; r++) {
      addToLogCounts(d, 1, 2, r, 'shape.observed');
      addToLogCounts(d, 1, 2, r, 'shape.observed');
      if (r % 3 === 0) assert.equal(logCountsText(d), plainText(d));
    }
    assert.equal(logCountsText(d), plainText(d));
  });
});

describe('log counts: the stored form (version 2)', () => {
  const stored = (c: LogCounts) => inflateSync(encodeLogCounts(c)).toString();
  const v1 = (text: string) => deflateSync(text);
  it('issue 10.7: a source in every run of the profile writes 0 for its runs (runs come in increasing order), another its list; both read back to the same counts', () => {
    const c = emptyLogCounts();
    for (const run of [3, 5, 9]) {
      addToLogCounts(c, 1, 1, run, 'shape.observed');
      addToLogCounts(c, 1, 2, run, 'entry.imported', 2);
    }
    addToLogCounts(c, 2, 1, 5, 'shape.observed');
    addToLogCounts(c, 2, 2, null, 'shape.observed');
    assert.equal(stored(c), '{"runs":[3,5,9],"sources":[[1,1,3,0],[1,2,6,0],[2,1,1,[5]],[2,2,1,[]]]}');
    const back = decodeLogCounts(encodeLogCounts(c));
    assert.equal(logCountsText(back), plainText(c));
    // counted into again after the read: the source's runs its own set, not the profile's
    addToLogCounts(back, 1, 1, 12, 'shape.observed');
    addToLogCounts(back, 3, 1, 13, 'shape.observed');
    assert.equal(logCountsText(back), plainText(back));
    assert.equal(stored(back), '{"runs":[3,5,9,12,13],"sources":[[1,1,4,[3,5,9,12]],[1,2,6,[3,5,9]],[2,1,1,[5]],[2,2,1,[]],[3,1,1,[13]]]}');
  });

  it('issue 10.7: the profile runs out of order, or runs that sort as one number ("1" and 1, a hostile log): every list written out', () => {
    const c = emptyLogCounts();
    for (const run of [9, 3]) addToLogCounts(c, 1, 1, run, 'shape.observed');
    assert.equal(stored(c), '{"runs":[3,9],"sources":[[1,1,2,[3,9]]]}');
    const odd = emptyLogCounts();
    for (const run of [1, '1', 2] as number[]) addToLogCounts(odd, 1, 1, run, 'shape.observed');
    assert.equal(stored(odd), logCountsText(odd));
    assert.equal(logCountsText(decodeLogCounts(encodeLogCounts(odd))), logCountsText(odd));
  });

  it('issue 10.7: version 1 (every list written) still reads; a source with a run the profile lacks, or runs neither a list nor 0, is unreadable', () => {
    const text = '{"runs":[3,5],"sources":[[1,1,2,[3,5]],[1,2,1,[5]]]}';
    assert.equal(logCountsText(decodeLogCounts(v1(text))), text);
    assert.throws(() => decodeLogCounts(v1('{"runs":[3],"sources":[[1,1,2,[3,5]]]}')), /run 5 of a source/);
    assert.throws(() => decodeLogCounts(v1('{"runs":[3],"sources":[[1,1,2,1]]}')));
  });
});
