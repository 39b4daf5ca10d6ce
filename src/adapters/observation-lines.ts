import { resolve } from 'node:path';
import * as z from 'zod';
import { intFromJson } from '../codecs/entry-json.ts';
import { cacheKey } from '../model/cache-key.ts';
import { inputName, LedgerError, type PartIngested } from '../errors.ts';
import type { CodeId } from '../model/code-id.ts';
import { eventMs, isEventTime } from '../model/event-time.ts';
import { isIsoTime, parseUtcTime } from '../model/utc-time.ts';
import { hashOfCodeFile } from './hash-files.ts';
import { hash53 } from '../store/hash53.ts';
import { CONTROL_CHAR } from '../model/id-chars.ts';
import { VALIDATED, zodMessage, type ShapeObserved } from '../store/events.ts';
import type { NewEvent } from '../store/ledger.ts';
import type { WireParts } from './observation-batches.ts';
import { ingestWords, type IngestWords } from './ingest-words.ts';
import { USED_JOB, USED_RANK, USED_RUN, USED_TAG } from './flags-not-used.ts';
import { TOO_DEEP, tooDeep } from '../codecs/too-deep.ts';

/** Values the command line gives for what a line leaves out. */
export interface LineDefaults {
  job?: string;
  rank?: number | null;
  tag?: string;
  run?: string;
  /** `--hash-files DIR`: the folder whose files a missing file_hash may be computed from. */
  hashFiles?: string;
  /** How the caller names these (and a remote value's key) in a message asking for one: the library's fields by default, the command line's flags. */
  words?: IngestWords;
}

/**
 * A value a message quotes, at most 60 characters of its JSON (a list nested 2,000 deep was
 * quoted whole: 4 KB of brackets), one nested too deep to write said so (too-deep.ts).
 */
function brief(v: unknown): string {
  if (tooDeep(v)) return TOO_DEEP;
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
}

// Built on first use: building it at load would load zod into every command that bundles the
// file readers (trace and pickle ingest included), which never check an observation line.
function buildObservationLine() {
  // zod words a union that no branch takes as "Invalid input": say what an int field takes
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would print as null
  const shown = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${v} (a number past a double's range)` : brief(v));
  // a number past 2**53 has lost its last digits to JSON.parse already: say how to give it whole
  const unsafe = (i: { code: string; input?: unknown }) => (i.code === 'too_big' || i.code === 'too_small' ? `read as ${shown(i.input)}: a JSON number past 2**53 loses its last digits; give its digits as a string` : undefined);
  const IntJson = z.union([z.number().int({ error: unsafe }), z.string().regex(/^-?\d+$/, 'not an integer')], {
    error: (i) => (i.code === 'invalid_union' ? `expected an int (past 2**53, its digits as a string), got ${shown(i.input)}` : undefined),
  });
  // A field the line format does not have is bad input, not dropped: a misspelt one
  // ("mark_dynamc", "automatic-dynamic") read as absent changed the profile with no word (trial s34a).
  const unknown = (what: string, fields: string) => (i: { code: string }) => (i.code === 'unrecognized_keys' ? `not a field of ${what} (${fields})` : undefined);
  return z
    .strictObject(
      {
        // null is the field left out, as for run and tag: it takes --job (trial s35b: refused even with --job)
        job: z.string().min(1, 'empty: give the job id (torch.compiler.config.job_id), or leave the field out (or null) to take --job').nullable().optional(),
        rank: z.number().int().nonnegative().nullable().optional(),
        // null is the field left out (a Python recorder writes None so: trial s26b)
        tag: z.string().nullable().optional(),
        run: z.string().min(1, 'empty: give the run, or leave the field out (or null) for none').nullable().optional(),
        time: z.union([z.string(), z.number()], { error: (i) => (i.code === 'invalid_union' ? `expected an ISO 8601 time (a string) or seconds since the epoch (a number), got ${shown(i.input)}${i.input === null ? ' (leave the field out instead)' : ''}` : undefined) }).optional(),
        compile_id: z.string().nullable().optional(),
        code: z.strictObject(
          {
            filename: z.string(),
            firstlineno: z.number().int(),
            name: z.string(),
            file_hash: z.string().optional(),
            /** PyTorch after 2.11: part of the code's identity (None or any int; past 2**53 as a string). */
            closure_hash: IntJson.nullable().optional(),
          },
          { error: unknown('a code id', [...CODE_KEYS].join(', ')) },
        ),
        source: z.string().min(1, "empty: a source is PyTorch's name of an input, such as L['x']"),
        kind: z.enum(['tensor', 'scalar', 'size']),
        size: z.array(IntJson).optional(),
        stride: z.array(IntJson).optional(),
        value: IntJson.optional(),
        automatic_dynamic: z.boolean().optional(),
        /** torch._dynamo.mark_dynamic's dims of a tensor (any order; a dim twice is one). */
        mark_dynamic: z.array(z.number().int().nonnegative()).optional(),
      },
      { error: unknown('an observation line', [...LINE_KEYS].join(', ')) },
    )
    .superRefine((o, ctx) => {
      if (o.kind !== 'scalar' && !o.size) ctx.addIssue({ code: 'custom', path: ['size'], message: `required for kind ${o.kind}` });
      if (o.kind === 'tensor' && !o.stride) ctx.addIssue({ code: 'custom', path: ['stride'], message: 'required for kind tensor' });
      if (o.kind === 'tensor' && o.size && o.stride && o.size.length !== o.stride.length) {
        ctx.addIssue({ code: 'custom', path: ['stride'], message: `has ${o.stride.length} dims but size has ${o.size.length}` });
      }
      if (o.kind === 'scalar' && o.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'required for kind scalar' });
      // a field another kind takes was dropped, the line read as other than it meant (trial s36a: a size's stride)
      for (const [f, kinds] of [['size', ['tensor', 'size']], ['stride', ['tensor']], ['value', ['scalar']]] as const) {
        if (o[f] !== undefined && !(kinds as readonly string[]).includes(o.kind)) ctx.addIssue({ code: 'custom', path: [f], message: `not a field of kind ${o.kind} (only of ${kinds.map((k) => `kind ${k}`).join(' and ')})` });
      }
      if (o.mark_dynamic && o.kind !== 'tensor') ctx.addIssue({ code: 'custom', path: ['mark_dynamic'], message: `only for kind tensor (Dynamo marks a tensor's dims), not ${o.kind}` });
      const past = o.mark_dynamic?.find((d) => o.size && d >= o.size.length);
      if (past !== undefined && o.size) ctx.addIssue({ code: 'custom', path: ['mark_dynamic'], message: `dim ${past} is past the size's ${o.size.length} dims` });
    });
}
let observationLine: ReturnType<typeof buildObservationLine> | undefined;
/** The line schema (for tests that hold surelyValidLine to it). */
export const observationLineSchema = () => (observationLine ??= buildObservationLine());

