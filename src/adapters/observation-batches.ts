import { splitPayload } from '../store/events.ts';
import { hash53 } from '../store/hash53.ts';
// Not through ledger.ts: that loads the whole store (kysely, better-sqlite3) into the worker.
import type { NewEvent, PreparedEvent } from '../store/prepare-event.ts';
import { handOverCache, InputError, LINE_REST, LineHit, lineContext, parseLine, takeOverCache, wireParts, type LineCacheHandOver, type LineContext, type LineDefaults, type LineEvent } from './observation-lines.ts';
import { readTextChunks, type LinesFrom, type TextChunk } from './read-lines.ts';

/**
 * A batch of prepared events in a compact, transferable form: strings once each in tables,
 * and one row of numbers per event pointing into them. This is what the ingest worker sends
 * to the writing thread (a Float64Array moves without a copy). The tables live across the
 * batches of one builder: a batch carries only the entries new since the one before, which
 * the decoder (its BatchCache) adds to what it holds; `fresh` says to start from empty
 * tables (the first batch, and after the builder drops its tables to bound memory).
 */
export interface WireBatch {
  fresh: boolean;
  keys: string[];
  codes: string[];
  sources: string[];
  jsons: string[];
  strings: string[];
  rows: Float64Array;
  /** Rest refs handed out so far in these tables (see WireParts.restRef). */
  rests: number;
  /** Lines read, bytes read and lines skipped so far. */
  lines: number;
  bytes: number;
  skipped: number;
  /** The file's line number of the batch's last line, but for the last batch (a reader may go on after it: LineBatchOptions.after). */
  last?: number;
  /** Which defaults the reader's lines so far took (LineContext.used). */
  used?: number;
}

export const ROW = 10; // key, code, source, json, auto, time, run, origin, line, compile; idem and rest below
const WIDTH = ROW + 2;

/** A code id's key in the codes table: cheap where it can be, its JSON where not. */
function codeKey(c: CodeId): string {
  return c.closure_hash === undefined && !c.extra ? `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}\u0000${c.filename}` : codeToWire(c);
}

/** A table as one builder hands it to another (see WireBuilder.handOver): every item sent. */
interface TableHandOver {
  items: string[];
  index: Map<string, number>;
}

class Table {
  /** With `from`: the table another builder handed over, all of it sent, taken as it is (a copy made for this one: what a worker's workerData gives). */
  constructor(from?: TableHandOver) {
    if (from) {
      this.items = from.items;
      this.index = from.index;
      this.sent = from.items.length;
    }
  }
  readonly items: string[] = [];
  /** Items sent in batches before (the decoder holds them). */
  private sent = 0;
  handOver(): TableHandOver {
    if (this.sent !== this.items.length) throw new Error('bug: a table handed over with items no batch sent');
    return { items: this.items, index: this.index };
  }
  /** The items new since the last call. */
  unsent(): string[] {
    const out = this.items.slice(this.sent);
    this.sent = this.items.length;
    return out;
  }
  private readonly index = new Map<string, number>();
  /** Code ids by a cheap key; the table holds their JSON. */
  refCode(c: CodeId, k = codeKey(c)): number {
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(codeToWire(c));
      this.index.set(k, i);
    }
    return i;
  }
  private last: string | null = null;
  private lastRef = -1;
  ref(s: string | null): number {
    if (s === null) return -1;
    // runs of equal values (job, run, origin) skip the hash (lastRef first: a compare with the
    // null of a new table met a string compare's speculation in the optimized code and threw it away)
    if (this.lastRef >= 0 && s === this.last) return this.lastRef;
    this.last = s;
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(s);
      this.index.set(s, i);
    }
    return (this.lastRef = i);
  }
}

