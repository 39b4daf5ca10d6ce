import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { FIXTURES, TORCH } from '../../test/support/fixtures.ts';
import { isEventTime } from '../model/event-time.ts';
import { FACT_READS, mayNameFact } from '../codecs/trace/facts.ts';
import { hash53 } from '../store/hash53.ts';
import { describedRole, glogClock, readTraceFile, traceEvents, traceReader } from './ingest-trace.ts';
import { readTextChunks } from './read-lines.ts';

/** Each fact's time as the ingest took it before times were worked out per event: a forward pass over every fact. */
function forwardTimes(r: ReturnType<typeof traceReader>, fallback: number): Map<number, number> {
  const timed = (f: { time?: number | null }): f is { time: number } => typeof f.time === 'number' && isEventTime(f.time);
  const facts = r.facts as unknown as ({ line: number } & { time?: number | null })[];
  let last = (facts.find(timed) as { time: number } | undefined)?.time ?? fallback;
  const lineTime = glogClock(r.clock, facts.filter(timed) as unknown as { line: number; time: number; kind: string }[], last);
  const byLine = new Map<number, number>();
  for (const f of facts) {
    last = lineTime(f.line) ?? (timed(f) ? f.time : last);
    byLine.set(f.line, last);
  }
  return byLine;
}

function read(text: string) {
  const r = traceReader();
  text.split('\n').forEach((l, i) => r.push(l, i + 1));
  r.end();
  return r;
}

describe('trace ingest: event times', () => {
  const dir = join(TORCH, 'traces');
  const texts: [string, string][] = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
  // Hostile: glog lines whose clock is no date (month 13, day 00), and chromium times past 9999.
  const [, first] = texts[0];
  texts.push(['odd-clock', first.replace(/^I(\d\d)(\d\d) /gm, (_m, mm, dd) => `I${mm === '11' ? '13' : mm}${dd === '26' ? '00' : dd} `)]);
  texts.push(['huge-ts', first.replace(/"ts": ?\d+/g, '"ts": 1e300')]);
  for (const [name, text] of texts) {
    it(`${name}: each event's time is the one a pass over every fact gives`, () => {
      const r = read(text);
      const t = traceEvents(r, name, { defaults: { job: 'j' } });
      assert.ok(t.settled, t.settled ? '' : t.why);
      assert.ok(t.events.length > 0);
      const want = forwardTimes(r, 0);
      for (const e of t.events) assert.equal(e.time, want.get(e.originLine!), `${e.kind} at line ${e.originLine}`);
    });
  }
  it('the clock holds the glog time of each line that gave facts, and of no other line', () => {
    const lines = first.split('\n');
    const r = read(first);
    const byLine = (a: number, b: number) => a - b;
    assert.deepEqual([...r.clock.keys()].sort(byLine), [...new Set(r.facts.map((f) => f.line))].sort(byLine));
    assert.ok(r.clock.size > 0 && r.clock.size < r.stats.entries, 'fewer lines than entries');
    for (const [line, at] of r.clock) assert.equal(at, /^[VIWEC](\d{4}) (\S+)/.exec(lines[line - 1])!.slice(1).join(' '), `line ${line}`);
  });
});

