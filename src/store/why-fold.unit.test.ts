import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from '../model/code-id.ts';
import { emptyEntry } from '../model/entry.ts';
import { entryToJson } from '../codecs/entry-json.ts';
import type { Dictionaries } from './log.ts';
import { accDimsText, accRowText, addRun, emptyWhyState, KEEP_ALL, track, tracks, valuesOf, whyCount, whyStateFrom, type Acc, type Carried, type Evidence, type Track } from './why-fold.ts';

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

  it('read from a checkpoint by index, are taken whole, and a run added to one gives the list of the same runs the state holds (one list a content, as a fold makes it)', () => {
    const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    const dict = { code: () => code, load: () => {} } as unknown as Dictionaries;
    const lists = [['run-0', 'run-1'], ['run-0'], ['run-1', 'run-0'], []];
    const last = entryToJson(emptyEntry());
    const st = whyStateFrom(
      [[1, "L['x']", 1, '', last, [[1, 1, 0], [2, 1, 1], [3, 1, 2], [4, 1, 0], [5, 1, 3], [6, 1, ['run-0', 'run-1']]]]],
      dict,
      KEEP_ALL,
      undefined,
      lists,
    );
    const slots = [...st.accs.values()][0].carried;
    const runs = (body: number) => slots.get(body)!.runs;
    assert.equal(runs(1), runs(4), 'two bodies naming one list share it');
    assert.deepEqual([...runs(1)], ['run-0', 'run-1']);
    assert.equal(runs(5), st.noRuns, 'the empty list is the state\'s own');
    assert.equal(runs(6), runs(1), 'runs written out, read run by run from the empty list: the list read whole');
    addRun(slots.get(2)!, 'run-1');
    assert.equal(runs(2), runs(1), 'run-0 then run-1: the list read whole, not one made anew');
    addRun(slots.get(2)!, 'run-0');
    assert.equal(runs(2), runs(1), 'a run it holds: the same list');
    assert.notEqual(runs(3), runs(1), 'run-1 then run-0 is another list');
    assert.throws(() => whyStateFrom([[1, "L['x']", 1, '', last, [[1, 1, 4]]]], dict, KEEP_ALL, undefined, lists), /names run list 4 of 4/);
    assert.throws(() => whyStateFrom([[1, "L['x']", 1, '', last, [[1, 1, 0]]]], dict, () => false, undefined, ['run-0']), /names run list 0 of 1/, 'a list that is no list, in a source not kept too');
  });
});

describe('why state: the dims text', () => {
  const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const dict = { code: () => code, load: () => {} } as unknown as Dictionaries;
  const dim = (value: string, ws = '') => `[[[4,${ws}1795600000000,"run-0","/o.jsonl",4,null,"shape.observed",null]],[[0,${JSON.stringify(value)},${JSON.stringify(value)}]],[0,0,-1,null,null,null,[[${JSON.stringify(value)},2,["r"]]]]]`;
  /** An acc read from a version-1 row whose dims text is the JSON form of the given dims. */
  const accOf = (dims: [string, string][]): Acc => [...whyStateFrom([[1, "L['x']", 2, JSON.stringify(dims), entryToJson(emptyEntry()), []]], dict, KEEP_ALL).accs.values()][0];
  const facts = (t: Track | undefined) => t && JSON.stringify({ ...t, text: undefined, values: [...t.values].map(([v, x]) => [v, x.count, [...x.runs]]) });
  const cases: [string, [string, string][], 'tab' | 'json'][] = [
    ['plain dims', [['scalar', dim('?')], ['size', dim('[8, 3]')], ['size[0]', dim('8')]], 'tab'],
    ['a value with a tab and a newline (escaped in JSON)', [['size[0]', dim('a\tb\nc')]], 'tab'],
    ['a first key starting with [', [['[x', dim('1')], ['y', dim('2')]], 'json'],
    ['a key with a tab', [['scalar', dim('1')], ['a\tb', dim('2')]], 'json'],
    ['a key with a newline', [['scalar', dim('1')], ['a\nb', dim('2')]], 'json'],
    ['a dim text with a tab between its tokens (JSON whitespace)', [['scalar', dim('1', '\t')]], 'json'],
    ['an empty key', [['', dim('1')], ['size', dim('2')]], 'tab'],
  ];
  for (const [what, dims, form] of cases) {
    it(`issue 10.7: ${what}: written in the ${form} form, read back as the same dims, whole and one by one`, () => {
      const want = accOf(dims);
      const wantFacts = [...tracks(want)].map(([k, t]) => [k, facts(t)]);
      // the dims written again from their parsed form
      const acc = accOf(dims);
      tracks(acc);
      acc.dimsText = undefined;
      const text = accDimsText(acc, false);
      assert.equal(text.charCodeAt(0) === 91 ? 'json' : 'tab', form, text);
      if (form === 'tab') assert.equal(text, dims.map(([k, t]) => `${k}\t${t}`).join('\t'));
      assert.equal(acc.dims, undefined);
      assert.deepEqual([...tracks(acc)].map(([k, t]) => [k, facts(t)]), wantFacts);
      acc.dims = undefined;
      acc.dimsIndex = undefined;
      for (const [k] of dims) assert.equal(facts(track(acc, k)), facts(track(want, k)), k);
      assert.equal(track(acc, 'no-such-dim'), undefined);
    });
  }
});