/** What a row holds of an event but its time, line and key, as computed once for a LineRest. */
export interface WireParts {
  cacheKey: string;
  code: CodeId | null;
  codeKey: string | null;
  source: string | null;
  json: string;
  flags: number;
  run: string | null;
  origin: string | null;
  compileId: string | null;
  /**
   * The refs into the tables of table set `batch` (a builder's tables until it drops them), and
   * last the rest's own number there (-1 for an event of its own): the writing thread keeps what
   * it worked out for one (see AppendMemo), which the events that share it use again. Fields,
   * not an array: a line cache entry lives long enough to be copied twice, and a hit reads one
   * object less.
   */
  batch: number;
  keyRef: number;
  codeRef: number;
  sourceRef: number;
  jsonRef: number;
  runRef: number;
  originRef: number;
  compileRef: number;
  restRef: number;
}

function partsOf(e: PreparedEvent | NewEvent): WireParts {
  let code: CodeId | null, source: string | null, json: string, auto: boolean, keyed: boolean;
  if ('json' in e) ({ code, source, json, automaticDynamic: auto, keyedTime: keyed } = e);
  else {
    ({ code, source, json } = splitPayload(e));
    auto = e.kind === 'shape.observed' ? e.payload.automatic_dynamic : true;
    keyed = e.keyedTime ?? e.time !== undefined;
  }
  return wireParts(e.cacheKey, code, code ? codeKey(code) : null, source, json, (auto ? 1 : 0) | (keyed ? 2 : 0), e.run ?? null, e.origin ?? null, e.compileId ?? null);
}

/** Numbers each builder's table sets, so a LineRest's refs are used only with the tables that made them. */
let batchSerial = 0;

/** Table entries (all tables together) past which a builder starts afresh at its next batch: memory stays bounded. */
const TABLES_LIMIT = 100_000;
/**
 * Rest refs likewise: the writing thread keeps a memo for each (about 130 bytes); at 100,000
 * they added 30 MB to the peak RSS of 5M mix lines. A new table set costs the first event of
 * each rest its lookups again (6,000 a run of the mix), once.
 */
const RESTS_LIMIT = 20_000;

/**
 * A wire builder's table set as it hands it to a builder in another thread, which goes on
 * where it stopped: the decoder of its batches then goes on with its tables, its objects and
 * the append's memos (see batchCache). Null where the builder starts a new set at its next batch.
 */
export type TablesHandOver = { keys: TableHandOver; codes: TableHandOver; sources: TableHandOver; jsons: TableHandOver; strings: TableHandOver; rests: number } | null;

/** Builds a wire batch event by event, so no event object outlives its line. */
export class WireBuilder {
  /** This builder's table set's number (see WireParts.batch). */
  batch = ++batchSerial;
  private keys = new Table();
  private codes = new Table();
  private sources = new Table();
  private jsons = new Table();
  private strings = new Table();
  private fresh = true;
  private rows = new Float64Array(1024 * WIDTH);
  private rests = 0;
  count = 0;
  constructor(private readonly tablesLimit = TABLES_LIMIT) {}

  /** Its table set, between batches, for a builder that goes on with it (see takeOver). */
  handOver(): TablesHandOver {
    if (this.count !== 0) throw new Error('bug: a wire builder handed over in the middle of a batch');
    if (this.fresh) return null;
    return { keys: this.keys.handOver(), codes: this.codes.handOver(), sources: this.sources.handOver(), jsons: this.jsons.handOver(), strings: this.strings.handOver(), rests: this.rests };
  }

  /** A new builder that goes on with the table set another handed over, taken as it is (a copy made for this one), under a number of this thread: refs of rests handed over are renumbered to it (see takeOverCache). */
  static takeOver(h: TablesHandOver, tablesLimit?: number): WireBuilder {
    const b = new WireBuilder(tablesLimit);
    if (h !== null) {
      b.keys = new Table(h.keys);
      b.codes = new Table(h.codes);
      b.sources = new Table(h.sources);
      b.jsons = new Table(h.jsons);
      b.strings = new Table(h.strings);
      b.rests = h.rests;
      b.fresh = false;
    }
    return b;
  }

