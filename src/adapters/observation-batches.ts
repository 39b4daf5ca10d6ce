import type { NewEvent, PreparedEvent } from '../store/ledger.ts';
import { splitPayload } from '../store/events.ts';
import { hash53 } from '../store/hash53.ts';
import { prepareEvent } from '../store/ledger.ts';
import { InputError, lineContext, parseObservationLine, type LineContext, type LineDefaults } from './observation-lines.ts';
import { readLineChunks } from './read-lines.ts';

/**
 * A batch of prepared events in a compact, transferable form: the strings of the batch
 * once each in tables, and one row of numbers per event pointing into them. This is what
 * the ingest worker sends to the writing thread (a Float64Array moves without a copy).
 */
export interface WireBatch {
  keys: string[];
  codes: string[];
  sources: string[];
  jsons: string[];
  strings: string[];
  rows: Float64Array;
  /** Lines read, bytes read and lines skipped so far. */
  lines: number;
  bytes: number;
  skipped: number;
}

export const ROW = 10; // key, code, source, json, auto, time, run, origin, line, compile; idem below
const WIDTH = ROW + 1;

class Table {
  readonly items: string[] = [];
  private readonly index = new Map<string, number>();
  /** Code ids by a cheap key; the table holds their JSON. */
  refCode(c: CodeId): number {
    const k = c.closure_hash === undefined && !c.extra ? `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}\u0000${c.filename}` : codeToWire(c);
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
    if (s === this.last) return this.lastRef; // runs of equal values (job, run, origin) skip the hash
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

/** Builds a wire batch event by event, so no event object outlives its line. */
export class WireBuilder {
  private keys = new Table();
  private codes = new Table();
  private sources = new Table();
  private jsons = new Table();
  private strings = new Table();
  private rows = new Float64Array(1024 * WIDTH);
  count = 0;

  add(e: PreparedEvent | NewEvent): void {
    if (this.rows.length < (this.count + 1) * WIDTH) {
      const r = new Float64Array(this.rows.length * 2);
      r.set(this.rows);
      this.rows = r;
    }
    let o = this.count * WIDTH;
    const r = this.rows;
    let code: CodeId | null, source: string | null, json: string, auto: boolean, keyed: boolean;
    if ('json' in e) ({ code, source, json, automaticDynamic: auto, keyedTime: keyed } = e);
    else {
      ({ code, source, json } = splitPayload(e));
      auto = e.kind === 'shape.observed' ? e.payload.automatic_dynamic : true;
      keyed = e.keyedTime ?? e.time !== undefined;
    }
    r[o++] = this.keys.ref(e.cacheKey);
    r[o++] = code ? this.codes.refCode(code) : -1;
    r[o++] = this.sources.ref(source);
    r[o++] = this.jsons.ref(json);
    r[o++] = (auto ? 1 : 0) | (keyed ? 2 : 0);
    r[o++] = e.time ?? Date.now();
    r[o++] = this.strings.ref(e.run ?? null);
    r[o++] = this.strings.ref(e.origin ?? null);
    r[o++] = e.originLine ?? -1;
    r[o++] = this.strings.ref(e.compileId ?? null);
    r[o++] = 'idem' in e ? e.idem : (e.idempotencyHash ?? hash53(e.idempotencyKey));
    this.count++;
  }

  take(lines: number, bytes: number, skipped: number): WireBatch {
    const b: WireBatch = {
      keys: this.keys.items,
      codes: this.codes.items,
      sources: this.sources.items,
      jsons: this.jsons.items,
      strings: this.strings.items,
      rows: this.rows.slice(0, this.count * WIDTH),
      lines,
      bytes,
      skipped,
    };
    this.keys = new Table();
    this.codes = new Table();
    this.sources = new Table();
    this.jsons = new Table();
    this.strings = new Table();
    this.count = 0;
    return b;
  }
}

export function encodeBatch(events: PreparedEvent[], lines: number, bytes: number, skipped: number): WireBatch {
  const b = new WireBuilder();
  for (const e of events) b.add(e);
  return b.take(lines, bytes, skipped);
}

/** Decodes a wire batch, reusing code and shape objects across batches through `cache`. */
export function decodeBatch(b: WireBatch, cache: BatchCache): PreparedEvent[] {
  const codes = b.codes.map((c) => cache.code(c));
  const shapes = b.jsons.map((j) => cache.shape(j));
  const out: PreparedEvent[] = new Array(b.rows.length / WIDTH);
  const r = b.rows;
  const str = (i: number) => (i < 0 ? null : b.strings[i]);
  for (let k = 0, o = 0; o < r.length; k++, o += WIDTH) {
    out[k] = {
      cacheKey: b.keys[r[o]],
      kind: 'shape.observed',
      code: codes[r[o + 1]],
      source: b.sources[r[o + 2]],
      json: b.jsons[r[o + 3]],
      shape: shapes[r[o + 3]],
      entry: null,
      automaticDynamic: (r[o + 4] & 1) === 1,
      quiet: false,
      record: null,
      guard: null,
      time: r[o + 5],
      keyedTime: (r[o + 4] & 2) === 2,
      run: str(r[o + 6]),
      origin: str(r[o + 7]),
      originLine: r[o + 8] < 0 ? null : r[o + 8],
      compileId: str(r[o + 9]),
      idem: r[o + 10],
    };
  }
  return out;
}

import type { CodeId } from '../model/code-id.ts';
import { shapeFromJson } from '../store/fold.ts';
import type { Shape } from '../model/observation.ts';
import { toPyInt } from '../model/int.ts';

export interface BatchCache {
  code(json: string): CodeId;
  shape(json: string): Shape;
}

/** One CodeId object per code and one Shape per stored body, bounded so memory stays flat. */
export function batchCache(limit = 100_000): BatchCache {
  const codes = new Map<string, CodeId>();
  const shapes = new Map<string, Shape>();
  return {
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
  };
}

export interface LineBatchOptions {
  defaults: LineDefaults;
  /** Decode shapes here too (not in the worker: the writer decodes each distinct one once). */
  withShapes?: boolean;
  skipInvalid: boolean;
  batchSize: number;
  onSkip: (e: InputError) => void;
}

/** Where parsed lines go until a batch is full; take() hands the batch over with the counts so far. */
interface BatchSink<T> {
  add(ev: NewEvent): void;
  readonly count: number;
  take(lines: number, bytes: number, skipped: number): T;
}

/**
 * Observation lines to batches: parses each line (a bad one throws, unless skipped) into
 * the sink, and yields the sink's batch when it is full and at the end.
 */
async function* batchesOf<T>(file: string, o: LineBatchOptions, sink: BatchSink<T>): AsyncGenerator<T> {
  let lines = 0;
  let skipped = 0;
  let bytes = 0;
  let ctx: LineContext | undefined;
  for await (const chunk of readLineChunks(file)) {
    for (const l of chunk) {
      bytes = l.bytes;
      if (l.text.length === 0 || l.text.trim() === '') continue;
      lines++;
      ctx ??= lineContext(file, o.defaults, l.text);
      try {
        sink.add(parseObservationLine(l.text, l.line, ctx));
      } catch (e) {
        if (!(e instanceof InputError) || !o.skipInvalid) throw e;
        skipped++;
        o.onSkip(e);
        continue;
      }
      if (sink.count >= o.batchSize) yield sink.take(lines, bytes, skipped);
    }
  }
  yield sink.take(lines, bytes, skipped);
}

/** Observation lines straight to wire batches (the worker's loop: no event outlives its line). */
export function lineWireBatches(file: string, o: LineBatchOptions): AsyncGenerator<WireBatch> {
  return batchesOf(file, o, new WireBuilder());
}

/** Observation lines to batches of prepared events, parsed on this thread. */
export function lineBatches(file: string, o: LineBatchOptions): AsyncGenerator<{ events: PreparedEvent[]; lines: number; bytes: number; skipped: number }> {
  let events: PreparedEvent[] = [];
  return batchesOf(file, o, {
    add: (ev) => events.push(prepareEvent(ev, o.withShapes)),
    get count() {
      return events.length;
    },
    take: (lines, bytes, skipped) => {
      const out = { events, lines, bytes, skipped };
      events = [];
      return out;
    },
  });
}

/** A CodeId on the wire: JSON, with ints past 2**53 (a closure_hash) as {"int": "decimal"}. */
function codeToWire(c: CodeId): string {
  return JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? { int: v.toString() } : v));
}
function codeFromWire(json: string): CodeId {
  return JSON.parse(json, (_k, v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.int === 'string' && Object.keys(v).length === 1 ? toPyInt(BigInt(v.int)) : v)) as CodeId;
}