describe('why state: a dim\'s values', () => {
  const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const dict = { code: () => code, load: () => {} } as unknown as Dictionaries;
  const dim = (values: string) => `[[[4,1795600000000,"run-0","/o.jsonl",4,null,"shape.observed",null]],[[0,"8","8"]],[0,0,-1,null,null,null,${values}]]`;
  it('a dim with none shares one empty map, which is never written: a value goes into the dim\'s own', () => {
    const acc = [...whyStateFrom([[1, "L['x']", 2, JSON.stringify([['size[0]', dim('[]')], ['size[1]', dim('[]')], ['size[2]', dim('[["4",1,["r"]]]')]]), entryToJson(emptyEntry()), []]], dict, KEEP_ALL).accs.values()][0];
    const [a, b, c] = [...tracks(acc).values()];
    assert.equal(a.values, b.values, 'one shared empty map');
    assert.throws(() => a.values.set('x', { count: 1, runs: new Set() }), /valuesOf/);
    const own = valuesOf(a);
    own.set('8', { count: 3, runs: new Set(['r']) });
    assert.equal(a.values, own);
    assert.equal(b.values.size, 0, 'the other dim still has none');
    assert.notEqual(b.values, own);
    assert.equal(valuesOf(c), c.values, 'a dim with values keeps its own');
    assert.deepEqual([...c.values.keys()], ['4']);
    // written as before: none is `[]`, a value is listed
    acc.dimsText = undefined;
    for (const t of [a, b, c]) t.text = undefined;
    assert.equal(accDimsText(acc, true), `size[0]\t${dim('[["8",3,["r"]]]')}\tsize[1]\t${dim('[]')}\tsize[2]\t${dim('[["4",1,["r"]]]')}`);
  });
});

