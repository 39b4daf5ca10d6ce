import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { batchCache, decodeBatch, handOverReader, lineWireBatches, ROW, takeOverReader, WireBuilder, type WireBatch } from './observation-batches.ts';
import { handOverCache, LINE_REST, LineHit, lineContext, takeOverCache, type LineEvent, type LineRest, observationLineSchema, parseLine, parseObservationLine, surelyValidLine } from './observation-lines.ts';
import { readLineChunks, readTextChunks } from './read-lines.ts';

/** An event or the error it threw, comparable (symbols and shared objects aside). */
function outcome(f: () => unknown): unknown {
  try {
    const e = f();
    return { ok: JSON.parse(JSON.stringify(e instanceof LineHit ? e.event() : e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))) };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const code = '"code":{"filename":"/srv/m.py","firstlineno":3,"name":"f","file_hash":"ab"}';

/**
 * Lines parsed one after the other by parseLine (its cache and guesses in `fast`) and by the
 * full parse, each asserted to give the same outcome; `check` gives what parseLine gave.
 */
function sideBySide(after: string) {
  const ref = lineContext('f.jsonl', {});
  const fast = lineContext('f.jsonl', {});
  let n = 0;
  const check = (line: string) => {
    let got: unknown;
    const o = outcome(() => (got = parseLine(line, ++n, fast)));
    assert.deepEqual(o, outcome(() => parseObservationLine(line, n, ref)), `${after}\nthen\n${line}`);
    return got;
  };
  return { fast, check };
}

/** Lines that end in `tail` as a cached line does, the time token or what is around it other: each must take the full parse. */
const nearLines = (tail: string) => [
  `{"job":"j","time":179560000${tail}`,
  `{"job":"j","time":17956000001${tail}`,
  `{"job":"j","time":"2026-11-28T06:00:00Z"${tail}`,
  `{"job":"j","time":1795600000,"run":"r"${tail}`,
  `{"job":"j","time":1795600000${tail.slice(1)}`,
  `{"job":"j","time":1795600000 ${tail}`,
  `{"job":"k","time":1795600000${tail}`,
];
/** Lines with a {T} where a time token goes: plain ones, and ones that try to fool a text search for "time":. */
const TEMPLATES = [
  `{"job":"j","run":"r","time":{T},${code},"source":"L['x']","kind":"tensor","size":[2,3],"stride":[3,1]}`,
  `{"time":{T},"job":"j",${code},"source":"s","kind":"scalar","value":7}`,
  `{"job":"j",${code},"source":"s","kind":"size","size":[1],"time":{T}}`,
  `{"job":"j",${code},"source":"s","kind":"size","size":[1],"time":{T} }`,
  // not the top-level key: in a nested object, in a string, behind an escaped quote
  `{"job":"j","code":{"time":{T},"filename":"a","firstlineno":1,"name":"f"},"source":"s","kind":"scalar","value":1,"time":5}`,
  `{"job":"j","source":"\\"time\\":{T}",${code},"kind":"scalar","value":1,"time":5}`,
  `{"job":"j","source":"a\\"time\\":{T}",${code},"kind":"scalar","value":1}`,
  `{"job":"j","source":"\\"time\\":{T}","time":{T},${code},"kind":"scalar","value":1}`,
  // duplicate keys: JSON.parse keeps the last
  `{"job":"j","time":{T},${code},"source":"s","kind":"scalar","value":1,"time":9}`,
  `{"job":"j","time":{T},${code},"source":"s","kind":"scalar","value":1,"\\u0074ime":9}`,
  `{"job":"j","time":{T},${code},"source":"s","kind":"scalar","value":1,"time" : 9}`,
  `{"job":"j","time" : 9,"time":{T},${code},"source":"s","kind":"scalar","value":1}`,
  `{"job":"j","\\u0074ime":9,"time":{T},${code},"source":"s","kind":"scalar","value":1}`,
  // a key that ends in time, a value "time", escapes elsewhere
  `{"job":"j","xtime":1,"time":{T},${code},"source":"time","kind":"scalar","value":1}`,
  `{"job":"j","time":{T},${code},"source":"a\\\\b\\u00e9","kind":"scalar","value":1}`,
  `{"job":"j","run":"\\"","time":{T},${code},"source":"s","kind":"scalar","value":1}`,
  `[{"job":"j","time":{T}}]`,
  `{"job":"j","time":{T},${code},"source":"s","kind":"scalar","value":"99999999999999999999"}`,
  `{"job":"j","time":{T},${code},"source":"s","kind":"scalar"}`,
  `{"job":"j","time":{T}${code},"source":"s","kind":"scalar","value":1}`,
];
const TOKENS = [
  '1795600000', '1795600001', '0', '-0', '1', '12', '01', '-', '1.5', '1.', '.5', '1e3', '1E+3', '1e-3', '2e400', '-1', '253402300800', '1234567890123456', '99999999999999999999',
  '"2026-11-28T06:00:00Z"', '"2026-11-28"', '"x"', '""', '"a\\"b"', '"a\\u0041"', '"\t"', '"time"', '"\\"time\\":1"', 'true', 'null', '[1]', '{"a":1}', '1,"time":2', '',
];

describe('parseLine: lines seen before but for their time', () => {
  it('gives what parseObservationLine gives, error or event, on hostile lines after a first line that filled the cache', () => {
    for (const t of TEMPLATES) {
      for (const first of ['1795600000', '"2026-11-28T06:00:00Z"', '1.5']) {
        for (const tok of TOKENS) {
          const ref = lineContext('f.jsonl', {});
          const fast = lineContext('f.jsonl', {});
          const a = t.replaceAll('{T}', first);
          const b = t.replaceAll('{T}', tok);
          assert.deepEqual(outcome(() => parseLine(a, 1, fast)), outcome(() => parseObservationLine(a, 1, ref)), a);
          assert.deepEqual(outcome(() => parseLine(b, 2, fast)), outcome(() => parseObservationLine(b, 2, ref)), `${a}\nthen\n${b}`);
          assert.deepEqual(outcome(() => parseLine(b, 3, fast)), outcome(() => parseObservationLine(b, 3, ref)), `${a}\nthen twice\n${b}`);
        }
      }
    }
  });

  it('takes the cached path for plain repeated lines (else the test above proves nothing)', () => {
    const ctx = lineContext('f.jsonl', {});
    parseLine(TEMPLATES[0].replace('{T}', '1795600000'), 1, ctx);
    assert.ok(parseLine(TEMPLATES[0].replace('{T}', '1795600001'), 2, ctx) instanceof LineHit);
    assert.ok(parseLine(TEMPLATES[0].replace('{T}', '"2026-11-28T06:00:00Z"'), 3, ctx) instanceof LineHit);
    // a "time": that is not the one top-level key never fills the cache
    for (const t of TEMPLATES.slice(4, 13)) {
      const c = lineContext('f.jsonl', {});
      try {
        parseLine(t.replaceAll('{T}', '1795600000'), 1, c);
      } catch {
        continue;
      }
      assert.ok(!(parseLine(t.replaceAll('{T}', '1795600001'), 2, c) instanceof LineHit), t);
    }
  });

  it('gives what parseObservationLine gives for jobs coming in turn with one tail, new tails, repeats and a cache cleared when full', () => {
    const ref = lineContext('f.jsonl', {});
    const fast = lineContext('f.jsonl', {});
    let hits = 0;
    let n = 0;
    // 3 jobs x 3000 sizes: more distinct lines than the cache holds, so it is cleared while a tail is the last one looked up
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 3000; k++) {
        for (const job of ['a', 'b', 'c', 'b']) {
          const size = round === 1 && k % 7 === 0 ? k + 1 : k;
          const line = `{"job":"${job}","run":"r","time":${1795600000 + n},${code},"source":"L['x']","kind":"tensor","size":[${size},3],"stride":[3,1]}`;
          const got = parseLine(line, ++n, fast);
          if (got instanceof LineHit) hits++;
          assert.deepEqual(outcome(() => got), outcome(() => parseObservationLine(line, n, ref)), line);
        }
      }
    }
    assert.ok(hits >= 3000, `${hits} lines took the cached path`);
  });

  it('a line whose text ends with the last tail looked up but whose own tail is longer or shorter (time tokens of other lengths, a prefix before it) gives the full parse', () => {
    const ref = lineContext('f.jsonl', {});
    const fast = lineContext('f.jsonl', {});
    const tail = `,${code},"source":"s","kind":"scalar","value":1}`;
    const lines = [
      `{"job":"j","time":1795600000${tail}`,
      `{"job":"j","time":1795600000${tail}`,
      // the same bytes at the end, the time token shorter, longer, a string, or part of what follows it
      ...nearLines(tail),
      `{"job":"j","time":1795600000${tail}`,
      `{"job":"j","time":1795600000${tail} `,
      `{"job":"j","time":1795600001${tail}`,
    ];
    let hits = 0;
    lines.forEach((line, k) => {
      let got: unknown;
      const fastOutcome = outcome(() => (got = parseLine(line, k + 1, fast)));
      if (got instanceof LineHit) hits++;
      assert.deepEqual(fastOutcome, outcome(() => parseObservationLine(line, k + 1, ref)), line);
    });
    assert.ok(hits >= 4, `${hits} lines took the cached path`);
  });

  it('a line after one it came after before (the guess, no cache lookup) gives what parseObservationLine gives: hostile time tokens, heads and tails of other lengths, prefixes and suffixes', () => {
    const lead = `{"job":"lead","run":"r","time":1795600000,${code},"source":"s","kind":"scalar","value":1}`;
    const tail = `,${code},"source":"s","kind":"scalar","value":1}`;
    const others = [
      ...nearLines(tail),
      ` {"job":"j","time":1795600000${tail}`,
      `{"job":"j","time":1795600000${tail} `,
      `{"job":"j","time":1795600000${tail.replace('"s"', '"t"')}`,
      `{"job":"j","time":1795600000${tail}\r`,
    ];
    let guessed = 0;
    for (const t of TEMPLATES) {
      const a = t.replaceAll('{T}', '1795600000');
      for (const b of [...TOKENS.map((tok) => t.replaceAll('{T}', tok)), ...others]) {
        const { fast, check } = sideBySide(a);
        // lead, a, lead, a: the rest of a is what follows lead's
        for (const line of [lead, a, lead, a, lead]) check(line);
        // the cache emptied: only the guess can find a rest now
        fast.seen = new Map();
        fast.older = undefined;
        fast.lastTail = undefined;
        fast.lastByHead = undefined;
        if (check(b) instanceof LineHit) guessed++;
        check(lead);
        check(b);
      }
    }
    assert.ok(guessed >= 40, `${guessed} lines took the guess`);
  });

  it('the rests reachable through guesses stay about as many as the cache holds (a chain of guesses keeps no dropped generation alive)', () => {
    const ctx = lineContext('f.jsonl', {});
    let n = 0;
    // 3 passes over 20,000 distinct lines: each rest's guess is the next, the last's the first
    for (let pass = 0; pass < 3; pass++) {
      for (let k = 0; k < 20_000; k++) parseLine(`{"job":"j","time":${1795600000 + n},${code},"source":"L['x${k}']","kind":"scalar","value":1}`, ++n, ctx);
    }
    const held = new Set<LineRest>();
    for (const gen of [ctx.seen, ctx.older]) for (const m of gen?.values() ?? []) for (const r of m.values()) held.add(r);
    const reached = new Set<LineRest>();
    for (let r: LineRest | undefined = ctx.prev; r !== undefined && !reached.has(r); r = r.next) reached.add(r);
    for (const h of held) for (let r: LineRest | undefined = h; r !== undefined && !reached.has(r); r = r.next) reached.add(r);
    assert.ok(held.size > 0 && reached.size <= 2 * held.size + 1, `${reached.size} rests reachable, ${held.size} in the cache`);
  });

  it('a new run of lines past the cache size keeps the run before in an older generation: its lines again take the cached path and give the full parse', () => {
    const ref = lineContext('f.jsonl', {});
    const fast = lineContext('f.jsonl', {});
    let n = 0;
    const pass = (run: string, count: number) => {
      let hits = 0;
      for (let k = 0; k < count; k++) {
        const line = `{"job":"j","run":"${run}","time":${1795600000 + n},${code},"source":"L['x${k}']","kind":"tensor","size":[${k % 5},3],"stride":[3,1]}`;
        const got = parseLine(line, ++n, fast);
        if (got instanceof LineHit) hits++;
        assert.deepEqual(outcome(() => got), outcome(() => parseObservationLine(line, n, ref)), line);
      }
      return hits;
    };
    // 6,000 distinct lines a run (the realistic mix's), the cache filling up during the second
    // run; the lines of a new run are those of the run before but for it (see the test below)
    assert.equal(pass('r0', 6000), 0);
    assert.equal(pass('r1', 6000), 6000);
    assert.equal(pass('r1', 6000), 6000);
    assert.equal(pass('r2', 6000), 6000);
    assert.equal(pass('r2', 6000), 6000);
    assert.equal(pass('r1', 6000), 6000);
  });

  it('a line that is a cached one but for its run gives what parseObservationLine gives: hostile runs and times, the run in the tail, nested, twice, spaced, or named in a value', () => {
    const RUN_TEMPLATES = [
      `{"job":"j","run":"{R}","time":{T},${code},"source":"L['x']","kind":"tensor","size":[2,3],"stride":[3,1]}`,
      `{"run":"{R}","job":"j","time":{T},${code},"source":"s","kind":"scalar","value":7}`,
      `{"job":"j","rank":0,"run":"{R}" ,"time":{T},${code},"source":"s","kind":"size","size":[1]}`,
      `{"job":"j","time":{T},"run":"{R}",${code},"source":"s","kind":"scalar","value":1}`,
      `{"job":"j","code":{"run":"{R}","filename":"a","firstlineno":1,"name":"f"},"time":{T},"source":"s","kind":"scalar","value":1}`,
      `{"job":"j","run":"{R}","run":"x","time":{T},${code},"source":"s","kind":"scalar","value":1}`,
      `{"job":"j","run":"x","run":"{R}","time":{T},${code},"source":"s","kind":"scalar","value":1}`,
      `{"job":"j","run" :"x","run":"{R}","time":{T},${code},"source":"s","kind":"scalar","value":1}`,
      `{"job":"j","run":"{R}","time":{T},${code},"source":"run","kind":"scalar","value":1}`,
      `{"job":"j","tag":"t","run":"{R}","time":{T},${code},"source":"s","kind":"scalar","value":"99999999999999999999"}`,
      `{"job":"j","run":"{R}","time":{T},${code},"source":"s","kind":"tensor","size":[1],"stride":[1,1]}`,
      `[{"job":"j","run":"{R}","time":{T}}]`,
    ];
    const RUNS = ['r1', '', 'run', 'time', 'r0 ', 'é', 'x'.repeat(300), 'a"b', 'a\\"b', 'a\\\\b', '\\u0041', '\\ud800', '\u0001', '\t', '\u007f', 'a}b', 'r1","run":"r2', 'r1","time":5,"x":"'];
    const TIMES = ['1795600001', '"2026-11-28T06:00:00Z"', '-1', '2e400', '"x"', '1e3', '253402300800', '"a\\"b"'];
    let derived = 0;
    for (const t of RUN_TEMPLATES) {
      const a = t.replaceAll('{R}', 'r0');
      for (const run of RUNS) {
        for (const tok of TIMES) {
          const { check } = sideBySide(a);
          check(a.replaceAll('{T}', '1795600000'));
          const b = t.replaceAll('{R}', run).replaceAll('{T}', tok);
          if (check(b) instanceof LineHit) derived++;
          check(b);
          check(a.replaceAll('{T}', tok));
        }
      }
    }
    assert.ok(derived >= 60, `${derived} lines were derived from another run's`);
  });

  it('wire batches of lines derived from another run\'s decode to the events of the full parse, in one table set and across fresh ones', () => {
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(`{"job":"j${i % 3}","run":"run-${Math.floor(i / 150)}","time":${1795600000 + i},${code},"source":"s${i % 10}","kind":"scalar","value":${i % 4}}`);
    for (const limit of [10, 100_000]) {
      const wire = (parse: typeof parseLine) => {
        const ctx = lineContext('f.jsonl', {});
        const b = new WireBuilder(limit);
        const cache = batchCache();
        const out = [];
        let hits = 0;
        for (let i = 0; i < lines.length; i++) {
          const x = parse(lines[i], i + 1, ctx);
          if (x instanceof LineHit) hits++;
          b.add(x);
          if (b.count === 41) out.push(...decodeBatch(b.take(0, 0, 0), cache));
        }
        out.push(...decodeBatch(b.take(0, 0, 0), cache));
        return { out, hits };
      };
      const strip = (es: ReturnType<typeof wire>['out']) => es.map(({ memo: _m, ...e }) => e);
      const fast = wire(parseLine);
      assert.deepEqual(strip(fast.out), strip(wire(parseObservationLine).out));
      assert.equal(fast.hits, 600 - 60, 'only the first run (60 distinct lines) is parsed');
      // a derived rest has a memo of its own: the events of another run never share one
      assert.notEqual(fast.out[0].memo, fast.out[150].memo);
      if (limit === 100_000) assert.equal(fast.out[150].memo, fast.out[210].memo);
    }
  });

  it('a file read as the worker reads it (1 MiB chunks, CRLF, runs changing, hostile runs and times now and then) gives the events and skips of a full parse of each line', async () => {
    const dir = tempDir();
    const file = join(dir, 'mix.jsonl');
    const texts: string[] = [];
    const odd = ['r\\"x', 'r\\u0041', 'run', 'time', 'r\u0001', 'r\u007f', '"time":1,"run":"z'];
    for (let i = 0; i < 24_000; i++) {
      const run = i % 1999 === 0 ? odd[(i / 1999) % odd.length] : `run-${Math.floor(i / 3000)}`;
      const time = i % 2503 === 0 ? '"2026-11-28T06:00:00Z"' : i % 3001 === 0 ? '99999999999999' : String(1795600000 + (i >> 10));
      const size = i % 40 < 20 ? 8 : 16;
      texts.push(`{"job":"train-${i % 4}","run":"${run}","time":${time},${code.replace('"f"', `"f${(i >> 2) % 50}"`)},"source":"L['x']","kind":"tensor","size":[${size},3],"stride":[3,1]}`);
    }
    writeFileSync(file, texts.map((t, i) => (i % 3 === 0 ? `${t}\r\n` : `${t}\n`)).join(''));
    const fast: unknown[] = [];
    const skipsFast: string[] = [];
    const cache = batchCache();
    for await (const b of lineWireBatches(file, { defaults: {}, skipInvalid: true, batchSize: 997, onSkip: (e) => skipsFast.push(e.message) })) fast.push(...decodeBatch(b, cache));
    const ref = lineContext(file, {});
    const builder = new WireBuilder();
    const skipsRef: string[] = [];
    texts.forEach((t, i) => {
      try {
        builder.add(parseObservationLine(t, i + 1, ref));
      } catch (e) {
        skipsRef.push((e as Error).message);
      }
    });
    const full = decodeBatch(builder.take(0, 0, 0), batchCache());
    const strip = (es: unknown[]) => es.map((e) => ({ ...(e as Record<string, unknown>), memo: null }));
    assert.ok(skipsRef.length >= 5, `${skipsRef.length} lines skipped`);
    assert.deepEqual(skipsFast, skipsRef);
    assert.deepEqual(strip(fast), strip(full));
  });

  it('wire batches of cached lines decode to the events of the full parse, across batch boundaries', () => {
    const lines: string[] = [];
    for (let i = 0; i < 700; i++) {
      const t = i % 3 === 0 ? `"2026-11-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00Z"` : String(1795600000 + i);
      lines.push(TEMPLATES[i % 4].replaceAll('{T}', t).replace('"job":"j"', `"job":"j${i % 5}"`));
    }
    const wire = (parse: typeof parseLine) => {
      const ctx = lineContext('f.jsonl', {});
      const b = new WireBuilder();
      const cache = batchCache();
      const out = [];
      for (let i = 0; i < lines.length; i++) {
        b.add(parse(lines[i], i + 1, ctx));
        if (b.count === 97) out.push(...decodeBatch(b.take(0, 0, 0), cache));
      }
      out.push(...decodeBatch(b.take(0, 0, 0), cache));
      return out;
    };
    // the events of one rest share a memo (the append's, empty here); events of their own have none
    const strip = (es: ReturnType<typeof wire>) => es.map(({ memo: _m, ...e }) => e);
    const fast = wire(parseLine);
    const full = wire(parseObservationLine);
    assert.deepEqual(strip(fast), strip(full));
    assert.equal(fast.length, 700);
    assert.ok(full.every((e) => e.memo === null));
    assert.ok(fast.filter((e) => e.memo).length > 600);
    assert.equal(fast[0].memo, fast[4 * 5 * 3].memo, 'lines the same but for their time share one memo');
  });

  it('a line rest lets go of its event once a wire builder took its parts: its later lines decode to the full parse\'s events, across builders starting their tables afresh', () => {
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) lines.push(TEMPLATES[i % 3].replaceAll('{T}', String(1795600000 + i)).replace('"job":"j"', `"job":"j${i % 4}"`));
    const wire = (parse: typeof parseLine) => {
      const ctx = lineContext('f.jsonl', {});
      const b = new WireBuilder(10); // tables start afresh every few batches: refs made again from the rest's parts
      const cache = batchCache();
      const out = [];
      const rests = new Set<LineRest>();
      for (let i = 0; i < lines.length; i++) {
        const x = parse(lines[i], i + 1, ctx);
        b.add(x);
        const r = x instanceof LineHit ? x.rest : (x as LineEvent)[LINE_REST];
        if (r) rests.add(r);
        if (b.count === 13) out.push(...decodeBatch(b.take(0, 0, 0), cache));
      }
      out.push(...decodeBatch(b.take(0, 0, 0), cache));
      return { out, rests };
    };
    const strip = (es: ReturnType<typeof wire>['out']) => es.map(({ memo: _m, ...e }) => e);
    const fast = wire(parseLine);
    assert.deepEqual(strip(fast.out), strip(wire(parseObservationLine).out));
    assert.ok(fast.rests.size >= 12);
    for (const r of fast.rests) assert.equal(r.event, null);
  });

  it('a batch decoded into the objects of the one before (reuse) is the batch decoded afresh: shorter and longer batches, runs, times and lines present or not, automatic_dynamic false', () => {
    const batches = wireBatches([150, 40, 300, 1, 0, 120]);
    const reuse: ReturnType<typeof decodeBatch> = [];
    const cache = batchCache();
    const plain = batchCache();
    for (const w of batches) {
      const fresh = decodeBatch(w, plain);
      const refilled = decodeBatch(w, cache, reuse);
      assert.equal(refilled, reuse);
      assert.deepEqual(refilled, fresh);
    }
  });

  it('batches that carry only the table entries new since the batch before decode to the events of one batch of all the lines, across the builder starting its tables afresh', () => {
    const sizes = [150, 40, 300, 1, 0, 120, 77, 200];
    // a line without a time gets the time it was read: not compared
    const timed = (es: ReturnType<typeof decodeBatch>) => es.map((e) => (e.keyedTime ? { ...e } : { ...e, time: 0 }));
    const whole = timed(decodeBatch(wireBatches([sizes.reduce((a, b) => a + b, 0)])[0], batchCache()));
    for (const limit of [1, 10, 60, 100_000]) {
      const batches = wireBatches(sizes, limit);
      if (limit === 10) assert.ok(batches.filter((b) => b.fresh).length > 2, 'the builder started afresh');
      if (limit === 100_000) assert.deepEqual(batches.map((b) => b.fresh), sizes.map((_, i) => i === 0));
      const cache = batchCache();
      assert.deepEqual(timed(batches.flatMap((b) => decodeBatch(b, cache))), whole, `tables limit ${limit}`);
    }
    // a batch that adds to tables the decoder never saw is a bug, not wrong events
    assert.throws(() => decodeBatch(wireBatches([5, 5])[1], batchCache()), /bug/);
  });
});