describe('trace ingest: described roles', () => {
  it('parameters and buffers are told by their source text as the regexes told them', () => {
    for (const s of ["L['self']._parameters['w']", "L['self']._buffers['b']", "L['self'].running_mean", "L['self']._parameters", "L['x']._buffers[0]", 'a._parametersX[', '']) {
      const want = /\._parameters\[/.test(s) ? 'parameter' : /\._buffers\[/.test(s) ? 'buffer' : 'input';
      assert.equal(describedRole(s, false), want, s);
      assert.equal(describedRole(s, true), 'parameter');
    }
  });
});

/** What a reader holds, as plain data (an entry's facts, problems, counts, first line, clock). */
function held(r: ReturnType<typeof traceReader>) {
  return JSON.parse(JSON.stringify({ facts: r.facts, problems: r.problems, entries: r.stats.entries, ignored: r.stats.ignored, unknown: [...r.stats.unknown], first: r.first, clock: [...r.clock] }));
}

/** A log's bytes read as the ingest streams them: line by line through readTextChunks. */
async function readStreamed(bytes: Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'pgo-trace-'));
  try {
    const file = join(dir, 'trace.log');
    writeFileSync(file, bytes);
    const r = traceReader();
    for await (const c of readTextChunks(file)) c.texts.forEach((t, i) => r.push(t, c.first + i));
    r.end();
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('trace ingest: a whole file read from its bytes', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const glog = (meta: string) => `V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:2126] ${meta}`;
  const entry = (meta: string, payload: string[], hash: string | null = md5(payload.join('\n'))) =>
    [glog(hash === null ? meta : meta.replace(/\}$/, `, "has_payload": "${hash}"}`)), ...payload.map((p) => `\t${p}`)].join('\n');
  const ad = (name: string) => ['{', `"name": "${name}",`, '"ts": 1795671967428037.0,', '"args": {"compile_id": "0/0", "name": "L[\'x\']", "dim_changed": 0, "reason": "size change", "cached": "[2]", "new": "[3]"},', '"ph": "i"', '}'];
  const first = readFileSync(join(TORCH, 'traces', readdirSync(join(TORCH, 'traces')).sort()[0]), 'utf8');
  // Hostile lines: bad and odd metadata, payloads out of place or not matching, escapes, odd keys.
  const pieces = [
    entry('{"chromium_event": {}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0}', ad('automatic_dynamic')),
    entry('{"chromium_event": {}, "frame_id": 0, "frame_compile_id": 0, "attempt": 1}', ad('\\u0061utomatic_dynamic')),
    entry('{"chromium_event": {}}', ['{"name": "pgo.get_local_code_state", "ts": 2.0, "args": {"cache_key": "k:0:"}}']),
    entry('{"chromium_event": {}}', ['{"name": "dynamo", "args": {"x": "pgo. automatic_dynamic"}}']),
    entry('{"chromium_event": {}}', ad('automatic_dynamic'), '0'.repeat(32)),
    entry('{"chromium_event": {}}', ad('automatic_dynamic'), null),
    entry('{"chromium_event": {}}', []),
    entry('{"chromium_event": {}}', [], null),
    entry('{"chromium_event": {}}', ['', '{"name": "automatic_dynamic"', '']),
    entry('{"artifact": {"name": "recompile_reasons", "encoding": "json"}, "frame_id": 1, "frame_compile_id": 0}', ['["a", 2]']),
    entry('{"artifact": {"name": "put_local_code_state", "encoding": "string"}}', ['Code Object: f', 'é 😀 ünïcode']),
    entry('{"artifact": {"name": "other"}}', ['x']),
    // payloads hashed from their bytes: tabs within and at the start of lines, empty lines, bytes past ASCII
    entry('{"artifact": {"name": "other"}}', ['\tindented', '', '\t', 'a\tb', '\t\t', '']),
    entry('{"artifact": {"name": "other"}}', ['\u0080\u00ff ÿ € \u{10ffff}', '\t\u00a0']),
    entry('{"artifact": {"name": "other"}}', ['\tindented', '', 'a\tb'], md5('indented\n\na\tb')),
    entry('{"chromium_event": {}}', ['\t{"name": "pgo.x", "args": {"cache_key": "k:0:"}}']),
    glog('{"compilation_metrics": {"co_name": "f", "co_filename": "/a.py", "co_firstlineno": 1, "compile_id": "0/0", "start_time": 1795671967.4, "compiler_config": "{\\"job_id\\": \\"j\\"}"}, "rank": 3}'),
    glog('{"describe_tensor": {"describer_id": 0, "id": 1, "size": [2, 99999999999999999999999], "stride": [1e400, -0], "dtype": "float"}, "frame_id": 0, "frame_compile_id": 0}'),
    glog('{"describe_source": {"describer_id": 0, "id": 1, "source": "L[\'x\']"}, "describe_source": {"describer_id": 0, "id": 1, "source": "dup"}, "frame_id": 0, "frame_compile_id": 0}'),
    glog('{"rank": 1, "frame_id": 0}'),
    glog('{"__proto__": {"x": 1}, "constructor": 2}'),
    glog('{"str": ["a]b", 0]}'),
    glog('{"str": ["\\ud800"]}'),
    glog('{"str": '),
    glog('[1, 2]'),
    glog('null'),
    'V1126 05:46:07 10000 x.py:1] {"str": []}',
    'V1126 05:46:07.1 10000 x.py:1]{"str": []}',
    'X1126 05:46:07.428000 10000 x.py:1] {"str": []}',
    'V1126 05:46:07.428000   10000 a] b] {"str": []}',
    'not a glog line',
    '   ',
    '\u00a0\u3000',
    '',
    '\tpayload line',
    '\t',
    '\t\t',
    // glog heads that match, nearly match or fail late (read from bytes without the regex)
    'V1126 05:46:07.428000 10000 é/😀 ü.py:1] {"str": []}',
    'V1126 05:46:07.428000 10000 x.py:1]] {"str": []}',
    'V1126 05:46:07.428000 10000 a]b] {"str": []}',
    'V1126 05:46:07.428000 10000 x.py:1]',
    'V1126 05:46:07.428000 10000 x.py:1] ',
    'V1126 05:46:07.428000 10000 ] {"str": []}',
    'V1126 05:46:07.428000 10000] {"str": []}',
    'V1126 05:46:07.428000 1a000 x] {"str": []}',
    'V112a 05:46:07.428000 10000 x] {"str": []}',
    'V1126 05:46:07.428000 0099999999999999999999 x] {"str": []}',
    'E1126 05:46:07.4 1 ] {"str": []}',
    'W0000 99:99:99.0000000000 \u00a0 1 x] {"str": []}',
    'V1126 05:46:07.428000 10000',
    'V1126 05:46:07.428000  ',
    'V1126 05:46:07. 10000 x] {"str": []}',
    'v1126 05:46:07.428000 10000 x] {"str": []}',
    'V1126\t05:46:07.428000 10000 x] {"str": []}',
    'V１１26 05:46:07.428000 10000 x] {"str": []}',
    'C1126 05:46:07.428000\t10000 x] {"str": []}',
    'I1126 05:46:07.428000 10000 x\t] {"str": []}',
  ];
  const rnd = (() => {
    let s = 12345;
    return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  })();
  const cases: [string, string | Buffer][] = [
    ['a real trace', first],
    ['every hostile line once', pieces.join('\n')],
    ['every hostile line, no final newline', pieces.join('\n').trimEnd()],
    ['a payload line first', `\tx\n${pieces.join('\n')}\n`],
    ['ends inside a payload', `${entry('{"chromium_event": {}}', ad('automatic_dynamic')).slice(0, -10)}`],
    ['empty', ''],
    ['one newline', '\n'],
  ];
  for (let k = 0; k < 40; k++) {
    const lines = Array.from({ length: 30 }, () => pieces[Math.floor(rnd() * pieces.length)]);
    cases.push([`random mix ${k}`, lines.join('\n') + (rnd() < 0.5 ? '\n' : '')]);
  }
  // glog heads with a byte changed, cut or doubled anywhere: matched from bytes as the regex matches the text
  const head = 'I1126 05:46:07.428000 10000 torch/x.py:1] ';
  const odd = ['0', '9', ' ', '.', ':', ']', 'V', 'x', '\t', 'é', '\u00a0', ''];
  for (let k = 0; k < 20; k++) {
    const lines = Array.from({ length: 60 }, () => {
      const at = Math.floor(rnd() * head.length);
      const c = odd[Math.floor(rnd() * odd.length)];
      const h = rnd() < 0.2 ? head.slice(0, at) + head[at] + head.slice(at) : head.slice(0, at) + c + head.slice(at + 1);
      return `${h}{"str": [${k}]}`;
    });
    cases.push([`odd glog heads ${k}`, lines.join('\n')]);
  }
  for (const [name, text] of cases) {
    it(`${name}: the same facts, problems and counts as read line by line`, async () => {
      const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
      const fast = traceReader();
      assert.equal(fast.pushBytes(bytes), true);
      fast.end();
      assert.deepEqual(held(fast), held(await readStreamed(bytes)));
    });
  }
  // Bytes that decode or split otherwise than as they are: read line by line instead.
  const refused: [string, Buffer][] = [
    ['not UTF-8', Buffer.concat([Buffer.from(glog('{"str": ["')), Buffer.from([0xff, 0xc3]), Buffer.from('"]}\n')])],
    ['a carriage return', Buffer.from(`${glog('{"str": []}')}\r\n`)],
    ['a U+2028 in the metadata', Buffer.from(`${glog('{"str": ["\u2028"]}')}\n`)],
    ['a U+2029 in a payload', Buffer.from(`${entry('{"chromium_event": {}}', ['\u2029'])}\n`)],
    ['a byte order mark', Buffer.from(`\ufeff${glog('{"str": []}')}\n`)],
  ];
  for (const [name, bytes] of refused) {
    it(`${name}: refused, the reader left as it was`, () => {
      const r = traceReader();
      assert.equal(r.pushBytes(bytes), false);
      assert.deepEqual(held(r), held(traceReader()));
    });
  }
});