describe('why state: the dims text, written without JSON.stringify for each plain string', () => {
  const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const dict = { code: () => code, load: () => {} } as unknown as Dictionaries;
  // the writer as it was (JSON.stringify for every value): the reference the fast one must equal
  const json = (x: unknown): string => JSON.stringify(x) ?? 'null';
  const eventJson = (e: Evidence) => JSON.stringify([e.position, e.time, e.run, e.origin, e.originLine, e.compileId, e.kind, e.format]);
  const loggedJson = (l: Track['logged']) => l && [l.compileId, l.reason, l.cached, l.new, l.guard, l.position];
  function referenceTrack(t: Track): string {
    const pooled: Evidence[] = [];
    const positions: number[] = [];
    let events = '';
    let evidence = '';
    const ev = (e: Evidence | null): number => {
      if (!e) return -1;
      let i = pooled.indexOf(e);
      if (i < 0) {
        let k = positions.indexOf(e.position);
        if (k < 0) {
          k = positions.push(e.position) - 1;
          events += `${k ? ',' : ''}${eventJson(e)}`;
        }
        i = pooled.push(e) - 1;
        evidence += `${i ? ',' : ''}[${k},${json(e.value)},${json(e.brought)}]`;
      }
      return i;
    };
    const first = ev(t.first);
    const lastStatic = ev(t.lastStatic);
    const staticBefore = ev(t.staticBefore);
    const became = t.became && [ev(t.became), t.became.before];
    const values = t.values.size === 0 ? '[]' : JSON.stringify([...t.values].map(([v, x]) => [v, x.count, [...x.runs]]));
    return `[[${events}],[${evidence}],[${first},${lastStatic},${staticBefore},${json(became)},${json(loggedJson(t.logged))},${json(loggedJson(t.becameLogged))},${values}]]`;
  }
  const strings = ['8', '?', 'S(1)', '[8, 3]', '', 'a"b', 'back\\slash', 'tab\tnew\nline', '\u0000\u001f', '\u007f', 'lone \ud800 high', 'lone \udfff low', 'pair \ud83d\ude00', 'sep \u2028\u2029', 'é'];
  const evidence = (i: number, over: Partial<Evidence> = {}): Evidence => ({
    position: 10 + (i % 3),
    time: i % 4 === 0 ? -0 : 1795600000000 + i,
    run: i % 5 === 0 ? null : `run-${strings[i % strings.length]}`,
    origin: strings[(i + 3) % strings.length],
    originLine: i % 6 === 0 ? -0 : i,
    compileId: i % 2 ? null : '0/1',
    kind: 'shape.observed',
    format: null,
    value: strings[i % strings.length],
    brought: i % 7 === 0 ? null : strings[(i + 5) % strings.length],
    ...over,
  });
  it('gives the text JSON.stringify gives, for hostile strings, odd stored values and shared evidence', () => {
    const tracksOf: Track[] = [];
    for (let i = 0; i < strings.length * 4; i++) {
      const a = evidence(i);
      const b = i % 3 === 0 ? a : evidence(i + 1);
      const odd: unknown[] = [0, false, '', null, undefined];
      const became = i % 4 === 0 ? { ...evidence(i + 2), before: strings[(i + 7) % strings.length] } : i % 4 === 1 ? (odd[i % odd.length] as Track['became']) : i % 4 === 2 ? ({ ...evidence(i + 2, { value: 5 as unknown as string, brought: undefined as unknown as null }), before: [1, 'x'] } as unknown as Track['became']) : null;
      const logged = i % 3 === 1 ? { compileId: null, reason: 'size change', cached: strings[i % strings.length], new: '\ud800', guard: i % 2 ? null : 'g"\\', position: 3 } : null;
      const values = new Map<string, { count: number; runs: Set<string> }>();
      if (i % 2) values.set(strings[i % strings.length], { count: i, runs: new Set(['r', strings[(i + 1) % strings.length]]) });
      tracksOf.push({ first: a, lastStatic: b, staticBefore: i % 5 === 0 ? a : null, became, logged, becameLogged: logged, values });
    }
    const dims = new Map<string, Track>(tracksOf.map((t, i) => [`size[${i}]`, t]));
    const acc = [...whyStateFrom([[1, "L['x']", 2, '', entryToJson(emptyEntry()), []]], dict, KEEP_ALL).accs.values()][0];
    acc.dims = dims;
    acc.dimsText = undefined;
    assert.equal(accDimsText(acc, true), [...dims].map(([k, t]) => `${k}\t${referenceTrack(t)}`).join('\t'));
    // kept texts: written again from them, the same
    acc.dimsText = undefined;
    assert.equal(accDimsText(acc, true), [...dims].map(([k, t]) => `${k}\t${referenceTrack(t)}`).join('\t'));
  });

  it('gives the same text for a dim of one evidence (written at once), with hostile strings, and for dims near it', () => {
    const tracksOf: Track[] = [];
    const none = () => new Map<string, { count: number; runs: Set<string> }>();
    for (let i = 0; i < strings.length * 2; i++) {
      const a = evidence(i);
      const one = { first: a, lastStatic: i % 2 ? a : null, staticBefore: null, became: null, logged: null, becameLogged: null, values: none() };
      tracksOf.push(one);
      // near it: each takes the lists' way
      tracksOf.push({ ...one, lastStatic: evidence(i + 1) });
      tracksOf.push({ ...one, lastStatic: { ...a } });
      tracksOf.push({ ...one, staticBefore: a });
      tracksOf.push({ ...one, became: undefined as unknown as null });
      tracksOf.push({ ...one, became: { ...a, before: '8' } });
      tracksOf.push({ ...one, logged: { compileId: null, reason: 'size change', cached: '8', new: '9', guard: null, position: 1 } });
      tracksOf.push({ ...one, values: new Map([['8', { count: 1, runs: new Set(['r']) }]]) });
      tracksOf.push({ ...one, first: null });
    }
    const dims = new Map<string, Track>(tracksOf.map((t, i) => [`size[${i}]`, t]));
    const acc = [...whyStateFrom([[1, "L['x']", 2, '', entryToJson(emptyEntry()), []]], dict, KEEP_ALL).accs.values()][0];
    acc.dims = dims;
    acc.dimsText = undefined;
    assert.equal(accDimsText(acc, true), [...dims].map(([k, t]) => `${k}\t${referenceTrack(t)}`).join('\t'));
  });
});