  add(x: PreparedEvent | LineEvent | LineHit): void {
    if (this.rows.length < (this.count + 1) * WIDTH) {
      const r = new Float64Array(this.rows.length * 2);
      r.set(this.rows);
      this.rows = r;
    }
    const o = this.count++ * WIDTH;
    const r = this.rows;
    // A line seen before but for its time shares its parts (and, within a batch, its refs).
    let w: WireParts;
    let time: number, line: number, idem: number;
    let shared = true;
    if (x instanceof LineHit) {
      w = x.rest.wire ??= partsOf(x.rest.event!);
      time = x.time;
      line = x.line;
      idem = x.idempotencyHash;
    } else {
      const rest = 'json' in x ? undefined : x[LINE_REST];
      shared = rest !== undefined;
      w = rest ? (rest.wire ??= partsOf(x)) : partsOf(x);
      // The wire parts are all a rest is used for here on: its event (payload, shape and its
      // arrays) need not stay in the line cache, whose entries live long enough to be copied by
      // two scavenges and promoted.
      if (rest) rest.event = null;
      time = x.time ?? Date.now();
      line = x.originLine ?? -1;
      idem = 'idem' in x ? x.idem : (x.idempotencyHash ?? hash53(x.idempotencyKey));
    }
    if (w.batch !== this.batch) {
      w.batch = this.batch;
      w.keyRef = this.keys.ref(w.cacheKey);
      w.codeRef = w.code ? this.codes.refCode(w.code, w.codeKey!) : -1;
      w.sourceRef = this.sources.ref(w.source);
      w.jsonRef = this.jsons.ref(w.json);
      w.runRef = this.strings.ref(w.run);
      w.originRef = this.strings.ref(w.origin);
      w.compileRef = this.strings.ref(w.compileId);
      w.restRef = shared ? this.rests++ : -1;
    }
    r[o] = w.keyRef;
    r[o + 1] = w.codeRef;
    r[o + 2] = w.sourceRef;
    r[o + 3] = w.jsonRef;
    r[o + 4] = w.flags;
    r[o + 5] = time;
    r[o + 6] = w.runRef;
    r[o + 7] = w.originRef;
    r[o + 8] = line;
    r[o + 9] = w.compileRef;
    r[o + 10] = idem;
    r[o + 11] = w.restRef;
  }

  take(lines: number, bytes: number, skipped: number, last?: number): WireBatch {
    // The rows go as they are, not copied (the worker moves them to the writing thread); the next
    // batch gets an array of this one's size, which a batch of as many rows fills exactly.
    const rows = this.rows.subarray(0, this.count * WIDTH);
    this.rows = new Float64Array(Math.max(this.count, 1024) * WIDTH);
    const b: WireBatch = {
      fresh: this.fresh,
      keys: this.keys.unsent(),
      codes: this.codes.unsent(),
      sources: this.sources.unsent(),
      jsons: this.jsons.unsent(),
      strings: this.strings.unsent(),
      rows,
      rests: this.rests,
      lines,
      bytes,
      skipped,
      last,
    };
    this.count = 0;
    this.fresh = false;
    if (this.rests > RESTS_LIMIT || this.keys.items.length + this.codes.items.length + this.sources.items.length + this.jsons.items.length + this.strings.items.length + this.rests > this.tablesLimit) {
      this.keys = new Table();
      this.codes = new Table();
      this.sources = new Table();
      this.jsons = new Table();
      this.strings = new Table();
      this.rests = 0;
      this.batch = ++batchSerial;
      this.fresh = true;
    }
    return b;
  }
}

export function encodeBatch(events: PreparedEvent[], lines: number, bytes: number, skipped: number): WireBatch {
  const b = new WireBuilder();
  for (const e of events) b.add(e);
  return b.take(lines, bytes, skipped);
}

/**
 * Decodes a wire batch, reusing code and shape objects across batches through `cache`. With
 * `reuse`, the events are that array's objects, refilled (none is allocated once it holds a
 * batch): the caller must be done with the previous batch's events, as the ingest is once its
 * append returned. Objects made per event and kept for a batch were most of what the
 * writing thread's young-generation collections copied.
 */