describe('trace ingest: files read one after another', () => {
  it("a file's events hold nothing of its bytes: reading the next file (into the same memory) changes none of them", async () => {
    const dir = join(TORCH, 'traces');
    const files = [...readdirSync(dir).sort(), ...readdirSync(dir).sort().reverse()].map((f) => join(dir, f));
    const read = await Promise.all(files.map(async (f) => ({ f, events: (await readTraceFile(f, {})).events })));
    const before = read.map((r) => JSON.stringify(r.events));
    for (const f of files) await readTraceFile(f, {});
    assert.deepEqual(read.map((r) => JSON.stringify(r.events)), before);
    // and each file alone gives what it gave after the others
    for (const [i, f] of files.entries()) assert.equal(JSON.stringify((await readTraceFile(f, {})).events), before[i]);
    assert.ok(before.every((b) => b.length > 100));
  });
});

describe('trace ingest: idempotency keys', () => {
  it("each event's idempotencyHash is hash53 of its idempotencyKey (the keys' shared start hashed once a trace)", async () => {
    const dir = join(TORCH, 'traces');
    let n = 0;
    for (const f of readdirSync(dir).sort()) {
      for (const e of (await readTraceFile(join(dir, f), {})).events) {
        assert.ok(e.idempotencyKey.startsWith('trace\u0000'));
        assert.equal(e.idempotencyHash, hash53(e.idempotencyKey), e.idempotencyKey);
        n++;
      }
    }
    assert.ok(n > 100);
  });
});

describe('trace ingest: snapshots a folder repeats', () => {
  it("a snapshot whose text an earlier trace held is not parsed again: the events are a fresh parse's, from the profile parsed first", async () => {
    const file = join(TORCH, 'traces', 'cold-local.log');
    const first = (await readTraceFile(file, {})).events;
    const again = (await readTraceFile(file, {})).events;
    assert.deepEqual(again, first);
    const imported = (events: typeof first) => events.filter((e) => e.kind === 'entry.imported').map((e) => (e.payload as { code: object }).code);
    assert.ok(imported(first).length > 0);
    // the same CodeId objects: the second read took the profiles the first one parsed
    imported(again).forEach((code, i) => assert.equal(code, imported(first)[i]));
  });
  it('a snapshot that fails to parse is said in each trace that holds it', () => {
    const md5 = (p: string) => createHash('md5').update(p).digest('hex');
    const bad = 'hash(x) not a render text';
    const text = [`V1126 05:46:07.428000 10000 x.py:1] {"artifact": {"name": "put_local_code_state", "encoding": "string"}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0, "has_payload": "${md5(bad)}"}`, `\t${bad}`].join('\n');
    for (let i = 0; i < 2; i++) {
      // '-' (stdin): a trace with no time of its own is timed from now, not from its file
      const t = traceEvents(read(text), '-', { defaults: { job: 'j' } });
      assert.ok(t.settled, t.settled ? '' : t.why);
      assert.equal(t.skipped, 1);
      assert.match(t.notes.join('\n'), /^standard input:1: put_local_code_state: .*; snapshot skipped$/m);
    }
  });
});

