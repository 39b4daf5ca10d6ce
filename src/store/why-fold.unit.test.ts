import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from '../model/code-id.ts';
import { emptyEntry } from '../model/entry.ts';
import { accRowText, addRun, emptyWhyState, whyCount, type Carried } from './why-fold.ts';

/** Seeded runs for many bodies: runs advancing, coming back, alternating, and one body past the shared lists' length. */
function runSequences(seed: number): string[][] {
  let x = seed;
  const rnd = (k: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % k);
  const out: string[][] = [];
  for (let b = 0; b < 40; b++) {
    const seq: string[] = [];
    let run = rnd(5);
    const n = b === 0 ? 400 : 20 + rnd(200);
    for (let i = 0; i < n; i++) {
      const r = rnd(10);
      if (r < 6) run += 0; // the same run again
      else if (r < 8) run += 1; // the next run
      else run = rnd(b === 0 ? 150 : 30); // an older or a later one
      seq.push(`run-${run}`);
    }
    out.push(seq);
  }
  return out;
}

describe('why-fold: a body\'s runs (shared lists)', () => {
  it('hold what a Set of the same runs holds, in its order, for every body, past the shared length too', () => {
    for (const seed of [1, 7, 42]) {
      const st = emptyWhyState();
      const seqs = runSequences(seed);
      const slots: Carried[] = seqs.map(() => ({ key: null, count: 0, runs: st.noRuns, lastRun: null }));
      const sets = seqs.map(() => new Set<string>());
      // interleaved, as the events of many bodies come
      for (let i = 0; i < 400; i++) {
        seqs.forEach((seq, b) => {
          if (i >= seq.length) return;
          whyCount(slots[b], seq[i]);
          sets[b].add(seq[i]);
        });
      }
      seqs.forEach((_, b) => {
        assert.deepEqual([...slots[b].runs], [...sets[b]], `seed ${seed} body ${b}`);
        assert.equal(slots[b].runs.size, sets[b].size);
      });
      assert.ok(slots[0].runs instanceof Set, 'a body past the shared length keeps its own set');
    }
  });

  it('write the same checkpoint text as a Set of the same runs, as runs are added between writes', () => {
    const st = emptyWhyState();
    const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    const acc = { code, source: "L['x']", last: emptyEntry(), sawScalar: true, sawTensor: false, dimsText: '[]', carried: new Map<number, Carried>() };
    const setText = (sets: Map<number, Set<string>>, counts: Map<number, number>) => [...sets].map(([body, s]) => `[${body},${counts.get(body)},${JSON.stringify([...s])}]`).join(',');
    const sets = new Map<number, Set<string>>();
    const counts = new Map<number, number>();
    for (const seq of runSequences(3).slice(0, 6)) {
      seq.forEach((run, i) => {
        const body = i % 3;
        let slot = acc.carried.get(body);
        if (!slot) acc.carried.set(body, (slot = { key: null, count: 0, runs: st.noRuns, lastRun: null }));
        slot.count++;
        if (run !== slot.lastRun) addRun(slot, (slot.lastRun = run));
        if (!sets.has(body)) sets.set(body, new Set());
        sets.get(body)!.add(run);
        counts.set(body, (counts.get(body) ?? 0) + 1);
        if (i % 37 === 0) assert.ok(accRowText(acc, () => 1)[1].endsWith(`,[${setText(sets, counts)}]]`));
      });
    }
    assert.ok(accRowText(acc, () => 1)[1].endsWith(`,[${setText(sets, counts)}]]`));
  });
});