export function decodeBatch(b: WireBatch, cache: BatchCache, reuse?: PreparedEvent[]): PreparedEvent[] {
  const t = cache.tables(b);
  const { keys, codes, sources, jsons, shapes, strings, memos } = t;
  const n = b.rows.length / WIDTH;
  const out: PreparedEvent[] = reuse ?? new Array(n);
  if (out.length > n) out.length = n;
  const r = b.rows;
  const str = (i: number) => (i < 0 ? null : strings[i]);
  for (let k = 0, o = 0; o < r.length; k++, o += WIDTH) {
    const e = out[k];
    if (e === undefined) {
      out[k] = {
        cacheKey: keys[r[o]],
        kind: 'shape.observed',
        code: codes[r[o + 1]],
        source: sources[r[o + 2]],
        json: jsons[r[o + 3]],
        shape: shapes[r[o + 3]],
        entry: null,
        automaticDynamic: (r[o + 4] & 1) === 1,
        quiet: false,
        record: null,
        guard: null,
        format: null,
        time: r[o + 5],
        keyedTime: (r[o + 4] & 2) === 2,
        keyedLine: true,
        run: str(r[o + 6]),
        origin: str(r[o + 7]),
        originLine: r[o + 8] < 0 ? null : r[o + 8],
        compileId: str(r[o + 9]),
        idem: r[o + 10],
        memo: r[o + 11] < 0 ? null : memos[r[o + 11]],
      };
      continue;
    }
    // the same fields as a new one: kind, entry, quiet, record and guard never change
    e.cacheKey = keys[r[o]];
    e.code = codes[r[o + 1]];
    e.source = sources[r[o + 2]];
    e.json = jsons[r[o + 3]];
    e.shape = shapes[r[o + 3]];
    e.automaticDynamic = (r[o + 4] & 1) === 1;
    e.time = r[o + 5];
    e.keyedTime = (r[o + 4] & 2) === 2;
    e.run = str(r[o + 6]);
    e.origin = str(r[o + 7]);
    e.originLine = r[o + 8] < 0 ? null : r[o + 8];
    e.compileId = str(r[o + 9]);
    e.idem = r[o + 10];
    e.memo = r[o + 11] < 0 ? null : memos[r[o + 11]];
  }
  return out;
}

import type { CodeId } from '../model/code-id.ts';
import { shapeFromJson } from '../store/fold.ts';
import type { Shape } from '../model/observation.ts';
import { toPyInt } from '../model/int.ts';
import { AppendMemo } from '../store/prepare-event.ts';

/** The tables a stream of wire batches built up so far, objects made once per code and body. */
interface WireTables {
  keys: string[];
  codes: CodeId[];
  sources: string[];
  jsons: string[];
  shapes: Shape[];
  strings: string[];
  /** One per rest ref: what the writing thread worked out once for the events that share it. */
  memos: AppendMemo[];
}

export interface BatchCache {
  code(json: string): CodeId;
  shape(json: string): Shape;
  /** The tables of one stream of batches, with this batch's entries added (each batch goes through here once, in order). */
  tables(b: WireBatch): WireTables;
}

/** One CodeId object per code and one Shape per stored body, bounded so memory stays flat; the tables of one stream of wire batches. */
export function batchCache(limit = 100_000): BatchCache {
  const codes = new Map<string, CodeId>();
  const shapes = new Map<string, Shape>();
  let t: WireTables | null = null;
  const cache: BatchCache = {
    code(json) {
      let c = codes.get(json);
      if (!c) {
        if (codes.size >= limit) codes.clear();
        codes.set(json, (c = codeFromWire(json)));
      }
      return c;
    },
    shape(json) {
      let s = shapes.get(json);
      if (!s) {
        if (shapes.size >= limit) shapes.clear();
        const { automatic_dynamic: _a, ...shape } = JSON.parse(json);
        shapes.set(json, (s = shapeFromJson(shape)));
      }
      return s;
    },
    tables(b) {
      if (b.fresh || !t) {
        if (!b.fresh) throw new Error('bug: a wire batch that adds to tables this cache never saw');
        t = { keys: [], codes: [], sources: [], jsons: [], shapes: [], strings: [], memos: [] };
      }
      for (const k of b.keys) t.keys.push(k);
      for (const c of b.codes) t.codes.push(cache.code(c));
      for (const s of b.sources) t.sources.push(s);
      for (const j of b.jsons) {
        t.jsons.push(j);
        t.shapes.push(cache.shape(j));
      }
      for (const s of b.strings) t.strings.push(s);
      while (t.memos.length < b.rests) t.memos.push(new AppendMemo());
      return t;
    },
  };
  return cache;
}