describe('trace ingest: the glog clock', () => {
  /**
   * glogClock as first written, each line worked out anew: the text read for each year tried,
   * the anchors before the line walked from the first (an offset a chromium event's line on).
   */
  function referenceClock(clock: ReadonlyMap<number, string>, anchors: { line: number; time: number; kind: string }[], fallback: number) {
    const parse = (s: string, year: number) => {
      const m = /^(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(s);
      if (!m) return undefined;
      const ms = m[6] ? Math.round(Number(`0.${m[6]}`) * 1000) : 0;
      return Date.UTC(year, Number(m[1]) - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), ms);
    };
    const nearest = (s: string, near: number) => {
      const y = new Date(near).getUTCFullYear();
      let best: number | undefined;
      for (const year of [y - 1, y, y + 1]) {
        const t = parse(s, year);
        if (t !== undefined && (best === undefined || Math.abs(t - near) < Math.abs(best - near))) best = t;
      }
      return best;
    };
    const offsetAt = (a: { line: number; time: number }) => {
      const t = nearest(clock.get(a.line)!, a.time);
      return t !== undefined && Math.abs(a.time - t) < 86_400_000 ? Math.round((a.time - t) / 900_000) * 900_000 : undefined;
    };
    // each offset's anchor: the first anchor's, then each chromium event's that changes it
    const zones: { from: number; offset: number; near: number }[] = [];
    const first = anchors.findIndex((a) => clock.has(a.line));
    if (first >= 0) zones.push({ from: anchors[first].line, offset: offsetAt(anchors[first]) ?? 0, near: anchors[first].time });
    for (const a of anchors.slice(first + 1)) {
      const z = zones.at(-1);
      if (!z || a.kind === 'compilation_metrics' || !clock.has(a.line) || a.line <= z.from) continue;
      const o = offsetAt(a);
      if (o !== undefined && o !== z.offset) zones.push({ from: a.line, offset: o, near: a.time });
    }
    const timeIn = (s: string, z: { offset: number; near: number }) => {
      const t = nearest(s, z.near - z.offset);
      return t === undefined ? undefined : t + z.offset;
    };
    return (line: number) => {
      const s = clock.get(line);
      if (s === undefined) return undefined;
      if (zones.length === 0) return timeIn(s, { offset: 0, near: fallback });
      let k = 0;
      while (k + 1 < zones.length && zones[k + 1].from <= line) k++;
      const t = timeIn(s, zones[k]);
      const next = zones[k + 1];
      // times only go forward: a line the offset puts outside its anchors takes the next one's
      const inside = (u: number) => (line <= zones[k].from || u >= zones[k].near - 60_000) && u <= next.near + 60_000;
      if (t === undefined || !next || inside(t)) return t;
      const u = timeIn(s, next);
      return u !== undefined && inside(u) ? u : t;
    };
  }
  it('gives each line the time the reference does: odd clocks, repeated readings, odd anchors and fallbacks', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const d2 = (n: number) => String(Math.floor(n)).padStart(2, '0');
    for (let k = 0; k < 500; k++) {
      const clock = new Map<number, string>();
      const reading = () => (rnd() < 0.05 ? 'junk' : `${d2(rnd() * 14)}${d2(rnd() * 33)} ${d2(rnd() * 25)}:${d2(rnd() * 61)}:${d2(rnd() * 61)}${rnd() < 0.8 ? `.${Math.floor(rnd() * 1e6)}` : ''}`);
      for (let l = 1; l <= 20; l++) clock.set(l, l > 1 && rnd() < 0.3 ? clock.get(l - 1)! : reading());
      const anchors = rnd() < 0.2 ? [] : [{ line: 1 + Math.floor(rnd() * 25), time: [0, 1.7e12, 2.5e14, 1795671967428, -1e13, NaN][Math.floor(rnd() * 6)] + rnd() * 1e10, kind: 'cache_key' }];
      const fallback = [1.7e12, 0, 2.5e14, NaN][Math.floor(rnd() * 4)];
      const a = glogClock(clock, anchors, fallback);
      const b = referenceClock(clock, anchors, fallback);
      for (let l = 0; l <= 21; l++) for (let rep = 0; rep < 2; rep++) assert.ok(Object.is(a(l), b(l)), `line ${l} (${clock.get(l)}): ${a(l)} against ${b(l)}`);
    }
  });
  it('the offset follows the anchors a chromium event gives (a daylight-saving change), never a compile start alone; lines asked in any order', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const d2 = (n: number) => String(Math.floor(n)).padStart(2, '0');
    const kinds = ['cache_key', 'automatic_dynamic', 'compilation_metrics'];
    let changed = 0;
    for (let k = 0; k < 500; k++) {
      // a log of 40 lines a few minutes apart, each near 1 November or New Year
      const clock = new Map<number, string>();
      const base = Date.UTC(2026, rnd() < 0.5 ? 10 : 11, rnd() < 0.5 ? 1 : 31, Math.floor(rnd() * 24));
      const utc = new Map<number, number>();
      for (let l = 1; l <= 40; l++) {
        const u = base + l * 240_000 + Math.floor(rnd() * 1e6) * 1000;
        const d = new Date(u);
        utc.set(l, u);
        clock.set(l, rnd() < 0.03 ? 'junk' : `${d2(d.getUTCMonth() + 1)}${d2(d.getUTCDate())} ${d2(d.getUTCHours())}:${d2(d.getUTCMinutes())}:${d2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}`);
      }
      // anchors in line order, repeated lines among them: each the time glog's plus a zone,
      // a change of an hour or more, a long compile, odd times
      const zones = [0, -4 * 3_600_000, -5 * 3_600_000, 5.5 * 3_600_000, 3_600_000];
      const lines = Array.from({ length: Math.floor(rnd() * 8) }, () => 1 + Math.floor(rnd() * 42)).sort((x, y) => x - y);
      const anchors = lines.map((line) => ({
        line,
        kind: kinds[Math.floor(rnd() * 3)],
        time: rnd() < 0.1 ? [NaN, 0, 2.5e14][Math.floor(rnd() * 3)] : (utc.get(line) ?? base) - zones[Math.floor(rnd() * zones.length)] - (rnd() < 0.2 ? 1_800_000 : 0) + Math.floor(rnd() * 2000) - 1000,
      }));
      const fallback = [1.7e12, base, NaN][Math.floor(rnd() * 3)];
      const a = glogClock(clock, anchors, fallback);
      const b = referenceClock(clock, anchors, fallback);
      const asked = Array.from({ length: 60 }, (_, i) => (i < 42 ? i : Math.floor(rnd() * 42)));
      if (rnd() < 0.5) asked.reverse();
      for (const l of asked) assert.ok(Object.is(a(l), b(l)), `case ${k} line ${l} (${clock.get(l)}): ${a(l)} against ${b(l)}; anchors ${JSON.stringify(anchors)}`);
      const first = a(1);
      if (first !== undefined && asked.some((l) => { const t = a(l); return t !== undefined && t !== first - utc.get(1)! + utc.get(l)!; })) changed++;
    }
    assert.ok(changed > 50, `cases whose offset changed: ${changed}`);
  });
});