/*
 * A check that only ever says yes where the line's zod schema above accepts the parsed line
 * and gives it back as it is (every key one the schema knows: nothing stripped). Lines the ingest
 * has not met before take it (zod cost most of a full parse); anything it is unsure of goes to
 * zod, which words the error. A test holds it to zod on hostile lines.
 */
export const LINE_KEYS: ReadonlySet<string> = new Set(['job', 'rank', 'tag', 'run', 'time', 'compile_id', 'code', 'source', 'kind', 'size', 'stride', 'value', 'automatic_dynamic', 'mark_dynamic']);
const CODE_KEYS = new Set(['filename', 'firstlineno', 'name', 'file_hash', 'closure_hash']);
const INT_TEXT = /^-?\d+$/;
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const isIntJson = (v: unknown) => (typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && INT_TEXT.test(v));
const optString = (v: unknown) => v === undefined || typeof v === 'string';
/** A field that may be left out or null (as a Python recorder writes None). */
const optNullString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
function intJsons(v: unknown): v is unknown[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isIntJson(v[i])) return false;
  return true;
}
function onlyKeys(o: Record<string, unknown>, keys: ReadonlySet<string>): boolean {
  for (const k in o) if (!keys.has(k)) return false;
  return Object.getOwnPropertySymbols(o).length === 0;
}
export function surelyValidLine(j: unknown): j is z.infer<ReturnType<typeof buildObservationLine>> {
  if (!isPlain(j) || !onlyKeys(j, LINE_KEYS)) return false;
  const { job, rank, time, code: c, source, kind, size, stride, value, automatic_dynamic: auto } = j;
  if (job !== undefined && job !== null && (typeof job !== 'string' || job.length === 0)) return false;
  if (rank !== undefined && rank !== null && !(typeof rank === 'number' && Number.isSafeInteger(rank) && rank >= 0)) return false;
  if (!optNullString(j.tag) || !optNullString(j.run) || j.run === '' || !optNullString(j.compile_id)) return false;
  if (time !== undefined && typeof time !== 'string' && !(typeof time === 'number' && Number.isFinite(time))) return false;
  if (!isPlain(c) || !onlyKeys(c, CODE_KEYS)) return false;
  if (typeof c.filename !== 'string' || typeof c.name !== 'string' || !optString(c.file_hash)) return false;
  if (!(typeof c.firstlineno === 'number' && Number.isSafeInteger(c.firstlineno))) return false;
  if (c.closure_hash !== undefined && c.closure_hash !== null && !isIntJson(c.closure_hash)) return false;
  if (typeof source !== 'string' || source.length === 0) return false;
  if (auto !== undefined && typeof auto !== 'boolean') return false;
  if (size !== undefined && !intJsons(size)) return false;
  if (stride !== undefined && !intJsons(stride)) return false;
  if (value !== undefined && !isIntJson(value)) return false;
  // marked dims go to zod, which words what is wrong with them
  if (j.mark_dynamic !== undefined) return false;
  // the schema's refinements
  if (kind === 'scalar') return value !== undefined && size === undefined && stride === undefined;
  if (kind === 'size') return size !== undefined && stride === undefined && value === undefined;
  return kind === 'tensor' && size !== undefined && stride !== undefined && size.length === stride.length && value === undefined;
}

/** A bad line, named by file and line: a LedgerError of kind 'input', as the library's callers catch it. */
export class InputError extends LedgerError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
    partial?: PartIngested,
  ) {
    super(`${inputName(file)}:${line}: ${message}`, { kind: 'input', partial });
    this.name = 'InputError';
  }
}

