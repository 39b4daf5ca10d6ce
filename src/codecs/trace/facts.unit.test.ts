import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { traceAssembler, type TraceEntry } from './envelope.ts';
import { FACT_READS, mayNameFact, newStats, parseEntry, tensorPropertySymbol, type TraceFact } from './facts.ts';

/** One chromium_event entry with `payload` (one payload line each), read back as facts. */
function factsOf(payloads: string[], md5 = (p: string) => createHash('md5').update(p).digest('hex')): { facts: TraceFact[]; ignored: number; problems: string[] } {
  const stats = newStats();
  const facts: TraceFact[] = [];
  const problems: string[] = [];
  const asm = traceAssembler(
    (e) => parseEntry(e, stats, (f) => f.kind !== 'rank' && facts.push(f)),
    (p) => problems.push(p.message),
  );
  let line = 0;
  for (const p of payloads) {
    asm.push(`V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:2126] {"chromium_event": {}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0, "has_payload": "${md5(p)}"}`, ++line);
    asm.push(`\t${p}`, ++line);
  }
  asm.end();
  return { facts, ignored: stats.ignored, problems };
}

describe('chromium_event facts', () => {
  const ad = (name: string) => `{"name": "${name}", "ts": 1795671967428037.0, "args": {"compile_id": "0/0", "name": "L['x']", "dim_changed": 0, "reason": "size change", "cached": "[2]", "new": "[3]"}, "ph": "i"}`;
  it('an automatic_dynamic or pgo.* event is a fact however its name is spelled (escapes included); timings and bad JSON are not', () => {
    const r = factsOf([
      '{"name": "dynamo", "ts": 1795671967428037.0, "args": {"compile_id": "0/0"}, "ph": "B"}',
      ad('automatic_dynamic'),
      ad('\\u0061utomatic_dynamic'),
      '{"name": "pgo.put_local_code_state", "ts": 1.0, "args": {"cache_key": "j:0:"}}',
      '{"name": "\\u0070go.get_remote_code_state", "ts": 2.0, "args": {"cache_key": "k:0:"}}',
      '{"name": "dynamo", "args": {"note": "pgo. and automatic_dynamic named in passing"}}',
      '{"name": "automatic_dynamic", ',
      '["automatic_dynamic"]',
    ]);
    assert.deepEqual(
      r.facts.map((f) => [f.kind, f.line, 'name' in f ? f.name : 'cacheKey' in f ? f.cacheKey : null]),
      [
        ['automatic_dynamic', 3, "L['x']"],
        ['automatic_dynamic', 5, "L['x']"],
        ['cache_key', 7, 'j:0:'],
        ['cache_key', 9, 'k:0:'],
      ],
    );
    assert.equal(r.ignored, 4);
    assert.deepEqual(r.problems, []);
  });
  it('events named plainly among escaped configs: a fact where the name is automatic_dynamic or pgo.*, whatever else is escaped', () => {
    const config = '"dynamo_config": "{\\"automatic_dynamic_shapes\\": true, \\"automatic_dynamic\\": 1, \\"pgo.x\\": \\"a\\\\b\\/c\\"}"';
    const r = factsOf([
      `{"name": "dynamo", "ts": 1.0, "args": {${config}}}`,
      `{"name": "automatic_dynamic", "ts": 1795671967428037.0, "args": {${config}, "compile_id": "0/0", "name": "L['x']", "dim_changed": 0, "reason": "size change", "cached": "[2]", "new": "[3]"}}`,
      `{"args": {${config}, "cache_key": "j:0:"}, "name" :"pgo.put_local_code_state"}`,
      `{"name": "pgo\\u002eget", "args": {"cache_key": "k:0:"}}`,
      `{"name": "automatic_dynamic_shapes", "args": {"cache_key": "k:0:", "x": "pgo"}}`,
    ]);
    assert.deepEqual(r.facts.map((f) => [f.kind, f.line]), [['automatic_dynamic', 3], ['cache_key', 5], ['cache_key', 7]]);
    assert.equal(r.ignored, 2);
  });
  it('mayNameFact says yes to every payload whose name is automatic_dynamic or starts with pgo. (hostile spellings, generated)', () => {
    let seed = 11;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * n);
    // a character of a name as JSON may write it: itself, \u in either case of hex, or an escape
    const spell = (c: string) => {
      const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
      return [c, c, c, `\\u${hex}`, `\\u${hex.toUpperCase()}`, c === '/' ? '\\/' : c][rnd(6)];
    };
    const names = ['automatic_dynamic', 'pgo.', 'pgo.put_local_code_state', 'pgo.x"y', 'dynamo', 'automatic_dynamic_shapes', 'xpgo.', 'automatic/dynamic', 'pgo\\', 'Automatic_dynamic'];
    const noise = ['"x": "\\"automatic_dynamic\\""', '"y": "\\\\pgo."', '"z": [1, {"name": "automatic_dynamic"}]', '"w": "\\n\\t\\/"'];
    let yes = 0;
    for (let k = 0; k < 3000; k++) {
      const written = () => [...names[rnd(names.length)]].map((c) => (c === '"' ? '\\"' : c === '\\' ? '\\\\' : spell(c))).join('');
      const members = [`"name": "${written()}"`, ...Array.from({ length: rnd(3) }, () => noise[rnd(noise.length)])];
      if (rnd(4) === 0) members.push(`"name": "${written()}"`); // a duplicate key: the last wins
      for (let i = members.length - 1; i > 0; i--) {
        const j = rnd(i + 1);
        [members[i], members[j]] = [members[j], members[i]];
      }
      const text = `{${members.join(rnd(2) ? ', ' : ',\n')}}`;
      const parsed = JSON.parse(text) as { name: string };
      const fact = parsed.name === 'automatic_dynamic' || parsed.name.startsWith('pgo.');
      if (fact) yes++;
      if (fact) assert.ok(mayNameFact(text), text);
    }
    assert.ok(yes > 300, `${yes} payloads name a fact`);
  });
  it('has_payload is checked on the payload as UTF-8, lone surrogates and all', () => {
    const r = factsOf([ad('automatic_dynamic').replace("L['x']", "L['\ud800é😀']")]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.facts.map((f) => f.kind), ['automatic_dynamic']);
  });
  it('a payload that does not match has_payload is said and gives no fact', () => {
    const r = factsOf([ad('automatic_dynamic')], () => '0'.repeat(32));
    assert.deepEqual(r.facts, []);
    assert.match(r.problems[0], /payload does not match has_payload \(MD5\)/);
  });
});

