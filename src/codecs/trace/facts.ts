import { floatFromRepr } from '../../model/float.ts';
import type { EntryReads, TraceEntry } from './envelope.ts';
import { TOO_DEEP, tooDeep } from '../too-deep.ts';

/**
 * Text neither store keeps as it was written: a NUL (PostgreSQL's text refuses it) or a lone
 * surrogate (no UTF-8 holds one; each store put its own U+FFFD for it, and `verify` then failed).
 * A record or guard text holding one is said and skipped, on both alike (trial s33a: SQLite took
 * such a log, PostgreSQL refused all of it).
 */
const UNSTORABLE = /\u0000|\p{Cs}/u;
const UNSTORABLE_TEXT = 'holds a NUL or a lone surrogate, which the ledger cannot keep as written';

/** What pgo-ledger takes from a TORCH_TRACE log, one kind per parser (as tlparse does). */
export type TraceFact =
  | { kind: 'automatic_dynamic'; line: number; compileId: string | null; time: number | null; name: string; dim_changed: 'scalar' | 'all' | number; reason: string; cached: string; new: string }
  | { kind: 'code_state'; line: number; compileId: string | null; time: number | null; artifact: string; text: string }
  | { kind: 'recompile_reasons'; line: number; compileId: string | null; reasons: string[] }
  | { kind: 'compilation_metrics'; line: number; compileId: string | null; co_name: string | null; co_filename: string | null; co_firstlineno: number | null; recompileReason: string | null; jobId: string | null; cacheKeyTag: string | null; time: number | null; automaticDynamicOff: boolean }
  | { kind: 'cache_key'; line: number; cacheKey: string; time: number | null }
  | { kind: 'rank'; line: number; rank: number }
  | ({ kind: 'describe_tensor'; line: number; describerId: number; id: number } & DescribedCompile & DescribedTensor)
  | ({ kind: 'describe_source'; line: number; describerId: number; id: number; source: string } & DescribedCompile)
  | ({ kind: 'create_symbol'; line: number; source: string; value: number | string | { float: string } } & DescribedCompile)
  | ({ kind: 'equals_match'; line: number; source: string; value: number | string | { float: string } } & DescribedCompile)
  /** An entry of a kind with a parser whose fields are not as PyTorch writes them (a byte flipped where no MD5 guards: the metadata): said, skipped. */
  | { kind: 'malformed'; line: number; message: string };