/** A time parseTime refused: a text that is no ISO 8601 time, or one outside the years an event may have. */
function badTime(file: string, line: number, t: unknown): InputError {
  const what =
    typeof t !== 'string' ? 'is not a time between 1970 and 9999'
    : !isIsoTime(t) ? 'is not an ISO 8601 time (nor seconds since the epoch)'
    : Number.isNaN(parseUtcTime(t)) ? 'is not a valid time (no such day, hour, minute or second)'
    : 'is not a time between 1970 and 9999';
  return new InputError(file, line, `field time: ${JSON.stringify(t)} ${what}`);
}

function parseTime(t: string | number | undefined): number | undefined | null {
  if (t === undefined) return undefined;
  const ms = typeof t === 'number' ? eventMs(t * 1000) : parseUtcTime(t);
  return isEventTime(ms) ? ms : null;
}

/** PyTorch's ints are int64 (sizes and strides never negative); a longer string is not one. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** More dims than any tensor PyTorch makes (a 100,000-dim shape is an attack, not a tensor). */
export const MAX_DIMS = 1024;

/** Ints past 2**53 must come as strings (JSON numbers that big have already lost digits). */
function checkInts(xs: readonly (number | string)[], field: string, file: string, line: number): void {
  if (xs.length > MAX_DIMS) throw new InputError(file, line, `field ${field}: ${xs.length} dims, more than ${MAX_DIMS}`);
  for (let i = 0; i < xs.length; i++) checkInt(xs[i], `${field}[${i}]`, file, line, true);
}

function checkInt(v: number | string, field: string, file: string, line: number, nonNegative: boolean): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new InputError(file, line, `field ${field}: ${v} is past 2**53; write it as a string`);
  } else if (v.length > 20 || BigInt(v) < INT64_MIN || BigInt(v) > INT64_MAX) {
    throw new InputError(file, line, `field ${field}: ${v.length > 24 ? `${v.slice(0, 20)}… (${v.length} digits)` : v} is not an int64`);
  }
  if (nonNegative && (typeof v === 'number' ? v < 0 : v.startsWith('-'))) throw new InputError(file, line, `field ${field}: ${v} is negative`);
}

/** Ids already checked (bounded). */
const goodText = new Set<string>();

/**
 * Ids end up in text output, file names and SQLite: a control character (NUL, newline) would
 * forge lines there, and a lone surrogate cannot be written as UTF-8 (verify failed on it).
 */
function checkText(v: string | null | undefined, field: string, file: string, line: number): void {
  // ids already checked pass at once: lines repeat the same few names millions of times
  if (v == null || goodText.has(v)) return;
  if (v.length > MAX_TEXT) throw new InputError(file, line, `field ${field}: ${v.length} characters, more than ${MAX_TEXT}`);
  const control = CONTROL_CHAR.exec(v);
  if (control) throw new InputError(file, line, `field ${field}: holds a control character (${JSON.stringify(control[0])})`);
  if (/\p{Cs}/u.test(v)) throw new InputError(file, line, `field ${field}: holds a lone UTF-16 surrogate (not valid Unicode)`);
  // the line's bytes there were no UTF-8 (read as U+FFFD; trial s27b: stored silently)
  if (v.includes('\ufffd')) throw new InputError(file, line, `field ${field}: holds U+FFFD, the replacement character that bytes which are no UTF-8 decode to`);
  if (goodText.size > 100_000) goodText.clear();
  // (a long one is checked again rather than held)
  if (v.length <= 1024) goodText.add(v);
}
/**
 * The longest name a line may hold (a source, a job, a file name): far more than PyTorch's
 * longest source (a module path of a few hundred characters); a 50 MB source made a 150 MB
 * ledger (trial s24).
 */
export const MAX_TEXT = 65_536;

/** What stays the same for every line of one input. */
export interface LineContext {
  file: string;
  defaults: LineDefaults;
  /** The input's absolute path (or 'stdin'). */
  origin: string;
  /**
   * 21 bits naming the input by its first event's content (never its name, nor a flag that
   * line overrides): an event's idempotency key is tag * 2**32 + line, so one input's keys
   * ascend and the unique index only appends. The same lines again (a renamed copy, stdin,
   * a grown file) map to the same keys. Another input with the same tag is told apart by
   * comparing the whole event, time included (see Ledger.appendPrepared): never dropped.
   */
  tag?: number;
  /** Lines already parsed, by what they hold besides their time (see parseLine): by tail, then head. */
  seen?: Map<string, Map<string, LineRest>>;
  seenCount?: number;
  /** Counts the generations (see LineRest.gen). */
  gen?: number;
  /** The generation before `seen` (see SEEN_LIMIT): looked in on a miss, and what it holds moved up. */
  older?: Map<string, Map<string, LineRest>>;
  /** The last tail looked up in `seen`, and what it found there (kept in step with `seen`). */
  lastTail?: string;
  lastByHead?: Map<string, LineRest>;
  /** The rest of the line before, when it had one: its `next` is the guess for this line. */
  prev?: LineRest;
  /** The last two runs of the rests put in the cache, the newest first (see derived). */
  runs?: string[];
  /** Which defaults the lines parsed in full took (USED_JOB…: a line the cache gives again took the same). */
  used?: number;
}