describe('entry kinds', () => {
  it("a kind named like a member of Object's prototype is a kind with no parser (not a crash, not lost)", () => {
    const stats = newStats();
    const facts: TraceFact[] = [];
    const asm = traceAssembler(
      (e) => parseEntry(e, stats, (f) => facts.push(f)),
      () => assert.fail('no problem expected'),
    );
    ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].forEach((k, i) => asm.push(`V1126 05:46:07.428000 10000 x.py:1] {"${k}": {"x": 1}}`, i + 1));
    asm.end();
    assert.deepEqual(facts, []);
    assert.equal(stats.entries, 4);
    assert.deepEqual([...stats.unknown], [['__proto__', 1], ['constructor', 1], ['toString', 1], ['hasOwnProperty', 1]]);
  });
});

describe('mayNameFact', () => {
  it('holds for each needle anywhere in the text, and not for what only looks like one', () => {
    for (const t of ['automatic_dynamic"', 'x"name": "automatic_dynamic"', 'pgo.', '{"name": "pgo.get"}', '\\u0070go.', 'a\\u']) assert.equal(mayNameFact(t), true, t);
    for (const t of ['', 'automatic_dynamic', 'automatic_dynamic_shapes"', 'pgo', 'pgo_', 'pgoX', '\\n', 'u', 'automatic.dynamic"', 'AUTOMATIC_DYNAMIC"', 'PGO.']) assert.equal(mayNameFact(t), false, t);
  });
});

describe('payloads read from bytes', () => {
  it('a payload read from bytes is the text its lines join to (any script), and is hashed as that text', () => {
    const md5 = (p: string) => createHash('md5').update(p).digest('hex');
    const payloads = [['{"name": "automatic_dynamic"}'], ['x', 'pgo.', ''], ['automatic_', 'dynamic'], ['\\u0061', 'é😀'], [], ['pgo', '.automatic_dynamic'], ['\t', ' \t', '']];
    const text = payloads.map((p) => [`V1126 05:46:07.428000 10000 x.py:1] {"chromium_event": {}, "has_payload": "${md5(p.join('\n'))}"}`, ...p.map((l) => `\t${l}`)].join('\n')).join('\n');
    const entries: TraceEntry[] = [];
    const asm = traceAssembler((e) => entries.push(e), () => assert.fail('no problem expected'));
    assert.equal(asm.pushBytes(Buffer.from(text)), true);
    asm.end();
    assert.deepEqual(entries.map((e) => e.payload), payloads.map((p) => p.join('\n')));
    assert.deepEqual(entries.map((e) => e.payloadMismatch), payloads.map(() => false));
  });
});