/** What a field holds, said short: `"q"`, `17`, `null`, `absent`. */
function fieldText(v: unknown): string {
  if (v === undefined) return 'absent';
  if (tooDeep(v)) return TOO_DEEP;
  const t = JSON.stringify(v);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

/** The compile a description belongs to: `frame_id/frame_compile_id` (the attempt apart: a restart re-describes). */
export interface DescribedCompile {
  compile: string | null;
  attempt: number;
}
/** A size or stride entry as PyTorch wrote it: an int, or a symbolic one's text. */
export type DescribedDim = number | string | null;
export interface DescribedTensor {
  size: DescribedDim[];
  stride: DescribedDim[] | null;
  dtype: string | null;
  device: string | null;
  /** describe_tensor's is_parameter (PyTorch writes it only when true). */
  isParameter: boolean;
  /** describe_tensor's requires_grad (PyTorch writes it only when true). */
  requiresGrad: boolean;
  /** describe_tensor's base: the id of the tensor a view is of (described too), null for none. */
  base: number | null;
}

export interface TraceStats {
  entries: number;
  /** Entries of kinds pgo-ledger has no parser for (counted, never an error). */
  unknown: Map<string, number>;
  /** Entries of known kinds that were not PGO-related (e.g. other chromium events). */
  ignored: number;
  /** Whether an entry gave the trace's rank (a rank fact, the first entry's that names one). */
  ranked: boolean;
}

export function newStats(): TraceStats {
  return { entries: 0, unknown: new Map(), ignored: 0, ranked: false };
}

/**
 * A symbol's source that is a tensor's size, stride or storage offset (Dynamo's
 * TensorPropertySource names): describe_tensor already gives those values. The other symbols a
 * frame's inputs make are its dynamic ints (wrap_symint: create_unspecified_symbol, one symbol
 * an int, never duck-sized, 0 and 1 included), named by the source PGO keys the int by.
 */
const TENSOR_PROPERTY = /\.(?:(?:size|stride)\(\)\[\d+\]|storage_offset\(\))$/;
/**
 * create_symbol's metadata as PyTorch writes it (symbol, val, vr, source, then the stacks): its
 * source read without parsing the line (a symbol line holds two stacks, ~3 KB, and most are a
 * tensor's dims). A line not written so is parsed.
 */
const SYMBOL_HEAD = /^\{"create_symbol": \{"symbol": "[^"\\]*", "val": "[^"\\]*", "vr": "[^"\\]*", "source": "((?:[^"\\]|\\.)*)"/;
/** Whether a create_symbol line is surely of a tensor's property (its metadata need not be parsed). */
export function tensorPropertySymbol(text: string): boolean {
  const m = SYMBOL_HEAD.exec(text);
  return m !== null && TENSOR_PROPERTY.test(m[1]);
}
/** repr() of a Python int. */
const PY_INT = /^-?(?:0|[1-9]\d*)$/;

/**
 * A line of a compile's guards (dynamo_cpp_guards_str) that pins an int or a float: Dynamo
 * specialized the source to that value (wrap_literal, wrap_symint, wrap_symfloat: the value
 * joined into the profile by process_automatic_dynamic, then a CONSTANT_MATCH guard, written
 * `{source} == {value!r}`), or a comment and a HINT after it. The value is an int's repr or a
 * float's (nan is guarded by __math_isnan, and an int subclass or NumPy scalar writes no plain
 * repr: neither is taken). The lazy source takes the first ` == ` that a value ends.
 */
const EQUALS_LINE = /^(.+?) == (-?(?:0|[1-9]\d*)|-?(?:\d+\.\d*(?:e[-+]\d+)?|\d+e[-+]\d+|inf))(?: +(?:#|\(HINT:).*)?$/;
const EQUALS_MARK = '+- EQUALS_MATCH: ';

const CODE_STATE_ARTIFACTS = new Set(['put_local_code_state', 'put_remote_code_state', 'get_local_code_state', 'get_remote_code_state', 'get_extra_remote_code_state']);

type Parser = (e: TraceEntry, out: (f: TraceFact) => void) => boolean;

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const int = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
/**
 * A described dim: an int of 0 or more, as PyTorch writes a real input's sizes and strides, or a
 * symbol's text; undefined for anything else (a negative or fractional number, a list, an
 * object), which no input of PyTorch's has: the description is then malformed (trial s36a: a
 * size [-2, 3.5] went in silently and `why` counted -2 among the values seen).
 */
const dim = (v: unknown): DescribedDim | undefined => (typeof v === 'number' ? (Number.isSafeInteger(v) && v >= 0 ? v : undefined) : typeof v === 'string' ? v : v === null ? null : undefined);
/** Each dim of a described size or stride, or null where one is no dim (see dim). */
function dims(v: unknown[]): DescribedDim[] | null {
  const out: DescribedDim[] = [];
  for (const x of v) {
    const d = dim(x);
    if (d === undefined) return null;
    out.push(d);
  }
  return out;
}

function describedCompile(e: TraceEntry): DescribedCompile {
  const f = int(e.meta.frame_id);
  const c = int(e.meta.frame_compile_id);
  return { compile: f !== null && c !== null ? `${f}/${c}` : null, attempt: int(e.meta.attempt) ?? 0 };
}

/** What mayNameFact looks for (see there). */
const NEEDLES = ['automatic_dynamic"', 'pgo.', '\\u'];
/** One search for the three (a search a needle cost three passes over each payload). */
const FACT_NEEDLES = new RegExp(NEEDLES.map((n) => n.replace(/[.\\]/g, '\\$&')).join('|'));

/**
 * Whether a chromium event's payload may name a fact: a string that is automatic_dynamic or
 * starts with pgo. (its name, once parsed). Most chromium events are timings, and dynamo's
 * carry configs (escaped JSON naming automatic_dynamic_shapes and the like), so this is asked
 * before the payload is parsed. Without a \u escape such a string is spelled so in the text,
 * its closing quote included: JSON's other escapes stand for no letter, underscore or dot.
 */
export function mayNameFact(payload: string): boolean {
  return FACT_NEEDLES.test(payload);
}
/** The entry entryMayNameFact last answered for, and its answer (payloadMatters asks it, then the parser). */
let asked: TraceEntry | null = null;
let answer = false;
/** Whether an entry's payload may name a fact, from its text as logged when it was read from bytes. */
function entryMayNameFact(e: TraceEntry): boolean {
  if (e === asked) return answer;
  const l = e.payloadLogged;
  answer = l !== null ? mayNameFact(l) : e.payload !== null && mayNameFact(e.payload);
  asked = e;
  return answer;
}
/** A JSON text whose value is no object, array or string: a number or a literal, JSON's whitespace around it. */
const JSON_SCALAR = /^[ \t\n\r]*(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t\n\r]*$/;
/**
 * Whether JSON.parse may take a text: false only where it surely throws. PyTorch writes most
 * recompile_reasons as plain text ("0/0: n == 2"), and each SyntaxError thrown (its message, its
 * stack) cost several times the parse of a payload.
 */
function mayBeJson(text: string): boolean {
  return /^[ \t\n\r]*[[{"]/.test(text) || JSON_SCALAR.test(text);
}
const parsers: Record<string, Parser> = {
  chromium_event(e, out) {
    if (!entryMayNameFact(e)) return false;
    let ev: Record<string, unknown> | null;
    try {
      ev = obj(JSON.parse(e.payload!));
    } catch {
      return false;
    }
    if (!ev) return false;
    const args = obj(ev.args) ?? {};
    const ts = typeof ev.ts === 'number' ? ev.ts / 1000 : null;
    const name = str(ev.name) ?? '';
    if (name === 'automatic_dynamic') {
      const dim = args.dim_changed;
      // PyTorch writes a dim's index, "scalar" or "all" (a number is checked where the record is made)
      if (typeof dim !== 'number' && dim !== 'scalar' && dim !== 'all') {
        out({ kind: 'malformed', line: e.line, message: `automatic_dynamic for ${String(args.name)} in compile ${e.compileId ?? str(args.compile_id) ?? '?'}: dim_changed ${fieldText(dim)}: want a dim's index (0 or more), "scalar" or "all"; skipped` });
        return true;
      }
      // (a source name the ledger cannot hold is said where sources are, ingest-trace.ts; a reason
      // none of PyTorch's five where records are made)
      const unkept = (['cached', 'new'] as const).find((f) => UNSTORABLE.test(String(args[f])));
      if (unkept !== undefined) {
        out({ kind: 'malformed', line: e.line, message: `automatic_dynamic for ${String(args.name)} in compile ${e.compileId ?? str(args.compile_id) ?? '?'}: field ${unkept} ${UNSTORABLE_TEXT}; skipped` });
        return true;
      }
      out({
        kind: 'automatic_dynamic',
        line: e.line,
        // the envelope's names the attempt (0/0_1, a restarted compile's); the args' compile_id does not
        compileId: e.compileId ?? str(args.compile_id),
        time: ts,
        name: String(args.name),
        dim_changed: dim,
        reason: String(args.reason),
        cached: String(args.cached),
        new: String(args.new),
      });
      return true;
    }
    if (name.startsWith('pgo.') && typeof args.cache_key === 'string') {
      out({ kind: 'cache_key', line: e.line, cacheKey: args.cache_key, time: ts });
      return true;
    }
    return false;
  },
  artifact(e, out) {
    const a = obj(e.meta.artifact);
    const name = str(a?.name);
    if (!name || (!CODE_STATE_ARTIFACTS.has(name) && name !== 'recompile_reasons') || e.payload === null) return false;
    if (CODE_STATE_ARTIFACTS.has(name)) {
      out({ kind: 'code_state', line: e.line, compileId: e.compileId, time: null, artifact: name, text: e.payload });
      return true;
    }
    if (name === 'recompile_reasons') {
      let reasons = [e.payload];
      if (mayBeJson(e.payload)) {
        try {
          const j = JSON.parse(e.payload);
          reasons = Array.isArray(j) ? j.map(String) : [String(j)];
        } catch {
          /* not JSON: the text is the reason */
        }
      }
      if (reasons.some((r) => UNSTORABLE.test(r))) {
        out({ kind: 'malformed', line: e.line, message: `recompile_reasons of compile ${e.compileId ?? '?'}: a reason ${UNSTORABLE_TEXT}; skipped` });
        return true;
      }
      out({ kind: 'recompile_reasons', line: e.line, compileId: e.compileId, reasons });
      return true;
    }
    return false;
  },
  describe_tensor(e, out) {
    const t = obj(e.meta.describe_tensor);
    const describerId = int(t?.describer_id);
    const id = int(t?.id);
    if (!t || describerId === null || id === null || !Array.isArray(t.size)) {
      // (trial s29b: a field of the wrong type dropped the input without a word)
      if (t) out({ kind: 'malformed', line: e.line, message: `describe_tensor: describer_id ${fieldText(t.describer_id)}, id ${fieldText(t.id)}, size ${fieldText(t.size)}: PyTorch writes two ints and a list; skipped` });
      return t !== null;
    }
    const size = dims(t.size);
    const stride = Array.isArray(t.stride) ? dims(t.stride) : null;
    if (size === null || (Array.isArray(t.stride) && stride === null)) {
      const [field, v] = size === null ? ['size', t.size] : ['stride', t.stride];
      out({ kind: 'malformed', line: e.line, message: `describe_tensor of tensor ${id}: ${field} ${fieldText(v)}: PyTorch writes a list of ints of 0 or more; skipped` });
      return true;
    }
    out({
      kind: 'describe_tensor',
      line: e.line,
      describerId,
      id,
      ...describedCompile(e),
      size,
      stride,
      dtype: str(t.dtype),
      device: str(t.device),
      isParameter: t.is_parameter === true,
      requiresGrad: t.requires_grad === true,
      base: t.is_view === true ? int(t.base) : null,
    });
    return true;
  },
  describe_source(e, out) {
    const m = obj(e.meta.describe_source);
    const describerId = int(m?.describer_id);
    const id = int(m?.id);
    const source = str(m?.source);
    if (describerId === null || id === null || source === null) {
      if (m) out({ kind: 'malformed', line: e.line, message: `describe_source: describer_id ${fieldText(m.describer_id)}, id ${fieldText(m.id)}, source ${fieldText(m.source)}: PyTorch writes two ints and a string; skipped` });
      return m !== null;
    }
    out({ kind: 'describe_source', line: e.line, describerId, id, source, ...describedCompile(e) });
    return true;
  },
  /**
   * A dynamic int a compile was fed: Dynamo logs its value only here once its source is
   * dynamic (no record, a snapshot's `?`). Tensor dims are describe_tensor's.
   */
  create_symbol(e, out) {
    const m = obj(e.meta.create_symbol);
    const source = str(m?.source);
    const val = str(m?.val);
    if (source === null || val === null || TENSOR_PROPERTY.test(source)) return false;
    // an int, or a float (specialize_float=False: wrap_symfloat's symbol, make_scalar of the
    // float); a nested int (`j1`) or anything else is no value a profile keeps
    let value: number | string | { float: string };
    if (PY_INT.test(val)) {
      const n = Number(val);
      value = Number.isSafeInteger(n) ? n : val;
    } else if (floatFromRepr(val) !== undefined) value = { float: val };
    else return false;
    out({ kind: 'create_symbol', line: e.line, source, value, ...describedCompile(e) });
    return true;
  },
  /**
   * The ints and floats a compile specialized (its EQUALS_MATCH guards): a static int is put
   * into the graph and has no symbol, so a trace tells it here alone (an nn.Module's int
   * attribute in every compile, an int whose record and snapshot say nothing of it).
   */
  dynamo_cpp_guards_str(e, out) {
    // most compiles' guards pin no int or float: their payload's bytes are searched, never decoded
    if (!e.payloadHas(EQUALS_MARK)) return false;
    // only the lines that pin a value are decoded (linesHolding), not the whole payload
    const text = e.linesHolding(EQUALS_MARK) ?? e.payload;
    if (text === null) return false;
    let any = false;
    for (let i = text.indexOf(EQUALS_MARK); i >= 0; i = text.indexOf(EQUALS_MARK, i + 1)) {
      const from = i + EQUALS_MARK.length;
      const end = text.indexOf('\n', from);
      const m = EQUALS_LINE.exec(text.slice(from, end < 0 ? text.length : end).trimEnd());
      if (m === null) continue;
      let value: number | string | { float: string };
      if (PY_INT.test(m[2])) {
        const n = Number(m[2]);
        value = Number.isSafeInteger(n) ? n : m[2];
      } else if (floatFromRepr(m[2]) !== undefined) value = { float: m[2] };
      else continue;
      out({ kind: 'equals_match', line: e.line, source: m[1], value, ...describedCompile(e) });
      any = true;
    }
    return any;
  },
  // The compile's torch._dynamo.config (`dynamo_config`, JSON as Python's json.dumps writes it):
  // with automatic_dynamic_shapes off (torch.compile(dynamic=False)) update_automatic_dynamic
  // overwrites each entry the compile updates instead of joining (probe13 run 4).
  compilation_metrics(e, out) {
    const m = obj(e.meta.compilation_metrics);
    if (!m) return false;
    // its code named by three fields: one of another type names none, and is said here, where it is
    if ((m.co_name !== undefined && m.co_name !== null && typeof m.co_name !== 'string') || (m.co_filename !== undefined && m.co_filename !== null && typeof m.co_filename !== 'string') || (m.co_firstlineno !== undefined && m.co_firstlineno !== null && typeof m.co_firstlineno !== 'number')) {
      out({ kind: 'malformed', line: e.line, message: `compilation_metrics: co_name ${fieldText(m.co_name)}, co_filename ${fieldText(m.co_filename)}, co_firstlineno ${fieldText(m.co_firstlineno)}: PyTorch writes two strings and an int; its code is not named` });
    }
    let jobId: string | null = null;
    let tag: string | null = null;
    try {
      const cc = obj(JSON.parse(String(m.compiler_config ?? 'null')));
      jobId = str(cc?.job_id);
      tag = str(cc?.cache_key_tag);
    } catch {
      /* no compiler config: the key comes from elsewhere */
    }
    out({
      kind: 'compilation_metrics',
      line: e.line,
      compileId: str(m.compile_id) ?? e.compileId,
      co_name: str(m.co_name),
      co_filename: str(m.co_filename),
      co_firstlineno: typeof m.co_firstlineno === 'number' ? m.co_firstlineno : null,
      recompileReason: str(m.recompile_reason),
      jobId,
      cacheKeyTag: tag,
      time: typeof m.start_time === 'number' ? m.start_time * 1000 : null,
      automaticDynamicOff: typeof m.dynamo_config === 'string' && automaticDynamicOff(m.dynamo_config),
    });
    return true;
  },
};

/**
 * Whether dynamo_config sets automatic_dynamic_shapes off: searched, not parsed (the config is
 * ~10 KB a compile), by its key, which json.dumps(sort_keys) writes a few hundred characters in.
 */
function automaticDynamicOff(config: string): boolean {
  const at = config.indexOf(AUTOMATIC_DYNAMIC_KEY);
  return at >= 0 && config.startsWith('false', at + AUTOMATIC_DYNAMIC_KEY.length + (config.charCodeAt(at + AUTOMATIC_DYNAMIC_KEY.length) === 32 ? 1 : 0));
}
const AUTOMATIC_DYNAMIC_KEY = '"automatic_dynamic_shapes":';

/** Known kinds that never hold PGO facts (counted as ignored, not unknown). */
const QUIET = new Set(['str', 'dynamo_start', 'describe_storage', 'guard_added_fast', 'guard_added', 'sizes', 'dynamo_output_graph', 'feature_usage', 'optimize_ddp_split_graph', 'aot_joint_graph', 'aot_forward_graph', 'aot_backward_graph', 'aot_inference_graph', 'inductor_output_code', 'inductor_post_grad_graph', 'inductor_pre_grad_graph', 'dynamo_guards', 'bwd_compilation_metrics', 'symbolic_shape_specialization', 'propagate_real_tensors', 'graph_break', 'missing_fake_kernel', 'mismatched_fake_kernel', 'exported_program', 'link', 'guard_added_fast', 'compiled_autograd_graph', 'dump_file', 'fx_graph_cache_hit', 'fx_graph_cache_miss', 'fx_graph_cache_bypass', 'aotautograd_cache_hit', 'aotautograd_cache_miss', 'aotautograd_cache_bypass', 'artifact']);

/**
 * Whether an entry's facts may depend on its payload, so that a payload that does not match
 * has_payload must be said and the entry skipped: every kind with a parser (a describe_* or
 * compilation_metrics with a payload is skipped as it always was), but for artifacts of
 * names read by none and chromium events whose payload names no fact (mayNameFact: most are
 * timings, which the parser never parses). Other entries are counted and skipped with their
 * payloads unread and unhashed (tlparse's manner for kinds it has no parser for): what a
 * payload that nothing reads holds, broken or not, changes no fact, and hashing them cost
 * more than the ingest's reading of the facts (a folder's timings were most of its MD5s).
 */
export function payloadMatters(e: TraceEntry): boolean {
  const kind = e.kind;
  if (!Object.hasOwn(parsers, kind)) return false;
  if (kind === 'chromium_event') return entryMayNameFact(e);
  // guards that pin no value give no fact
  if (kind === 'dynamo_cpp_guards_str') return e.payloadHas(EQUALS_MARK);
  if (kind !== 'artifact') return true;
  const name = str(obj(e.meta.artifact)?.name);
  return name !== null && (CODE_STATE_ARTIFACTS.has(name) || name === 'recompile_reasons');
}

/** What parseEntry reads: the metadata of kinds with a parser, the payloads that matter. */
export const FACT_READS: EntryReads = { parses: (kind, text) => Object.hasOwn(parsers, kind) && !(kind === 'create_symbol' && tensorPropertySymbol(text)), checks: payloadMatters };

/** Facts in one entry; unknown kinds are counted, never fatal. */
export function parseEntry(e: TraceEntry, stats: TraceStats, out: (f: TraceFact) => void): void {
  stats.entries++;
  // A trace's rank is its first entry's that names one (the reader need not parse later ones).
  if (e.rank !== null && !stats.ranked) {
    stats.ranked = true;
    out({ kind: 'rank', line: e.line, rank: e.rank });
  }
  if (e.payloadMismatch) return;
  // Own kinds only: a kind named `__proto__` or `constructor` is no parser of Object's.
  const p = Object.hasOwn(parsers, e.kind) ? parsers[e.kind] : undefined;
  if (p && p(e, out)) return;
  if (p !== undefined || QUIET.has(e.kind)) stats.ignored++;
  else stats.unknown.set(e.kind, (stats.unknown.get(e.kind) ?? 0) + 1);
}