export function lineContext(file: string, defaults: LineDefaults, _firstLine?: string): LineContext {
  return { file, defaults, origin: file === '-' ? 'stdin' : resolve(file) };
}

/**
 * A line context's cache as one reader hands it to another (the writing thread to the ingest
 * worker, in workerData): plain data a structured clone copies. Only rests that went to a wire
 * batch (their event let go of: see WireBuilder.add) go over; `next` and `prev` name rests by
 * their place in `rests`, -1 for none (or one left behind).
 */
export interface LineCacheHandOver {
  tag: number | undefined;
  gen: number | undefined;
  seenCount: number | undefined;
  runs: string[] | undefined;
  prev: number;
  /**
   * Per rest: head, tail, runAt, runEnd, gen, next, then its wire parts (cacheKey, code, codeKey,
   * source, json, flags, run, origin, compileId), then, where they are refs into the table set
   * handed over with it, its refs (keyRef, codeRef, sourceRef, jsonRef, runRef, originRef, compileRef, restRef).
   */
  rests: unknown[][];
  /** Rests by place, in the order `seen` and `older` hold them (older null where the context has none). */
  seen: number[];
  older: number[] | null;
}

/** What `ctx` has cached, for a reader in another thread to go on with (see takeOverCache), with the refs into table set `batch` where handed over with it. */
export function handOverCache(ctx: LineContext, batch?: number): LineCacheHandOver {
  const place = new Map<LineRest, number>();
  const rests: unknown[][] = [];
  const all: LineRest[] = [];
  const placeOf = (r: LineRest | undefined): number => {
    if (r === undefined || r.wire === undefined) return -1;
    let i = place.get(r);
    if (i === undefined) {
      place.set(r, (i = all.length));
      all.push(r);
    }
    return i;
  };
  const places = (m: Map<string, Map<string, LineRest>> | undefined): number[] => {
    const out: number[] = [];
    if (m !== undefined) for (const byHead of m.values()) for (const r of byHead.values()) if (placeOf(r) >= 0) out.push(place.get(r)!);
    return out;
  };
  const seen = places(ctx.seen);
  const older = ctx.older === undefined ? null : places(ctx.older);
  const prev = placeOf(ctx.prev);
  // (all grows while the loop runs: a rest's next is placed after it)
  for (let i = 0; i < all.length; i++) {
    const r = all[i];
    const w = r.wire!;
    const x = [r.head, r.tail, r.runAt, r.runEnd, r.gen, placeOf(r.next), w.cacheKey, w.code, w.codeKey, w.source, w.json, w.flags, w.run, w.origin, w.compileId];
    if (batch !== undefined && w.batch === batch) x.push(w.keyRef, w.codeRef, w.sourceRef, w.jsonRef, w.runRef, w.originRef, w.compileRef, w.restRef);
    rests.push(x);
  }
  return { tag: ctx.tag, gen: ctx.gen, seenCount: ctx.seenCount, runs: ctx.runs?.slice(), prev, rests, seen, older };
}

/**
 * A fresh context given the cache another reader handed over: the lines it parsed hit here as
 * they would have there. Table refs handed over are refs into table set `batch` (the builder
 * here that took over the table set they were made in); the other rests' refs are no wire
 * builder's (batch 0): builders are numbered per thread, so another thread's numbers would
 * name tables here.
 */
export function takeOverCache(ctx: LineContext, h: LineCacheHandOver, batch?: number): void {
  const rests = h.rests.map((x) => {
    const w = wireParts(x[6] as string, x[7] as CodeId | null, x[8] as string | null, x[9] as string | null, x[10] as string, x[11] as number, x[12] as string | null, x[13] as string | null, x[14] as string | null);
    if (x.length > 15) {
      if (batch === undefined) throw new Error('bug: table refs handed over without their table set');
      w.batch = batch;
      [w.keyRef, w.codeRef, w.sourceRef, w.jsonRef, w.runRef, w.originRef, w.compileRef, w.restRef] = x.slice(15) as number[];
    }
    const r = lineRest(null, w, x[0] as string, x[1] as string, x[2] as number, x[3] as number);
    r.gen = x[4] as number;
    return r;
  });
  for (let i = 0; i < rests.length; i++) {
    const n = h.rests[i][5] as number;
    if (n >= 0) rests[i].next = rests[n];
  }
  const mapOf = (places: number[]) => {
    const m = new Map<string, Map<string, LineRest>>();
    for (const i of places) {
      const r = rests[i];
      let byHead = m.get(r.tail);
      if (byHead === undefined) m.set(r.tail, (byHead = new Map()));
      byHead.set(r.head, r);
    }
    return m;
  };
  ctx.tag = h.tag;
  ctx.gen = h.gen;
  ctx.seenCount = h.seenCount;
  ctx.runs = h.runs;
  if (h.seenCount !== undefined) ctx.seen = mapOf(h.seen);
  if (h.older !== null) ctx.older = mapOf(h.older);
  ctx.prev = h.prev >= 0 ? rests[h.prev] : undefined;
}