describe('trace ingest: payloads nothing reads', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const glog = (meta: string) => `V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:2126] ${meta}`;
  const entry = (meta: string, payload: string[], hash: string) => [glog(meta.replace(/\}$/, `, "has_payload": "${hash}"}`)), ...payload.map((p) => `\t${p}`)].join('\n');
  const bad = '0'.repeat(32);
  const log = [
    entry('{"dynamo_cpp_guards_str": {}, "frame_id": 0, "frame_compile_id": 0}', ['TREE_GUARD_MANAGER:', '| +- GuardManager'], bad),
    entry('{"no_such_kind": {}}', ['x'], bad),
    entry('{"artifact": {"name": "fx_graph_cache_hash", "encoding": "json"}}', ['{"key": 1}'], bad),
    entry('{"artifact": {"name": "put_local_code_state", "encoding": "string"}}', ['Code Object: f'], bad),
    entry('{"artifact": {"name": "recompile_reasons", "encoding": "json"}}', ['["a"]', ''], bad),
    entry('{"chromium_event": {}}', ['{"name": "dynamo", "ts": 1.0}'], bad),
    entry('{"chromium_event": {}}', ['{"name": "automatic_dynamic",', '"ts": 1.0}'], bad),
    entry('{"describe_tensor": {"describer_id": 0, "id": 1, "size": [2]}, "frame_id": 0, "frame_compile_id": 0}', ['x'], bad),
    entry('{"dynamo_output_graph": {"sizes": {}}}', ['a', 'b'], md5('a\nb')),
    entry('{"artifact": {"name": "put_local_code_state", "encoding": "string"}}', ['Code Object: f', '  x'], md5('Code Object: f\n  x')),
    entry('{"str": ["x"]}', ['cut'], bad),
  ].join('\n');
  it('only the payloads of entries a parser reads are checked against has_payload: the others are counted and skipped, unhashed', async () => {
    const fast = traceReader();
    assert.equal(fast.pushBytes(Buffer.from(log)), true);
    fast.end();
    const h = held(fast);
    assert.deepEqual(held(await readStreamed(Buffer.from(log))), h);
    // the put_local_code_state, recompile_reasons, chromium_event that may name a fact and
    // describe_tensor that do not match (the chromium event at 13, a timing, is read by none)
    assert.deepEqual(
      h.problems.map((p: { line: number; message: string }) => `${p.line}: ${p.message}`),
      [
        '8: artifact: payload does not match has_payload (MD5); entry skipped',
        '10: artifact: payload does not match has_payload (MD5); entry skipped',
        '15: chromium_event: payload does not match has_payload (MD5); entry skipped',
        '18: describe_tensor: payload does not match has_payload (MD5); entry skipped',
      ],
    );
    assert.deepEqual(h.facts.map((f: { kind: string; line: number }) => [f.kind, f.line]), [['code_state', 23]]);
    // dynamo_cpp_guards_str, fx_graph_cache_hash, the timing, dynamo_output_graph and str counted as known kinds; no_such_kind as one with no parser
    assert.deepEqual([h.entries, h.ignored, h.unknown], [11, 5, [['no_such_kind', 1]]]);
  });
  it("a trace's events are the same whatever the payloads nothing reads hold", async () => {
    for (const f of readdirSync(join(TORCH, 'traces')).sort()) {
      const text = readFileSync(join(TORCH, 'traces', f), 'utf8');
      // every entry of a kind without a parser, every artifact nothing reads, every chromium
      // event whose payload names no fact (a timing) and guards that pin no value, its payload garbled
      let garbled = 0;
      let timings = 0;
      const lines = text.split('\n');
      let unread = false;
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i];
        if (l.startsWith('\t')) {
          if (unread) lines[i] = `\t#${l.slice(1)}`;
          continue;
        }
        const m = /\] \{"(\w+)": (\{"name": "(\w+)")?/.exec(l);
        unread = !!m && !['chromium_event', 'describe_tensor', 'describe_source', 'compilation_metrics', 'artifact'].includes(m[1]);
        if (m?.[1] === 'artifact') unread = !/code_state|recompile_reasons/.test(m[3] ?? '');
        if (m?.[1] === 'chromium_event') {
          let end = i + 1;
          while (end < lines.length && lines[end].startsWith('\t')) end++;
          unread = !mayNameFact(lines.slice(i + 1, end).join('\n'));
          if (unread) timings++;
        }
        // guards are read where one pins a value (EQUALS_MATCH)
        if (m?.[1] === 'dynamo_cpp_guards_str') {
          let end = i + 1;
          while (end < lines.length && lines[end].startsWith('\t')) end++;
          unread = !lines.slice(i + 1, end).some((p) => p.includes('+- EQUALS_MATCH: '));
        }
        if (unread && l.includes('has_payload')) garbled++;
      }
      assert.ok(garbled > 3 && timings > 3, `${f}: ${garbled} payloads garbled, ${timings} of them timings`);
      const dir = mkdtempSync(join(tmpdir(), 'pgo-trace-'));
      try {
        const file = join(dir, f);
        const strip = (t: Awaited<ReturnType<typeof readTraceFile>>) => JSON.stringify(t);
        writeFileSync(file, text);
        const intact = strip(await readTraceFile(file, {}));
        writeFileSync(file, lines.join('\n'));
        const notes: string[] = [];
        const after = strip(await readTraceFile(file, { onNote: (n) => notes.push(n) }));
        assert.equal(after, intact, f);
        assert.ok(!notes.some((n) => n.includes('has_payload')), notes.join('\n'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('trace ingest: problems', () => {
  it('the same problem on lines one after another is said once, with its lines (a run of NULs gave 33 notes); the events are the same', async () => {
    const text = readFileSync(join(TORCH, 'traces', 'cold-local.log'), 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l, i) => i > 100 && /^V\d{4} /.test(l));
    // a line no glog line, then 5 tab lines under no entry, then one more alone further on
    const bad = [...lines.slice(0, at), '\u0000\u0000garbage', ...Array(5).fill('\tx'), ...lines.slice(at, at + 1), ...lines.slice(at + 1)];
    const far = bad.findIndex((l, i) => i > at + 200 && /^V\d{4} /.test(l));
    bad.splice(far, 0, 'garbage again');
    const dir = mkdtempSync(join(tmpdir(), 'pgo-trace-'));
    try {
      const file = join(dir, 'bad.log');
      writeFileSync(file, bad.join('\n'));
      const notes: string[] = [];
      const t = await readTraceFile(file, { onNote: (n) => notes.push(n) });
      assert.deepEqual(notes, [`${file}:${at + 1}: not a TORCH_TRACE (glog) line; skipped`, `${file}:${at + 2}-${at + 6}: payload line outside any entry; skipped (5 lines)`, `${file}:${far + 1}: not a TORCH_TRACE (glog) line; skipped`]);
      assert.equal(t.skipped, 7);
      writeFileSync(file, text);
      assert.equal(JSON.stringify((await readTraceFile(file, {})).events.map((e) => e.idempotencyKey)), JSON.stringify(t.events.map((e) => e.idempotencyKey)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trace ingest: metadata nothing reads', () => {
  // The reader that parses every line's metadata (checking payloads as the ingest does).
  const full = () => traceReader({ parses: () => true, checks: FACT_READS.checks });
  const glog = (meta: string) => `V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:2126] ${meta}`;
  const first = glog('{"str": ["first"]}');
  // Lines of kinds with no parser whose metadata is JSON, the first key written otherwise than
  // plainly or not the first key of the parse among them.
  const valid = [
    '{"guard_added_fast": {"expr": "Eq(s0, 3)", "stack": {"frames": [{"line": 1, "name": "f"}]}}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0}',
    '{"str": ["a"], "rank": 1}',
    '{"str": ["a"], "rank": 1.5}',
    '{"str": ["a"], "r\\u0061nk": 2}',
    '{"str": 1, "0": {}}',
    '{"str": 1, "7" : {}}',
    '{"str": 1, "4294967294": {}}',
    '{"str": 1, "4294967295": {}}',
    '{"str": 1, "01": 2, "-1": 3, "1.5": 4}',
    '{"str": {"0": 1}}',
    '{"str" : 1}',
    '{"str":1}',
    '{ "str": 1}',
    '{"frame_id": 1, "str": 2}',
    '{"has_payload": "x", "create_symbol": 2}',
    '{"create_symbol": {}, "dynamo_start": 1, "create_symbol": 2}',
    '{"__proto__": {"x": 1}}',
    '{"constructor": {}}',
    '{"toString": 1, "hasOwnProperty": 2}',
    '{"\\u0073tr": 1}',
    '{"str": "\\"rank\\": 1, \\"0\\": 2"}',
    '{"dynamo_cpp_guards_str": {}, "has_payload": "00000000000000000000000000000000"}',
    '{"str": "\\ud800", "x": [1e400, -0, 99999999999999999999]}',
    '{"describe_tensor": {"describer_id": 0, "id": 1, "size": [2]}, "frame_id": 0, "frame_compile_id": 0, "rank": 4}',
    '{"compilation_metrics": {"co_name": "f", "co_filename": "/a.py", "co_firstlineno": 1, "compile_id": "0/0", "start_time": 1795671967.4, "compiler_config": "{\\"job_id\\": \\"j\\"}"}}',
    '{"chromium_event": {}, "has_payload": "c4ca4238a0b923820dcc509a6f75849b"}',
  ];
  const ranks = ['{"str": ["a"]}', '{"str": ["b"], "rank": 3}', '{"create_symbol": {}, "rank": 1}', '{"str": [], "rank": 2}', '{"describe_storage": {}, "rank": "7"}', '{"compilation_metrics": {"compile_id": "0/0"}, "rank": 5}'];
  const texts: [string, string][] = [
    ...readdirSync(join(TORCH, 'traces')).sort().map((f): [string, string] => [f, readFileSync(join(TORCH, 'traces', f), 'utf8')]),
    ...['trace-rank0.log', 'trace-rank1.log', 'trace-single.log'].map((f): [string, string] => [f, readFileSync(join(TORCH, 'workload2', f), 'utf8')]),
    ['ranks named by lines of kinds nothing reads, and others', ranks.map(glog).join('\n')],
    ['ranks, the first a string', [ranks[0], ranks[4], ...ranks.slice(1)].map(glog).join('\n')],
    ['ranks, the first spelled with an escape', [ranks[0], '{"str": [], "r\\u0061nk": 9}', ...ranks.slice(1)].map(glog).join('\n')],
    // "rank" as a value or a nested key names no rank; a key is its name, whitespace, a colon
    ['"rank" as a value, a nested key, then a key spaced from its colon', ['{"str": ["a"]}', '{"str": ["rank"], "x": "rank", "y": {"rank": 8}}', '{"guard_added_fast": {"rank": 8}}', '{"str": [], "rank" \t: 6}', ...ranks.slice(1)].map(glog).join('\n')],
    ['an index key spaced from its colon', ['{"str": ["a"]}', '{"str": [], "3" \t : 1}', '{"create_symbol": {"0": 1}, "00": 2}'].map(glog).join('\n')],
    ['every valid line, each with a payload line', [first, ...valid.flatMap((v) => [glog(v), '\t1'])].join('\n')],
    ['every valid line first', valid.map(glog).join('\n')],
  ];
  for (const [name, text] of texts) {
    it(`${name}: the same facts, problems and counts as when every line's metadata is parsed`, () => {
      for (const bytes of [true, false]) {
        const fast = traceReader();
        const slow = full();
        for (const r of [fast, slow]) {
          if (bytes) assert.equal(r.pushBytes(Buffer.from(text)), true);
          else text.split('\n').forEach((l, i) => r.push(l, i + 1));
          r.end();
        }
        assert.deepEqual(held(fast), held(slow));
      }
    });
  }
  it('until a rank was given, a line of a kind nothing reads that holds "rank" anywhere is parsed: one that is not JSON is said and skipped', () => {
    // "rank" after other k"s (stack), and a `k"` with no "ran before it
    const log = [first, glog('{"str": ["rank"]'), glog('{"str": "x"} "rank"'), glog('{"str": ["stack", "rank"]'), glog('{"str": ["ran", "k", "rak"]'), glog('{"str": ["a"], "rank": 2}'), glog('{"str": ["rank"]')].join('\n');
    const fast = traceReader();
    fast.pushBytes(Buffer.from(log));
    fast.end();
    const h = held(fast);
    assert.deepEqual(
      h.problems.map((p: { line: number; message: string }) => [p.line, p.message.replace(/ \(.*\)/, '')]),
      [2, 3, 4].map((l) => [l, 'metadata is not JSON; skipped']),
    );
    // once ranked, "rank" no longer matters: the last line is counted unparsed
    assert.deepEqual([h.entries, h.ignored], [4, 4]);
  });
  it("a line of a kind nothing reads whose metadata is not JSON is counted by the kind it names, unparsed (but for a log's first entry), and holds its payload lines", () => {
    const bad = ['{"str": ', '{"str": "\t"}', '{"guard_added_fast": {}}}', '{"describe_storage": [1,]}'];
    const log = [glog(bad[0]), first, ...bad.flatMap((b) => [glog(b), '\tx']), glog('{"artifact": {}}')].join('\n');
    const fast = traceReader();
    fast.pushBytes(Buffer.from(log));
    fast.end();
    const h = held(fast);
    // the first line is parsed: no entry came before it
    assert.deepEqual(h.problems.map((p: { line: number; message: string }) => [p.line, p.message.replace(/ \(.*\)/, '')]), [[1, 'metadata is not JSON; skipped']]);
    assert.deepEqual([h.entries, h.ignored, h.unknown, h.first.time], [6, 6, [], '05:46:07.428000']);
    const slow = full();
    slow.pushBytes(Buffer.from(log));
    slow.end();
    assert.equal(held(slow).problems.length, 1 + 2 * bad.length);
    assert.deepEqual(held(slow).facts, h.facts);
  });
});

describe('trace ingest: a restarted compile', () => {
  // PyTorch names a compile attempt `frame_id/frame_compile_id`, `_attempt` added where attempt > 0
  // (TraceId): a restarted compile is never told as its plain id, though its own compile_id
  // fields (compilation_metrics, a chromium event's args) name it without the attempt.
  it("a restarted compile's descriptions are stored under its attempt's id (0/0_1), as its snapshots are", async () => {
    const { events } = await readTraceFile(join(TORCH, 'workload2', 'trace-single.log'), {});
    const ids = (kind: string) => events.filter((e) => e.kind === kind).map((e) => e.compileId);
    assert.deepEqual(ids('shape.described'), ['0/0_1', '1/0', '1/0', '0/1_1', '1/1', '1/1', '0/2_1', '2/0', '2/0']);
    assert.deepEqual([...new Set(ids('entry.imported'))], ['0/0_1', '1/0', '0/1_1', '1/1', '0/2_1', '2/0']);
    // every description found its code (metrics name the compile 0/0, not 0/0_1)
    assert.ok(events.filter((e) => e.kind === 'shape.described').every((e) => (e.payload as { code: { name: string } }).code.name));
  });

  it("a record logged in attempt 1 is stored as compile 2/1_1 (its args say 2/1), its code and guard found as for attempt 0", () => {
    const text = readFileSync(join(TORCH, 'traces', 'cold-local.log'), 'utf8');
    // the size's rank-change record of compile 2/1 (the chromium event its envelope names)
    const lines = text.split('\n');
    const at = lines.findIndex((l, i) => l.includes('"frame_id": 2, "frame_compile_id": 1, "attempt": 0') && lines[i + 2]?.includes('"automatic_dynamic"'));
    assert.ok(at > 0);
    const restarted = [...lines];
    restarted[at] = restarted[at].replace('"attempt": 0', '"attempt": 1');
    const recordsOf = (text: string) => {
      const t = traceEvents(read(text), '-', { defaults: { job: 'j' } });
      assert.ok(t.settled, t.settled ? '' : t.why);
      return t.events.filter((e) => e.kind === 'dynamic.logged');
    };
    const before = recordsOf(text);
    const after = recordsOf(restarted.join('\n'));
    assert.equal(after.length, before.length);
    const i = before.findIndex((e) => e.originLine === at + 1);
    assert.ok(i >= 0);
    assert.equal(before[i].compileId, '2/1');
    assert.equal(after[i].compileId, '2/1_1');
    assert.deepEqual(after[i].payload, before[i].payload);
    assert.ok((before[i].payload as { guard: string | null }).guard);
  });
});

describe('trace ingest: a compile named again (probe9: torch._dynamo.reset())', () => {
  it("a growing log's events are at every cut a prefix of the whole log's, `0/0 (2nd)` keys included", () => {
    const lines = gunzipSync(readFileSync(join(FIXTURES, 'multirun', 'probe9', 'run1', 'trace.log.gz'))).toString('utf8').split('\n');
    const whole = traceReader();
    lines.forEach((l, i) => whole.push(l, i + 1));
    whole.end();
    const all = traceEvents(whole, 'probe9.log', {});
    assert.ok(all.settled);
    const keys = all.events.map((e) => `${e.compileId} ${e.idempotencyKey}`);
    assert.ok(keys.some((k) => k.startsWith('0/0 (2nd) ')), 'the second 0/0 told apart');
    let longest = 0;
    for (let cut = 1; cut < lines.length; cut += 17) {
      const r = traceReader();
      for (let i = 0; i < cut; i++) r.push(lines[i], i + 1);
      const t = traceEvents(r, 'probe9.log', {}, true);
      if (!t.settled) continue;
      const got = t.events.map((e) => `${e.compileId} ${e.idempotencyKey}`);
      assert.deepEqual(got, keys.slice(0, got.length), `cut at line ${cut}`);
      longest = Math.max(longest, got.length);
    }
    assert.ok(longest > keys.length / 2, `${longest} of ${keys.length}`);
  });
});