/** Wire batches of the given sizes of varied lines (some without run or time, some automatic_dynamic false). */
function wireBatches(sizes: number[], tablesLimit?: number) {
  const ctx = lineContext('f.jsonl', {});
  const b = new WireBuilder(tablesLimit);
  const batches = [];
  let n = 0;
  for (const size of sizes) {
    for (let k = 0; k < size; k++, n++) {
      let t = TEMPLATES[n % 9 === 0 ? 6 : n % 4].replaceAll('{T}', String(1795600000 + n)).replace('"job":"j"', `"job":"j${n % 3}"`).replace('"source":"s"', `"source":"s${n % 13}"`);
      if (n % 7 === 0) t = t.replace(/,"run":"[^"]*"/, '');
      if (n % 5 === 0) t = t.replace(/}$/, ',"automatic_dynamic":false}');
      b.add(parseObservationLine(t, n % 11 === 0 ? 1 : n + 1, ctx));
    }
    batches.push(b.take(n, 0, 0));
  }
  return batches;
}

describe('a line cache handed over to another reader (the writing thread to the ingest worker)', () => {
  /** Lines of the mix's kind with hostile ones among them: runs changing, bad times and runs, escapes, duplicate keys, closure hashes, more distinct lines than the cache holds. */
  function hostileFile(): { file: string; count: number } {
    const file = join(tempDir(), 'mix.jsonl');
    const texts: string[] = [];
    const odd = ['r\\"x', 'r\\u0041', 'run', 'time', 'r\u0001', 'r\u007f', '"time":1,"run":"z'];
    const closures = ['', ',"closure_hash":null', ',"closure_hash":7', ',"closure_hash":"123456789012345678901"', ',"closure_hash":"-9223372036854775808"'];
    for (let i = 0; i < 40_000; i++) {
      const run = i % 1999 === 0 ? odd[(i / 1999) % odd.length] : `run-${Math.floor(i / 7000)}`;
      const time = i % 2503 === 0 ? '"2026-11-28T06:00:00Z"' : i % 3001 === 0 ? '99999999999999' : String(1795600000 + (i >> 10));
      const f = (i >> 2) % 1500;
      const c = `"code":{"filename":"/srv/m${f % 7}.py","firstlineno":${f},"name":"f${f}","file_hash":"ab"${closures[f % 5]}}`;
      if (i % 997 === 0) texts.push(TEMPLATES[(i / 997) % TEMPLATES.length].replaceAll('{T}', TOKENS[(i / 997) % TOKENS.length]));
      else texts.push(`{"job":"train-${i % 4}","run":"${run}","time":${time},${c},"source":"L['x${i % 3}']","kind":"tensor","size":[${i % 40 < 20 ? 8 : 16},3],"stride":[3,1]}`);
    }
    writeFileSync(file, texts.map((t, i) => (i % 3 === 0 ? `${t}\r\n` : `${t}\n`)).join(''));
    return { file, count: texts.length };
  }

  /** Wire batches as bytes and strings (the rows' numbers as their bytes), with the lines skipped. */
  async function readFrom(file: string, o: { after?: { line: number; lines: number; skipped: number }; context?: ReturnType<typeof lineContext>; builder?: WireBuilder }, stopAt?: number) {
    const batches: unknown[] = [];
    const skips: string[] = [];
    let last: WireBatch | undefined;
    const builder = o.builder ?? new WireBuilder();
    for await (const b of lineWireBatches(file, { defaults: {}, skipInvalid: true, batchSize: 1000, onSkip: (e) => skips.push(e.message), ...o, builder })) {
      // `used`: the defaults the reader's own full parses took (a reader handed a cache parses fewer); ORed over readers, never compared
      const { rows, used: _used, ...rest } = b;
      // a line without a time gets the time it was read: not compared
      for (let o = 0; o < rows.length; o += ROW + 2) if ((rows[o + 4] & 2) === 0) rows[o + 5] = 0;
      batches.push({ ...rest, rows: Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64') });
      last = b;
      if (stopAt !== undefined && b.last !== undefined && b.last >= stopAt) break;
    }
    return { batches, skips, last: last!, builder };
  }

  it('the reader that takes it over gives the wire batches a fresh reader gives from the same line, byte for byte, and the same lines skipped: hostile lines, runs changing, older generations', async () => {
    const { file } = hostileFile();
    for (const stopAt of [1, 2500, 9000, 20_000, 33_000]) {
      const context = lineContext(file, {});
      const first = await readFrom(file, { context }, stopAt);
      const after = { line: first.last.last!, lines: first.last.lines, skipped: first.last.skipped };
      const handed = structuredClone(handOverCache(context));
      if (stopAt >= 20_000) assert.ok(handed.older !== null && handed.older.length > 0, 'the cache turned a generation over before the hand-over');
      const taken = lineContext(file, {});
      takeOverCache(taken, handed);
      const got = await readFrom(file, { after, context: taken });
      const ref = await readFrom(file, { after });
      assert.ok(ref.skips.length >= 5, `${ref.skips.length} lines skipped`);
      assert.deepEqual(got.skips, ref.skips, `from line ${after.line}`);
      assert.deepEqual(got.batches, ref.batches, `from line ${after.line}`);
    }
  });

  it('a reader that goes on with the line cache and the table set handed over gives the wire batches of one reader of the whole file, byte for byte: hostile lines, tables started afresh often and seldom', async () => {
    const { file } = hostileFile();
    for (const limit of [4000, 100_000]) {
      const whole = await readFrom(file, { builder: new WireBuilder(limit) });
      let nulls = 0;
      for (const stopAt of [1, 2500, 9000, 20_000, 21_000, 33_000]) {
        const context = lineContext(file, {});
        const first = await readFrom(file, { context, builder: new WireBuilder(limit) }, stopAt);
        const after = { line: first.last.last!, lines: first.last.lines, skipped: first.last.skipped };
        const handed = structuredClone(handOverReader(context, first.builder));
        if (handed.tables === null) nulls++;
        const got = await readFrom(file, { after, ...takeOverReader(file, {}, handed, limit) });
        const n = first.batches.length;
        assert.deepEqual(first.batches, whole.batches.slice(0, n));
        assert.deepEqual(got.skips, whole.skips.slice(first.skips.length), `from line ${after.line}`);
        assert.deepEqual(got.batches, whole.batches.slice(n), `from line ${after.line}, tables limit ${limit}`);
        if (limit === 100_000) assert.ok(handed.lines.rests.some((x) => x.length > 15), 'refs into the tables handed over');
      }
      if (limit === 4000) assert.ok(nulls > 0 && nulls < 6, `${nulls} hand-overs as the builder started its tables afresh`);
    }
  });

  it('the line after the hand-over, and the lines the first reader parsed again, take the cached path (else the test above proves nothing)', () => {
    const line = (i: number, run = 'r0') => `{"job":"j${i % 4}","run":"${run}","time":${1795600000 + i},${code.replace('"f"', `"f${(i >> 2) % 50}"`)},"source":"s","kind":"tensor","size":[8,3],"stride":[3,1]}`;
    const a = lineContext('f.jsonl', {});
    for (let i = 0; i < 400; i++) new WireBuilder().add(parseLine(line(i), i + 1, a));
    const b = lineContext('f.jsonl', {});
    takeOverCache(b, structuredClone(handOverCache(a)));
    assert.equal(b.tag, a.tag);
    const hits = [400, 401, 0, 57, 399].map((i) => parseLine(line(i), i + 1, b) instanceof LineHit);
    assert.deepEqual(hits, [true, true, true, true, true]);
    assert.ok(parseLine(line(402, 'r1'), 403, b) instanceof LineHit, 'a new run derived from the cached one');
    // a rest whose event no wire builder took (never on a wire) stays behind
    const c = lineContext('f.jsonl', {});
    parseLine(line(0), 1, c);
    assert.equal(handOverCache(c).rests.length, 0);
  });
});

describe('surelyValidLine', () => {
  const VALUES: unknown[] = [undefined, null, '', 'x', 'tensor', 'scalar', 'size', '12', '-3', '-0', '1e3', ' 1', '99999999999999999999999', 0, -0, 1, -1, 7, 1.5, 1e3, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1e300, true, false, [], [1], [1, '2'], [1.5], ['a'], [null], [[1]], [2 ** 53], {}, { a: 1 }];
  const CODE = { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'ab' };
  const BASES: Record<string, unknown>[] = [
    { job: 'j', run: 'r', time: 1795600000, code: CODE, source: "L['x']", kind: 'tensor', size: [2, 3], stride: [3, 1] },
    { job: 'j', rank: 0, tag: 't', time: '2026-11-28', compile_id: '0/0', code: { ...CODE, closure_hash: '123' }, source: 's', kind: 'scalar', value: 7, automatic_dynamic: false },
    { code: { filename: 'a', firstlineno: 1, name: 'f', closure_hash: null }, source: 's', kind: 'size', size: [1, '2'] },
  ];
  /** Whether the check says yes only where zod accepts the line and gives it back as it is. */
  const agrees = (j: unknown) => {
    if (!surelyValidLine(j)) return;
    const r = observationLineSchema().safeParse(j);
    assert.ok(r.success, `surelyValidLine accepts what zod refuses: ${JSON.stringify(j)}`);
    assert.deepEqual(r.data, j);
  };
  it('says yes only where the zod schema accepts the line and keeps all of it: every field of three lines set to hostile values, one and two at a time, extra keys, __proto__', () => {
    let yes = 0;
    const fields = ['job', 'rank', 'tag', 'run', 'time', 'compile_id', 'source', 'kind', 'size', 'stride', 'value', 'automatic_dynamic', 'code', 'extra'];
    const codeFields = ['filename', 'firstlineno', 'name', 'file_hash', 'closure_hash', 'extra'];
    for (const base of BASES) {
      assert.ok(surelyValidLine(JSON.parse(JSON.stringify(base))), JSON.stringify(base));
      for (const f of fields) {
        for (const v of VALUES) {
          const j = { ...base, [f]: v };
          if (v === undefined) delete j[f];
          agrees(j);
          if (surelyValidLine(j)) yes++;
          for (const f2 of ['kind', 'size', 'stride', 'value']) {
            for (const v2 of VALUES) {
              const k: Record<string, unknown> = { ...j, [f2]: v2 };
              if (v2 === undefined) delete k[f2];
              agrees(k);
            }
          }
        }
      }
      for (const f of codeFields) {
        for (const v of VALUES) {
          const c: Record<string, unknown> = { ...(base.code as object), [f]: v };
          if (v === undefined) delete c[f];
          agrees({ ...base, code: c });
        }
      }
      for (const text of ['{"__proto__":1,', '{"code":{"__proto__":{},']) {
        const j = JSON.parse(JSON.stringify(base).replace(text.startsWith('{"code"') ? '{"filename"' : '{', text.startsWith('{"code"') ? '{"__proto__":{},"filename"' : '{"__proto__":1,'));
        assert.equal(surelyValidLine(j), false, JSON.stringify(j));
      }
    }
    assert.ok(yes > 100, `${yes} lines passed the check`);
  });

  it('parseObservationLine gives on hostile lines what it gives where zod checks them (the check turned off): events and errors', () => {
    let events = 0;
    for (const base of BASES) {
      for (const f of ['job', 'rank', 'time', 'source', 'kind', 'size', 'stride', 'value', 'code', 'automatic_dynamic']) {
        for (const v of VALUES) {
          const text = JSON.stringify({ ...base, [f]: v });
          const a = outcome(() => parseObservationLine(text, 1, lineContext('f.jsonl', {})));
          const b = outcome(() => parseObservationLine(text, 1, lineContext('f.jsonl', {}), () => false));
          assert.deepEqual(a, b, text);
          if ('ok' in (a as object)) events++;
        }
      }
    }
    assert.ok(events > 100, `${events} lines gave events`);
  });
});

describe('readLineChunks', () => {
  it('reads the line a read chunk (1 MiB) ends in the middle of as a split does: a BOM line longer than a chunk, a newline first or last in a chunk, CRLF cut between chunks', async () => {
    const dir = tempDir();
    const MiB = 1 << 20;
    const cases: Buffer[] = [
      // a first line of more than a chunk, behind a BOM, ending in CRLF
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é'.repeat(MiB / 2 + 7)), Buffer.from('\r\nnext\nlast')]),
      // a chunk's last byte a newline, the next chunk's first byte a newline, a CR the last byte of a chunk
      Buffer.concat([Buffer.from('a'.repeat(MiB - 1)), Buffer.from('\n\nb\n'), Buffer.from('c'.repeat(MiB - 8)), Buffer.from('€'), Buffer.from('x\r\ny\r\n')]),
      Buffer.concat([Buffer.from('{"a":1}\n'.repeat(MiB / 8 - 1)), Buffer.from('{"b":"'), Buffer.from('😀'.repeat(300)), Buffer.from('"}\r\n{"c":1}')]),
    ];
    for (const [k, bytes] of cases.entries()) {
      const file = join(dir, `split-${k}.txt`);
      writeFileSync(file, bytes);
      const text = bytes[0] === 0xef ? bytes.subarray(3).toString('utf8') : bytes.toString('utf8');
      // a newline ends the last line: no empty line after it
      const want = text.replace(/\n$/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
      const got: string[] = [];
      const numbers: number[] = [];
      for await (const c of readLineChunks(file)) for (const l of c) got.push(l.text), numbers.push(l.line);
      assert.equal(got.length, want.length, `case ${k}`);
      assert.ok(got.every((g, i) => g === want[i]), `case ${k}`);
      assert.deepEqual(numbers, want.map((_, i) => i + 1), `case ${k}`);
    }
  });

  it('reads what a split of the whole text reads: CRLF, BOM, empty lines, multibyte and bad UTF-8 across chunk and piece boundaries', async () => {
    const dir = tempDir();
    const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 3000; i++) {
      const len = rnd(20) === 0 ? rnd(150000) : rnd(120);
      const pieces = ['é', '€', '😀', 'a', 'b', '\r', ' '];
      let s = '';
      for (let k = 0; k < len; k++) s += pieces[rnd(pieces.length)];
      parts.push(Buffer.from(s));
      if (rnd(50) === 0) parts.push(Buffer.from([0xe2, 0x82]));
      parts.push(Buffer.from(rnd(4) === 0 ? '\r\n' : '\n'));
    }
    parts.push(Buffer.from('last line without newline €'));
    const bytes = Buffer.concat(parts);
    const file = join(dir, 'lines.txt');
    writeFileSync(file, bytes);
    const want = bytes
      .subarray(3)
      .toString('utf8')
      .split('\n')
      .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const got: string[] = [];
    const numbers: number[] = [];
    for await (const c of readLineChunks(file)) for (const l of c) got.push(l.text), numbers.push(l.line);
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
    assert.deepEqual(numbers, want.map((_, i) => i + 1));
  });

  it('read from a line on (watch: a file that grew) gives the lines and numbers a read of the whole file gives from there, up to `end`', async () => {
    const dir = tempDir();
    // a BOM (dropped at the start only), CRLF, empty lines, multibyte text, lines across the 1 MiB chunks
    const lines = Array.from({ length: 9000 }, (_, i) => (i % 97 === 0 ? '' : `${i % 5 ? 'é' : '😀'}${'x'.repeat(i % 400)}${i % 7 ? '' : '\r'}`));
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\n') + '\n')]);
    const file = join(dir, 'from.txt');
    writeFileSync(file, bytes);
    const whole: { text: string; line: number }[] = [];
    for await (const c of readTextChunks(file)) for (const [i, text] of c.texts.entries()) whole.push({ text, line: c.first + i });
    assert.equal(whole.length, lines.length);
    const newlines: number[] = [];
    for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, nl + 1)) newlines.push(nl + 1);
    for (const line of [1, 2, 96, 97, 3000, 5003, 8999]) {
      const offset = newlines[line - 1];
      const end = newlines[Math.min(line + 2500, newlines.length) - 1];
      const got: { text: string; line: number }[] = [];
      for await (const c of readTextChunks(file, undefined, end, { offset, line })) for (const [i, text] of c.texts.entries()) got.push({ text, line: c.first + i });
      assert.deepEqual(got, whole.slice(line, line + 2500), `from line ${line}`);
    }
  });
});