/**
 * JSON.parse quotes the text around a bad token: of a binary file read as lines (`--kind
 * observations` on a pickle), NULs, control bytes and U+FFFD for bytes that are no UTF-8. An
 * error says them as escapes, never as the bytes themselves.
 */
function printable(message: string): string {
  return message.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One JSON observation line to a `shape.observed` event (InputError naming file, line, field). */
export function parseObservationLine(text: string, line: number, ctx: LineContext, check: (j: unknown) => boolean = surelyValidLine): NewEvent {
  const { file, defaults } = ctx;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, line, `not JSON: ${printable((e as Error).message)}`);
  }
  let o: z.infer<ReturnType<typeof buildObservationLine>>;
  if (check(json)) o = json as z.infer<ReturnType<typeof buildObservationLine>>;
  else {
    const r = (observationLine ??= buildObservationLine()).safeParse(json);
    if (!r.success) throw new InputError(file, line, `field ${zodMessage(r.error)}`);
    o = r.data;
  }
  ctx.used = (ctx.used ?? 0) | (o.job == null ? USED_JOB : 0) | (o.rank === undefined ? USED_RANK : 0) | (o.tag == null ? USED_TAG : 0) | (o.run == null ? USED_RUN : 0);
  const job = o.job ?? defaults.job;
  if (!job) throw new InputError(file, line, `field job: ${o.job === null ? 'null, which names no job' : 'missing'} (give it in the line or with ${ingestWords(defaults).job})`);
  const rank = o.rank !== undefined ? o.rank : (defaults.rank ?? null);
  const tag = o.tag ?? defaults.tag ?? '';
  // Issue 9.5: PyTorch joins job:rank:tag; a tag with ':' would read back as another job and rank.
  if (tag.includes(':')) throw new InputError(file, line, `field tag: ${JSON.stringify(tag)} holds ':', which would make the cache key ${JSON.stringify(`${job}:${rank ?? 'None'}:${tag}`)} name another job and rank`);
  if (rank !== null && !Number.isSafeInteger(rank)) throw new InputError(file, line, `field rank: ${rank} is not a rank`);
  checkText(job, 'job', file, line);
  checkText(tag, 'tag', file, line);
  let key: string;
  try {
    key = cacheKey({ job, rank, tag });
  } catch (e) {
    throw new InputError(file, line, `field job: ${(e as Error).message}`);
  }
  checkText(o.run ?? defaults.run, 'run', file, line);
  checkText(o.compile_id, 'compile_id', file, line);
  checkText(o.source, 'source', file, line);
  checkText(o.code.filename, 'code.filename', file, line);
  checkText(o.code.name, 'code.name', file, line);
  checkText(o.code.file_hash, 'code.file_hash', file, line);
  const time = parseTime(o.time);
  if (time === null) throw badTime(file, line, o.time);
  let shape: ShapeObserved['shape'];
  if (o.kind === 'scalar') {
    checkInt(o.value!, 'value', file, line, false);
    shape = { kind: 'scalar', value: o.value! };
  } else {
    checkInts(o.size!, 'size', file, line);
    if (o.kind === 'tensor') {
      checkInts(o.stride!, 'stride', file, line);
      // Dynamo walks the dims in order (`for i in range(e.dim())`), whatever order they were marked in
      const marks = o.mark_dynamic?.length ? [...new Set(o.mark_dynamic)].sort((a, b) => a - b) : undefined;
      shape = marks ? { kind: 'tensor', size: o.size!, stride: o.stride!, mark_dynamic: marks } : { kind: 'tensor', size: o.size!, stride: o.stride! };
    } else shape = { kind: 'size', size: o.size! };
  }
  const run = o.run ?? defaults.run ?? null;
  const ch = o.code.closure_hash;
  if (typeof ch === 'number' && !Number.isSafeInteger(ch)) throw new InputError(file, line, `field code.closure_hash: ${ch} is past 2**53; write it as a string`);
  const code: CodeId = { filename: o.code.filename, firstlineno: o.code.firstlineno, name: o.code.name, file_hash: o.code.file_hash ?? hashOfCodeFile(o.code.filename, defaults.hashFiles) };
  // A line that names closure_hash (even None) is data in the layout after 2.11.
  const withClosure: CodeId = ch === undefined ? code : { ...code, closure_hash: ch === null ? null : intFromJson(ch) };
  const payload: ShapeObserved = { code: withClosure, source: o.source, shape, automatic_dynamic: o.automatic_dynamic ?? true };
  // Checked by the line's zod schema above (a superset of the payload's): marked as validated.
  return {
    [VALIDATED]: true,
    kind: 'shape.observed',
    cacheKey: key,
    payload,
    time,
    run,
    origin: ctx.origin,
    originLine: line,
    compileId: o.compile_id ?? null,
    // Issue 9.1, 9.2: the input is named by what its first event holds, not by its name.
    idempotencyKey: '',
    idempotencyHash: (ctx.tag ??= hash53(`obs\u0000${key}\u0000${run ?? ''}\u0000${time ?? ''}\u0000${JSON.stringify(payload, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`) % 2 ** 21) * 2 ** 32 + line,
  };
}