export interface LineBatchOptions {
  defaults: LineDefaults;
  skipInvalid: boolean;
  batchSize: number;
  onSkip: (e: InputError) => void;
  /** Go on after this line of the file, with the counts up to it (another reader took the lines before). */
  after?: { line: number; lines: number; skipped: number };
  /** Read the file's first `end` bytes only (watch: its complete lines, the one being written left for later). */
  end?: number;
  /** Read a plain file from a line on (watch: a file that only grew since its lines before were read). */
  from?: LinesFromTag;
  /** The line context to parse with (default: a new one): a reader that hands its cache on to another keeps it (see handOverReader). */
  context?: LineContext;
  /** The wire builder (lineWireBatches; default: a new one), likewise. */
  builder?: WireBuilder;
}

/**
 * Where a reader goes on (LinesFrom), with the input's tag (LineContext.tag) where an event
 * came before there: the lines after it are keyed as a read of the whole file keys them.
 */
export interface LinesFromTag extends LinesFrom {
  tag: number | undefined;
}

/**
 * An input's tag (LineContext.tag): its first event's, read as batchesOf reads it (blanks passed,
 * a bad line passed as a skipped one is); undefined where no line before `end` makes an event.
 */
export async function inputTag(file: string, defaults: LineDefaults, end?: number): Promise<number | undefined> {
  const ctx = lineContext(file, defaults);
  for await (const chunk of readTextChunks(file, undefined, end)) {
    for (let i = 0; i < chunk.texts.length; i++) {
      if (blank(chunk.texts[i])) continue;
      try {
        parseLine(chunk.texts[i], chunk.first + i, ctx);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
      if (ctx.tag !== undefined) return ctx.tag;
    }
  }
  return undefined;
}

/** A line with nothing to read (an empty line or blanks). */
const blank = (text: string): boolean => text.length === 0 || (text.charCodeAt(0) !== 123 && text.trim() === '');

/** What a reader of wire batches hands, between batches, to one in another thread that goes on from the next line (see takeOverReader). */
export interface ReaderHandOver {
  lines: LineCacheHandOver;
  tables: TablesHandOver;
}

/** The line cache and table set of a reader (the context and builder it was given), between batches. */
export function handOverReader(context: LineContext, builder: WireBuilder): ReaderHandOver {
  const tables = builder.handOver();
  return { lines: handOverCache(context, tables === null ? undefined : builder.batch), tables };
}

/** A context and builder that go on with what another reader handed over: its batches decode with the decoder of that reader's batches. */
export function takeOverReader(file: string, defaults: LineDefaults, h: ReaderHandOver, tablesLimit?: number): { context: LineContext; builder: WireBuilder } {
  const context = lineContext(file, defaults);
  const builder = WireBuilder.takeOver(h.tables, tablesLimit);
  takeOverCache(context, h.lines, h.tables === null ? undefined : builder.batch);
  return { context, builder };
}

/** Where parsed lines go until a batch is full; take() hands the batch over with the counts so far. */
interface BatchSink<T> {
  add(ev: LineEvent | LineHit): void;
  readonly count: number;
  take(lines: number, bytes: number, skipped: number, last?: number): T;
}

/**
 * Observation lines to batches: parses each line (a bad one throws, unless skipped) into
 * the sink, and yields the sink's batch when it is full and at the end.
 */
async function* batchesOf<T>(file: string, o: LineBatchOptions, sink: BatchSink<T>): AsyncGenerator<T> {
  const st: ParseState = { file, lines: o.after?.lines ?? 0, skipped: o.after?.skipped ?? 0, after: o.after?.line ?? 0, ctx: o.context };
  // the lines before `from` named the input: its later lines are keyed by that tag
  if (o.from?.tag !== undefined) (st.ctx ??= lineContext(file, o.defaults)).tag ??= o.from.tag;
  let bytes = o.from?.offset ?? 0;
  const chunks = readTextChunks(file, undefined, o.end, o.from);
  for (;;) {
    let next: IteratorResult<TextChunk>;
    try {
      next = await chunks.next();
    } catch (e) {
      // The input failed to read (a gzip cut off, damaged, or with bytes after its end): its whole
      // lines before that go in as a batch, as a big input's batches before it did, so that what
      // is committed does not hang on where a batch happened to end.
      if (sink.count) yield used(sink.take(st.lines, bytes, st.skipped), st);
      throw e;
    }
    if (next.done) break;
    const chunk = next.value;
    bytes = chunk.bytes;
    for (let i = 0; i < chunk.texts.length; ) {
      i = parseInto(chunk, i, st, o, sink);
      if (sink.count >= o.batchSize) yield used(sink.take(st.lines, bytes, st.skipped, chunk.first + i - 1), st);
    }
  }
  yield used(sink.take(st.lines, bytes, st.skipped), st);
}

/** A batch with the defaults its reader's lines took so far. */
function used<T>(b: T, st: ParseState): T {
  (b as { used?: number }).used = st.ctx?.used ?? 0;
  return b;
}

/** What batchesOf's reading has counted, and the line context it parses with. */
interface ParseState {
  readonly file: string;
  lines: number;
  skipped: number;
  /** The file's last line read before (LineBatchOptions.after), 0 for none. */
  readonly after: number;
  ctx: LineContext | undefined;
}

/**
 * Parses a chunk's lines from index `i` into the sink until it holds a batch or the chunk
 * ends; the index after the last line read. A function of its own: the line loop is what
 * grows hot, and a small function is cheap for TurboFan to compile, where batchesOf, an async
 * generator, took 8-15 ms of compiling in every process (--trace-opt).
 */
function parseInto<T>(chunk: TextChunk, i: number, st: ParseState, o: LineBatchOptions, sink: BatchSink<T>): number {
  const texts = chunk.texts;
  for (; i < texts.length; i++) {
    const text = texts[i];
    if (blank(text)) continue;
    if (chunk.first + i <= st.after) {
      // Read before (o.after) and counted there; parsed only until the input's first event
      // names it (LineContext.tag: the idempotency keys of the lines after it).
      if (st.ctx?.tag === undefined) {
        st.ctx ??= lineContext(st.file, o.defaults, text);
        try {
          parseLine(text, chunk.first + i, st.ctx);
        } catch {
          /* a bad line: said and counted before */
        }
      }
      continue;
    }
    st.lines++;
    const ctx = (st.ctx ??= lineContext(st.file, o.defaults, text));
    try {
      sink.add(parseLine(text, chunk.first + i, ctx));
    } catch (e) {
      if (!(e instanceof InputError) || !o.skipInvalid) throw e;
      st.skipped++;
      o.onSkip(e);
      continue;
    }
    if (sink.count >= o.batchSize) return i + 1;
  }
  return i;
}

/** Observation lines straight to wire batches (the worker's loop: no event outlives its line). */
export function lineWireBatches(file: string, o: LineBatchOptions): AsyncGenerator<WireBatch> {
  return batchesOf(file, o, o.builder ?? new WireBuilder());
}

/** A CodeId on the wire: JSON, with ints past 2**53 (a closure_hash) as {"int": "decimal"}. */
function codeToWire(c: CodeId): string {
  return JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? { int: v.toString() } : v));
}
function codeFromWire(json: string): CodeId {
  return JSON.parse(json, (_k, v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.int === 'string' && Object.keys(v).length === 1 ? toPyInt(BigInt(v.int)) : v)) as CodeId;
}