describe('session 14 tryout: an int field zod refuses says what it takes, named as size[0]', () => {
  it('a float, a bool or a null where an int goes is said with the value, and a list item by its index', () => {
    const ctx = lineContext('f.jsonl', {});
    const cases: [string, RegExp][] = [
      [`{"job":"j",${code},"source":"x","kind":"tensor","size":[1.5,3],"stride":[3,1]}`, /^f\.jsonl:1: field size\[0\]: expected an int \(past 2\*\*53, its digits as a string\), got 1\.5$/],
      [`{"job":"j",${code},"source":"x","kind":"scalar","value":true}`, /^f\.jsonl:1: field value: expected an int .*, got true$/],
      [`{"job":"j",${code},"source":"x","kind":"tensor","size":[2,3],"stride":[3,"a"]}`, /^f\.jsonl:1: field stride\[1\]: not an integer$/],
    ];
    for (const [line, want] of cases) {
      assert.throws(() => parseObservationLine(line, 1, ctx), (e: Error) => (assert.match(e.message, want), true), line);
    }
  });
});

describe('observation lines: binary bytes read as lines', () => {
  it("a pickle's bytes given as observations are said as escapes, never echoed back as NULs, control bytes or U+FFFD", () => {
    const ctx = lineContext('p.pkl', {});
    // what a pickle's first line reads as text: its protocol bytes, then bytes that are no UTF-8
    const text = Buffer.from([0x80, 0x04, 0x95, 0x4c, 0x03, 0, 0, 0, 0, 0, 0, 0x8c, 0x01, 0x7b]).toString('utf8');
    assert.throws(
      () => parseObservationLine(text, 1, ctx),
      (e: Error) => {
        assert.match(e.message, /^p\.pkl:1: not JSON: .*\\ufffd/);
        assert.doesNotMatch(e.message, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/);
        return true;
      },
    );
  });
});