/**
 * What a line holds besides its time, parsed and checked once: the event it gave, which every
 * line that differs from it only in its time shares (code, payload and strings are never
 * mutated). The wire builder keeps its table refs here (`wire`), valid for one batch.
 */
export interface LineRest {
  /** Null once a wire builder took its parts (see WireBuilder.add): a context then feeds only wire batches. */
  event: NewEvent | null;
  wire?: WireParts;
  /** The line's text up to and with `"time":`, and after the time's value (the keys it is cached under). */
  head: string;
  tail: string;
  /**
   * The rest of the line that came after this one last time: lines come round in the same order
   * (each job's code ids and sources in turn), so the next line is first compared with it, which
   * costs less than hashing its head and tail for the cache (see parseLine).
   */
  next?: LineRest;
  /** The cache generation it was last put in (see remember). */
  gen: number;
  /** Where the run's value lies in `head` (runEnd is its closing quote), when it is provably the one top-level run (see runSpan); -1 where not. */
  runAt: number;
  runEnd: number;
}

/**
 * Every LineRest made here, with all its fields from the start: rests of one shape keep the
 * reads of the per-line path (guess.head, rest.wire) to one hidden class (fields added later,
 * or two literals, made several and the path slower).
 */
function lineRest(event: NewEvent | null, wire: WireParts | undefined, head: string, tail: string, runAt: number, runEnd: number): LineRest {
  return { event, wire, head, tail, next: undefined, gen: 0, runAt, runEnd };
}

/**
 * Every WireParts (see observation-batches.ts), its refs to be made (batch 0 is no builder's):
 * one constructor, so the wire builder's per-line reads meet one hidden class.
 */
export function wireParts(cacheKey: string, code: CodeId | null, codeKey: string | null, source: string | null, json: string, flags: number, run: string | null, origin: string | null, compileId: string | null): WireParts {
  return { cacheKey, code, codeKey, source, json, flags, run, origin, compileId, batch: 0, keyRef: -1, codeRef: -1, sourceRef: -1, jsonRef: -1, runRef: -1, originRef: -1, compileRef: -1, restRef: -1 };
}

/** A line that repeats one parsed before but for its time: that line's event with this time and line. */
export class LineHit {
  constructor(
    readonly rest: LineRest,
    readonly time: number,
    readonly line: number,
    readonly idempotencyHash: number,
  ) {}
  /** The event parseObservationLine gives for the line. */
  event(): NewEvent {
    const e = this.rest.event;
    if (e === null) throw new Error('bug: the event of a line rest that went to a wire batch');
    return { [VALIDATED]: true, kind: 'shape.observed', cacheKey: e.cacheKey, payload: e.payload as ShapeObserved, time: this.time, run: e.run, origin: e.origin, originLine: this.line, compileId: e.compileId, idempotencyKey: '', idempotencyHash: this.idempotencyHash };
  }
}

/** The event a full parse gave, with its LineRest when later lines may share it. */
export const LINE_REST: unique symbol = Symbol('line rest');
export type LineEvent = NewEvent & { [LINE_REST]?: LineRest };

/**
 * Bounded (memory stays flat, under 1 KB an entry, at most twice this many): a new run id changes
 * every line's text, so old entries die. When full, the cache becomes the older generation and a
 * new one starts; a line found only in the older one moves up. (Clearing it instead parsed again
 * a quarter of the realistic mix's lines, 6,000 distinct a run, each time it filled up.)
 */
const SEEN_LIMIT = 1 << 13;
const TIME_KEY = '"time":';

/**
 * parseObservationLine, fast for lines that repeat but for their time (most real traffic):
 * the text around the time value is looked up among the lines already parsed, and only the
 * time is read. That is sound only where the `"time":` found is the line's one top-level time
 * key; timeKeyAlone proves it on the full parse that fills the cache, and a line with the same
 * text around its time has the same structure. Anything else takes the full parse.
 */