describe('recompile_reasons facts', () => {
  /** Each payload (its lines) as a recompile_reasons artifact, read back as its reasons. */
  const reasonsOf = (payloads: string[]): string[][] => {
    const stats = newStats();
    const out: string[][] = [];
    const asm = traceAssembler(
      (e) => parseEntry(e, stats, (f) => f.kind === 'recompile_reasons' && out.push(f.reasons)),
      () => {},
    );
    let line = 0;
    for (const p of payloads) {
      asm.push(`V1126 05:46:07.875000 10000 torch/_dynamo/guards.py:4764] {"artifact": {"name": "recompile_reasons", "encoding": "json"}, "frame_id": 0, "frame_compile_id": 1, "attempt": 0, "has_payload": "${createHash('md5').update(p).digest('hex')}"}`, ++line);
      for (const l of p.split('\n')) asm.push(`\t${l}`, ++line);
    }
    asm.end();
    return out;
  };
  it('a payload that is JSON gives its values (an array, each), any other its text, as JSON.parse tells them apart', () => {
    const payloads = [
      '0/0: n == 2  # return x * n\nUser stack trace:\n  File "/srv/train/train.py", line 25, in f',
      '["1/1: tensor \'a\' stride mismatch", "1/0: size mismatch"]',
      '[\n"a",\n"b"\n]',
      ' \t"one reason"',
      '{"a": 1}',
      ...['0', '-0', '12', '1.5e3', '-2E-2', '1e400', ' true', 'false\n', 'null', '\t7 '],
      ...['01', '1.', '.5', '+1', '- 1', '1e', 'tru', 'nul', 'True', '0/0', '1 2', '[1,]', '"open', '{', '', ' ', '\u00a01', '1\u00a0'],
    ];
    const plain = (p: string): string[] => {
      try {
        const j = JSON.parse(p);
        return Array.isArray(j) ? j.map(String) : [String(j)];
      } catch {
        return [p];
      }
    };
    const got = reasonsOf(payloads);
    assert.equal(got.length, payloads.length);
    payloads.forEach((p, i) => assert.deepEqual(got[i], plain(p), JSON.stringify(p)));
    assert.deepEqual(got[0], [payloads[0]]);
    assert.deepEqual(got[6], ['0']);
    assert.deepEqual(got[11], ['true']);
  });
});

describe('create_symbol facts', () => {
  /** create_symbol lines as PyTorch writes them (symbol, val, vr, source, stacks), read by the ingest's reader. */
  const symbols = (lines: [string, string][], reads = FACT_READS) => {
    const stats = newStats();
    const facts: TraceFact[] = [];
    const asm = traceAssembler((e) => parseEntry(e, stats, (f) => f.kind !== 'rank' && facts.push(f)), () => {}, reads);
    let line = 0;
    // a first entry (always parsed), then the symbols
    asm.push('V1126 05:46:07.428000 10000 torch/_dynamo/utils.py:1] {"dynamo_start": {}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0}', ++line);
    for (const [val, source] of lines) {
      const meta = JSON.stringify({ create_symbol: { symbol: 's1', val, vr: '[-int_oo, int_oo]', source, user_stack: [], stack: [] }, frame_id: 3, frame_compile_id: 1, attempt: 0 });
      asm.push(`V1126 05:46:08.005000 10000 torch/fx/experimental/symbolic_shapes.py:5388] ${meta.replace(/":/g, '": ').replace(/,"/g, ', "')}`, ++line);
    }
    asm.end();
    return facts;
  };
  it("a dynamic int's value (negative, past 2**53 as its text), a float's by its repr; a tensor's dims, nested ints and bools give none", () => {
    const lines: [string, string][] = [
      ['-7', "L['k']"],
      ['1152921504606846976', "L['self'].n"],
      ['0', "L['kw']['a']"],
      ['4', "L['x'].size()[0]"],
      ['8', "L['x']._base.stride()[1]"],
      ['2', "L['x'].storage_offset()"],
      ['2.5', "L['f']"],
      ['j1', "L['nt']"],
      ['True', "L['b']"],
    ];
    const want = [
      { kind: 'create_symbol', line: 2, source: "L['k']", value: -7, compile: '3/1', attempt: 0 },
      { kind: 'create_symbol', line: 3, source: "L['self'].n", value: '1152921504606846976', compile: '3/1', attempt: 0 },
      { kind: 'create_symbol', line: 4, source: "L['kw']['a']", value: 0, compile: '3/1', attempt: 0 },
      { kind: 'create_symbol', line: 8, source: "L['f']", value: { float: '2.5' }, compile: '3/1', attempt: 0 },
    ];
    assert.deepEqual(symbols(lines), want);
    // the reader skips a tensor's symbol unparsed: the same facts as parsing every line
    assert.deepEqual(symbols(lines, { parses: () => true, checks: FACT_READS.checks }), want);
  });
  it('a tensor property is told by its head only where the line is written as PyTorch writes it', () => {
    assert.equal(tensorPropertySymbol(`{"create_symbol": {"symbol": "s77", "val": "4", "vr": "[2, int_oo]", "source": "L['x'].size()[0]", "user_stack": []}}`), true);
    assert.equal(tensorPropertySymbol(`{"create_symbol": {"symbol": "s16", "val": "4", "vr": "[-int_oo, int_oo]", "source": "L['k']"}}`), false);
    // another key order: parsed (and the parser tells)
    assert.equal(tensorPropertySymbol(`{"create_symbol": {"source": "L['x'].size()[0]", "val": "4"}}`), false);
  });
});