describe('why state: accs', () => {
  it('an acc made by a step and one read back from the state\'s text hold the same fields in the same order, before and after their texts are written', async () => {
    const { emptyStream, fold } = await import('./fold.ts');
    const { whyStep, whyStateText } = await import('./why-fold.ts');
    const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    const view = emptyStream();
    const st = emptyWhyState();
    const shapes = [[8, 4], [16, 4], [8, 4]];
    shapes.forEach((size, i) => {
      const shape = { kind: 'tensor' as const, size, stride: [size[1], 1] };
      const ev = { position: i + 1, profileId: 1, bodyId: 1 + (i % 2), codeRow: 1, sourceRow: 1, runRow: 1, kind: 'shape.observed', code, source: "L['x']", shape, automaticDynamic: true, entry: null, quiet: false, record: null, guard: null, time: 1000 * i, run: 'r', origin: null, originLine: null, compileId: null, format: null };
      const step = fold(view, ev)!;
      whyStep(st, step, ev as never, KEEP_ALL, () => {});
    });
    const made = [...st.accs.values()][0];
    const text = whyStateText(st, () => 1);
    const dict = { code: () => code, load: () => {} } as unknown as Dictionaries;
    const read = [...whyStateFrom(JSON.parse(text), dict, KEEP_ALL).accs.values()][0];
    assert.deepEqual(Object.keys(read), Object.keys(made));
    accDimsText(read);
    accRowText(read, () => 1);
    assert.deepEqual(Object.keys(read), Object.keys(made), 'the texts written into fields it had');
  });
});

describe('why state: a source\'s first step', () => {
  it('issue 10.7: stands for the dims no later step changed (no track of their own), and every dim reads as a track made at each step would', async () => {
    const { emptyStream, fold } = await import('./fold.ts');
    const { whyStep } = await import('./why-fold.ts');
    const code: CodeId = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
    const view = emptyStream();
    const st = emptyWhyState();
    // dim 0 turns dynamic at the second step; the third changes nothing
    const shapes = [[8, 4], [16, 4], [8, 4]];
    const acc = () => [...st.accs.values()][0];
    shapes.forEach((size, i) => {
      const shape = { kind: 'tensor' as const, size, stride: size.map((_, k) => size.slice(k + 1).reduce((a, b) => a * b, 1)) };
      const ev = { position: i + 1, profileId: 1, bodyId: 1 + i, codeRow: 1, sourceRow: 1, runRow: 1, kind: 'shape.observed', code, source: "L['x']", shape, automaticDynamic: true, entry: null, quiet: false, record: null, guard: null, time: 1000 * i, run: 'r', origin: 'o', originLine: i + 1, compileId: null, format: null };
      whyStep(st, fold(view, ev)!, ev as never, KEEP_ALL, () => {});
      if (i === 0) {
        assert.equal(acc().first?.event.position, 1);
        assert.equal(acc().dims!.size, 0, 'no track of its own');
      }
      if (i === 1) assert.deepEqual([...acc().dims!.keys()].sort(), ['size', 'size[0]'], 'tracks only of the dims the step changed');
    });
    const all = tracks(acc());
    // the order the first step tracked them in (not the order of the tracks made since)
    assert.deepEqual([...all.keys()], ['scalar', 'size', 'stride', 'size[0]', 'size[1]', 'stride[0]', 'stride[1]']);
    const t1 = all.get('size[1]')!;
    assert.deepEqual([t1.first?.position, t1.first?.value, t1.first?.brought, t1.first?.originLine], [1, '4', '4', 1]);
    assert.equal(t1.lastStatic, t1.first);
    assert.equal(t1.became, null);
    const t0 = all.get('size[0]')!;
    assert.deepEqual([t0.first?.position, t0.staticBefore?.position, t0.became?.position, t0.became?.before, t0.became?.value], [1, 1, 2, '8', '?']);
    // one dim read alone is the same track
    assert.deepEqual(track(acc(), 'size[1]'), t1);
    assert.deepEqual(track(acc(), 'stride[0]'), all.get('stride[0]'));
    assert.equal(track(acc(), 'size[5]'), undefined);
  });
});