export function parseLine(text: string, line: number, ctx: LineContext): LineEvent | LineHit {
  // The guess: the line after the last one, last time. A line that starts with its head (which
  // ends at the first `"time":` of its line, so this line's first one is at the same place) and
  // ends with its tail right after the time's token has the head and tail the cache would look up.
  // (Slices compared with ===, which compares memory at once: startsWith and endsWith cost 3x.)
  const guess = ctx.prev?.next;
  if (guess !== undefined && ctx.tag !== undefined && text.slice(0, guess.head.length) === guess.head) {
    const from = guess.head.length;
    const to = timeTokenEnd(text, from);
    if (to >= 0 && text.length - to === guess.tail.length && text.slice(to) === guess.tail) {
      const t = timeTokenValue(text, from, to);
      if (t !== undefined) {
        const time = parseTime(t);
        if (time == null) throw badTime(ctx.file, line, t);
        // as a lookup would, a rest used now moves up to the new generation
        if (guess.gen !== ctx.gen) remember(ctx, guess);
        ctx.prev = guess;
        return new LineHit(guess, time, line, ctx.tag * 2 ** 32 + line);
      }
    }
  }
  const prev = ctx.prev;
  ctx.prev = undefined;
  const i = text.indexOf(TIME_KEY);
  if (i < 0) return parseObservationLine(text, line, ctx);
  const from = i + TIME_KEY.length;
  const to = timeTokenEnd(text, from);
  if (to < 0) return parseObservationLine(text, line, ctx);
  // Keyed by the text after the time, then before it: slices of the line, hashed, never copied.
  // (Lines of several jobs or ranks differ only before it: their long tails are stored once.)
  const seen = (ctx.seen ??= new Map());
  const head = text.slice(0, from);
  const tail = text.slice(to);
  // Lines of several jobs or ranks come in turn with one tail: comparing it with the last costs
  // less than hashing it (a string's hash reads all of it; a compare stops at the first difference).
  let byHead: Map<string, LineRest> | undefined;
  if (tail === ctx.lastTail) byHead = ctx.lastByHead;
  else {
    byHead = seen.get(tail);
    ctx.lastTail = tail;
    ctx.lastByHead = byHead;
  }
  let hit = byHead?.get(head);
  if (hit === undefined && ctx.older !== undefined) {
    hit = ctx.older.get(tail)?.get(head);
    if (hit !== undefined) remember(ctx, hit);
  }
  if (hit !== undefined && ctx.tag !== undefined) {
    const t = timeTokenValue(text, from, to);
    if (t !== undefined) {
      const time = parseTime(t);
      if (time == null) throw badTime(ctx.file, line, t);
      follows(ctx, prev, hit);
      return new LineHit(hit, time, line, ctx.tag * 2 ** 32 + line);
    }
  }
  if (hit === undefined && ctx.runs !== undefined && ctx.tag !== undefined) {
    // (derived notes what follows what: a read of the hit's rest here, first made at the input's
    // first new run, had no type feedback in this function's optimized code, which it threw away)
    const d = derived(text, line, ctx, head, tail, from, to, prev);
    if (d !== undefined) return d;
  }
  const ev: LineEvent = parseObservationLine(text, line, ctx);
  if (hit === undefined && timeKeyAlone(text, i, from, to)) {
    const t = timeTokenValue(text, from, to);
    // The cache only holds what the full parse agrees with (belt and braces over the proof).
    if (t !== undefined && parseTime(t) === ev.time) {
      const [runAt, runEnd] = runSpan(text, i, ev.run ?? null);
      const r = lineRest(ev, undefined, detached(head), detached(tail), runAt, runEnd);
      remember(ctx, r);
      ev[LINE_REST] = r;
      follows(ctx, prev, r);
    }
  }
  return ev;
}

const RUN_KEY = '"run":"';

/**
 * Where the run's value lies in a line that timeKeyAlone proved (no backslash) and that parsed
 * to `run`: [start, closing quote) of the value of the line's one `"run"`, before the time key at
 * `at`, outside strings at the top level; [-1, -1] for any other line. Counting as timeKeyAlone does.
 */
function runSpan(text: string, at: number, run: string | null): [number, number] {
  const p = text.indexOf(RUN_KEY);
  if (p < 0 || p > at || text.indexOf('"run"') !== p || text.indexOf('"run"', p + 1) >= 0) return [-1, -1];
  const a = p + RUN_KEY.length;
  const b = text.indexOf('"', a);
  if (b < 0 || b > at || text.slice(a, b) !== run) return [-1, -1];
  return atTopLevel(text, p) ? [a, b] : [-1, -1];
}

/**
 * A new line that is a cached one with another run (a new run id makes every line new, but
 * for that): its rest made from the cached one's, without a parse. Exact: the cached line's
 * run is its one top-level run (runSpan), so putting another value there, one without a
 * quote, backslash or control character, changes nothing else JSON.parse gives; of the full
 * parse's checks only the run's and the time's can then fail, in that order. The line follows
 * the line of `prev` (see follows).
 */
function derived(text: string, line: number, ctx: LineContext, head: string, tail: string, from: number, to: number, prev: LineRest | undefined): LineHit | undefined {
  const p = head.indexOf(RUN_KEY);
  if (p < 0) return undefined;
  const a = p + RUN_KEY.length;
  const b = head.indexOf('"', a);
  if (b < 0) return undefined;
  const run = head.slice(a, b);
  // an empty run is bad input: the full parse says so
  if (run === '') return undefined;
  let base: LineRest | undefined;
  for (const r of ctx.runs!) {
    if (r === run) continue;
    const h = head.slice(0, a) + r + head.slice(b);
    base = ctx.seen?.get(tail)?.get(h) ?? ctx.older?.get(tail)?.get(h);
    if (base !== undefined && base.runAt === a && base.runEnd === a + r.length) break;
    base = undefined;
  }
  if (base === undefined) return undefined;
  for (let j = 0; j < run.length; j++) {
    const c = run.charCodeAt(j);
    if (c < 32 || c === 92) return undefined;
  }
  const t = timeTokenValue(text, from, to);
  if (t === undefined) return undefined;
  checkText(run, 'run', ctx.file, line);
  const time = parseTime(t);
  if (time == null) throw badTime(ctx.file, line, t);
  const e = base.event;
  const r = lineRest(
    e === null ? null : { [VALIDATED]: true, kind: 'shape.observed', cacheKey: e.cacheKey, payload: e.payload as ShapeObserved, time: e.time, run, origin: e.origin, originLine: e.originLine, compileId: e.compileId, idempotencyKey: '', idempotencyHash: e.idempotencyHash },
    base.wire === undefined ? undefined : wireParts(base.wire.cacheKey, base.wire.code, base.wire.codeKey, base.wire.source, base.wire.json, base.wire.flags, run, base.wire.origin, base.wire.compileId),
    detached(head),
    base.tail,
    a,
    b,
  );
  remember(ctx, r);
  follows(ctx, prev, r);
  return new LineHit(r, time, line, ctx.tag! * 2 ** 32 + line);
}