describe('dynamo_cpp_guards_str facts (session 26: the ints and floats a compile specialized)', () => {
  /** A trace's text read back as facts, from its bytes or line by line. */
  const read = (text: string, bytes: boolean) => {
    const stats = newStats();
    const facts: TraceFact[] = [];
    const problems: string[] = [];
    const asm = traceAssembler((e) => parseEntry(e, stats, (f) => f.kind !== 'rank' && facts.push(f)), (p) => problems.push(p.message), FACT_READS);
    if (bytes) assert.equal(asm.pushBytes(Buffer.from(text)), true);
    else text.split('\n').forEach((l, i) => asm.push(l, i + 1));
    asm.end();
    return { facts, problems, ignored: stats.ignored };
  };
  /** One guards entry with these guard lines (each under the tree's prefix), read back as facts, from bytes and from lines alike. */
  const guardsFacts = (guards: string[], hash?: string) => {
    const payload = ['', 'TREE_GUARD_MANAGER:', '+- RootGuardManager', ...guards.map((g) => `| | +- ${g}`)];
    const md5 = hash ?? createHash('md5').update(payload.join('\n')).digest('hex');
    const text = [`V1130 04:24:43.496000 515 torch/_dynamo/guards.py:3977] {"dynamo_cpp_guards_str": {}, "frame_id": 2, "frame_compile_id": 1, "attempt": 0, "has_payload": "${md5}"}`, ...payload.map((p) => `\t${p}`)].join('\n');
    const r = read(text, true);
    assert.deepEqual(read(text, false), r);
    return r;
  };
  it("an EQUALS_MATCH of an int or a float is the value a compile was fed (its source as written, a comment or HINT after); others give none", () => {
    const r = guardsFacts([
      "EQUALS_MATCH: L['self']._modules['inner'].k == 3                            # return x * self.k  # rv/train/probe3.py:46 in forward (HINT: torch.compile considers integer attributes of the nn.Module to be static.)",
      "EQUALS_MATCH: L['scale'] == 1.0                                             # return x * scale  # x.py:1 in f",
      "EQUALS_MATCH: L['k'] == -3",
      'EQUALS_MATCH: G[\'BIG\'] == 1152921504606846976',
      "EQUALS_MATCH: L['eps'] == 1e-05 (HINT: a hint)",
      "EQUALS_MATCH: L['d']['a == 1'] == 2   # a source with ` == ` in it",
      "EQUALS_MATCH: L['inf'] == inf",
      // not a plain int or float: a tuple, a string, a NumPy scalar, an IntEnum, a bool
      "EQUALS_MATCH: L['t'] == (1, 2)",
      "EQUALS_MATCH: L['mode'] == 'train'",
      "EQUALS_MATCH: L['a'] == np.int64(3)",
      "EQUALS_MATCH: L['c'] == <Color.RED: 1>",
      "BOOL_MATCH: L['flag'] == True",
      "TYPE_MATCH: ___check_type_id(L['x'], 10741888)",
      "EQUALS_MATCH: L['z'] == 007",
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.facts.map((f) => (f.kind === 'equals_match' ? [f.source, f.value, f.compile, f.attempt, f.line] : f.kind)),
      [
        ["L['self']._modules['inner'].k", 3, '2/1', 0, 1],
        ["L['scale']", { float: '1.0' }, '2/1', 0, 1],
        ["L['k']", -3, '2/1', 0, 1],
        ["G['BIG']", '1152921504606846976', '2/1', 0, 1],
        ["L['eps']", { float: '1e-05' }, '2/1', 0, 1],
        ["L['d']['a == 1']", 2, '2/1', 0, 1],
        ["L['inf']", { float: 'inf' }, '2/1', 0, 1],
      ],
    );
  });
  it("a payload met before with its has_payload is compared, not hashed: one with that hash but other bytes is still said", () => {
    const good = ['', '+- RootGuardManager', "| | +- EQUALS_MATCH: L['k'] == 3"];
    const bad = ['', '+- RootGuardManager', "| | +- EQUALS_MATCH: L['k'] == 4"];
    const md5 = createHash('md5').update(good.join('\n')).digest('hex');
    const entry = (lines: string[], compile: number) => [`V1130 04:24:43.496000 515 torch/_dynamo/guards.py:3977] {"dynamo_cpp_guards_str": {}, "frame_id": 0, "frame_compile_id": ${compile}, "attempt": 0, "has_payload": "${md5}"}`, ...lines.map((p) => `\t${p}`)];
    const text = [...entry(good, 0), ...entry(bad, 1), ...entry(good, 2)].join('\n');
    for (const bytes of [true, false]) {
      const { facts, problems } = read(text, bytes);
      assert.deepEqual(problems, ['dynamo_cpp_guards_str: payload does not match has_payload (MD5); entry skipped'], `bytes ${bytes}`);
      assert.deepEqual(facts.map((f) => (f.kind === 'equals_match' ? [f.compile, f.value] : f.kind)), [['0/0', 3], ['0/2', 3]], `bytes ${bytes}`);
    }
  });
  it('guards that pin no value are counted as read, unhashed (a damaged payload of them is not said); a damaged one that pins one is said and gives none', () => {
    const none = guardsFacts(["TYPE_MATCH: ___check_type_id(L['x'], 10741888)"], '0'.repeat(32));
    assert.deepEqual([none.facts, none.problems, none.ignored], [[], [], 1]);
    const bad = guardsFacts(["EQUALS_MATCH: L['k'] == 3"], '0'.repeat(32));
    assert.deepEqual([bad.facts, bad.problems], [[], ['dynamo_cpp_guards_str: payload does not match has_payload (MD5): the log ends inside it; entry skipped']]);
  });
});

describe('compilation_metrics facts', () => {
  /** One compilation_metrics entry (inline metadata, as PyTorch logs it) read back. */
  function metricsOf(metrics: Record<string, unknown>): TraceFact[] {
    const stats = newStats();
    const facts: TraceFact[] = [];
    const asm = traceAssembler((e) => parseEntry(e, stats, (f) => f.kind !== 'rank' && facts.push(f)), () => {});
    asm.push(`V1130 18:34:09.762000 519 torch/_dynamo/utils.py:1796] ${JSON.stringify({ compilation_metrics: { compile_id: '0/0', co_name: 'f', co_filename: '/srv/f.py', co_firstlineno: 1, ...metrics } })}`, 1);
    asm.end();
    return facts;
  }
  const off = (f: TraceFact[]) => (f[0] as TraceFact & { kind: 'compilation_metrics' }).automaticDynamicOff;
  it("automatic_dynamic_shapes off in the compile's dynamo_config (torch.compile(dynamic=False)) is told; on, or no config, is not", () => {
    // dynamo_config as PyTorch writes it: json.dumps of the config, a string in the metrics
    const config = (v: boolean) => JSON.stringify({ assume_static_by_default: true, automatic_dynamic_local_pgo: true, automatic_dynamic_shapes: v, automatic_dynamic_shapes_mark_as: 'dynamic' }).replace(/":/g, '": ').replace(/,"/g, ', "');
    assert.equal(off(metricsOf({ dynamo_config: config(false) })), true);
    assert.equal(off(metricsOf({ dynamo_config: config(true) })), false);
    assert.equal(off(metricsOf({})), false);
    // the mark_as setting alone is not the switch
    assert.equal(off(metricsOf({ dynamo_config: '{"automatic_dynamic_shapes_mark_as": "false"}' })), false);
  });
});