describe('trial 16: a number JSON cannot hold as an int is said as what JSON.parse read', () => {
  it('1e400 is said as Infinity, not null; an int past 2**53 says to give its digits as a string', () => {
    const ctx = lineContext('f.jsonl', {});
    const cases: [string, RegExp][] = [
      // JSON.stringify(Infinity) is "null": the message said "got null" of a line that holds no null
      [`{"job":"j",${code},"source":"x","kind":"tensor","size":[8,1e400],"stride":[3,1]}`, /^f\.jsonl:1: field size\[1\]: expected an int .*, got Infinity \(a number past a double's range\)$/],
      [`{"job":"j",${code},"source":"x","kind":"scalar","value":-1e400}`, /^f\.jsonl:1: field value: expected an int .*, got -Infinity /],
      // zod's "Too big: expected int to be <=9007199254740991" did not say that a string takes it
      [`{"job":"j",${code},"source":"x","kind":"scalar","value":9007199254740993}`, /^f\.jsonl:1: field value: read as 9007199254740992: a JSON number past 2\*\*53 loses its last digits; give its digits as a string$/],
      [`{"job":"j",${code},"source":"x","kind":"tensor","size":[-9007199254740993],"stride":[1]}`, /^f\.jsonl:1: field size\[0\]: read as -9007199254740992: .* give its digits as a string$/],
    ];
    for (const [line, want] of cases) {
      assert.throws(() => parseObservationLine(line, 1, ctx), (e: Error) => (assert.match(e.message, want), true), line);
    }
    // and the string form is taken
    assert.doesNotThrow(() => parseObservationLine(`{"job":"j",${code},"source":"x","kind":"scalar","value":"9007199254740993"}`, 1, ctx));
  });
});

describe('mark_dynamic on a line', () => {
  const job = '"job":"j",' + code + ',"source":"x"';
  it("is the tensor's marked dims, in dim order and once each, as Dynamo walks them (the fast parse agrees)", () => {
    const { check } = sideBySide('');
    const ev = check(`{${job},"kind":"tensor","size":[4,6,8],"stride":[48,8,1],"mark_dynamic":[2,0,2]}`) as LineEvent;
    assert.deepEqual((ev.payload as { shape: unknown }).shape, { kind: 'tensor', size: [4, 6, 8], stride: [48, 8, 1], mark_dynamic: [0, 2] });
    // none marked: the plain tensor body, as before
    const plain = check(`{${job},"kind":"tensor","size":[4],"stride":[1],"mark_dynamic":[]}`) as LineEvent;
    assert.deepEqual((plain.payload as { shape: unknown }).shape, { kind: 'tensor', size: [4], stride: [1] });
  });
  it('is refused on a scalar or a size-only line, and past the tensor\'s dims', () => {
    const ctx = lineContext('f.jsonl', {});
    assert.throws(() => parseObservationLine(`{${job},"kind":"scalar","value":3,"mark_dynamic":[0]}`, 1, ctx), /f\.jsonl:1: field mark_dynamic: only for kind tensor/);
    assert.throws(() => parseObservationLine(`{${job},"kind":"size","size":[3],"mark_dynamic":[0]}`, 2, ctx), /f\.jsonl:2: field mark_dynamic: only for kind tensor/);
    assert.throws(() => parseObservationLine(`{${job},"kind":"tensor","size":[3,4],"stride":[4,1],"mark_dynamic":[2]}`, 3, ctx), /f\.jsonl:3: field mark_dynamic: dim 2 is past the size's 2 dims/);
    assert.throws(() => parseObservationLine(`{${job},"kind":"tensor","size":[3],"stride":[1],"mark_dynamic":[-1]}`, 4, ctx), /f\.jsonl:4: field mark_dynamic/);
  });
});

describe('trial s26b: a field a Python recorder wrote as None', () => {
  it('run, tag and compile_id null are the field left out, on the fast path and through the schema alike', () => {
    const base = { job: 'p', code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['n']", kind: 'scalar', value: 4 };
    const plain = parseObservationLine(JSON.stringify(base), 1, lineContext('x.jsonl', { run: 'r' }));
    for (const f of ['run', 'tag', 'compile_id']) {
      const line = { ...base, [f]: null };
      assert.equal(surelyValidLine(line), true, f);
      assert.equal(observationLineSchema().safeParse(line).success, true, f);
      const e = parseObservationLine(JSON.stringify(line), 1, lineContext('x.jsonl', { run: 'r' }));
      assert.deepEqual([e.cacheKey, e.run, e.compileId, e.payload], [plain.cacheKey, plain.run, plain.compileId, plain.payload], f);
    }
    // a code id's file_hash is no such field: null there is still refused
    assert.equal(surelyValidLine({ ...base, code: { ...base.code, file_hash: null } }), false);
  });
});