/** Line `r` came after the line of `prev` (when that had a rest): the guess for the line after the next `prev`. */
function follows(ctx: LineContext, prev: LineRest | undefined, r: LineRest): void {
  if (prev !== undefined && prev.next !== r) prev.next = r;
  ctx.prev = r;
}

/** Adds a line's rest to the cache (a new generation first, when full), as the last tail looked up. */
function remember(ctx: LineContext, r: LineRest): void {
  if (ctx.seenCount === undefined || ctx.seenCount >= SEEN_LIMIT) {
    if (ctx.seenCount !== undefined) {
      // The rests dropped now guess no more: a chain of guesses would keep every generation alive.
      if (ctx.older !== undefined) for (const m of ctx.older.values()) for (const x of m.values()) x.next = undefined;
      ctx.older = ctx.seen;
    }
    ctx.seen = new Map();
    ctx.seenCount = 0;
    ctx.gen = (ctx.gen ?? 0) + 1;
  }
  r.gen = ctx.gen!;
  const seen = ctx.seen!;
  let m = seen.get(r.tail);
  if (m === undefined) seen.set(r.tail, (m = new Map()));
  m.set(r.head, r);
  ctx.lastTail = r.tail;
  ctx.lastByHead = m;
  ctx.seenCount++;
  if (r.runAt >= 0) {
    const run = r.head.slice(r.runAt, r.runEnd);
    const runs = (ctx.runs ??= []);
    if (runs[0] !== run) runs.splice(0, runs.length, run, ...runs.slice(0, 1));
  }
}

/**
 * A copy of a slice of a line: a slice shares its parent's memory, and the reader decodes
 * 64 KiB of lines as one string, which a cached slice would keep alive. (Flattening the
 * concatenation copies; the slice of the copy holds only the copy.)
 */
const detached = (s: string): string => (s + ' ').slice(0, -1);

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Where the value after `"time":` ends, when it is a plain token: a number (the longest run
 * of number characters, as JSON reads one) or a string without escapes; -1 for anything else.
 */
function timeTokenEnd(text: string, from: number): number {
  const c = text.charCodeAt(from);
  if (c === 34) {
    const end = text.indexOf('"', from + 1);
    return end < 0 ? -1 : end + 1;
  }
  if (c !== 45 && !isDigit(c)) return -1;
  let j = from + 1;
  for (;;) {
    const d = text.charCodeAt(j);
    if (isDigit(d) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) j++;
    else return j;
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The JSON value of a time token, or undefined where it is not a valid one (the full parse words the error). */
function timeTokenValue(text: string, from: number, to: number): number | string | undefined {
  if (text.charCodeAt(from) === 34) {
    for (let j = from + 1; j < to - 1; j++) {
      const c = text.charCodeAt(j);
      if (c < 32 || c === 92) return undefined;
    }
    return text.slice(from + 1, to - 1);
  }
  // Up to 15 digits, no leading zero: an exact int, summed without a slice.
  if (to - from <= 15 && (to - from === 1 || text.charCodeAt(from) !== 48)) {
    let v = 0;
    let j = from;
    for (; j < to; j++) {
      const c = text.charCodeAt(j);
      if (!isDigit(c)) break;
      v = v * 10 + (c - 48);
    }
    if (j === to) return v;
  }
  const s = text.slice(from, to);
  if (!JSON_NUMBER.test(s)) return undefined;
  // zod's number() refuses what overflows to Infinity (1e400): the full parse words that.
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Whether the `"time":` at `at` is the line's one top-level time key (the line having parsed as
 * JSON): without a backslash no key is spelled with escapes and every quote opens or closes a
 * string, so counting quotes and brackets before it finds its depth; no other `"time"` means no
 * duplicate key that JSON.parse would take instead.
 */
function timeKeyAlone(text: string, at: number, from: number, to: number): boolean {
  if (text.indexOf('\\') >= 0) return false;
  if (text.indexOf('"time"') !== at || text.indexOf('"time"', from) >= 0) return false;
  if (text.charCodeAt(from) === 34 && text.slice(from + 1, to - 1).includes('"time"')) return false;
  return atTopLevel(text, at);
}

/**
 * Whether index `at` of a line with no backslash lies in its top-level object, outside strings:
 * there every quote opens or closes a string, so counting quotes and brackets before it tells.
 */
function atTopLevel(text: string, at: number): boolean {
  let inString = false;
  let depth = 0;
  for (let j = 0; j < at; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) inString = !inString;
    else if (!inString) {
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
    }
  }
  return !inString && depth === 1;
}
