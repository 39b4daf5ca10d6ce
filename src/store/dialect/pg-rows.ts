/**
 * A page of raw rows across the PostgreSQL bridge (pg-worker.ts to postgres.ts). The worker's
 * answer is structured-cloned to the store's thread, a cost per value that for the log's
 * scans (rows of integers, a million a replay) came near the fold's own; rows of numbers and
 * nulls only go instead as one Float64Array and a null mask, copied whole. Any other row (a
 * string, a boolean, a buffer) and the page goes as it is.
 */
export interface PackedRows {
  width: number;
  values: Float64Array;
  /** 1 where the value is SQL null (its slot in values is 0). */
  nulls: Uint8Array;
  /** Where columns hold text (rows read by COPY, copyRows): 1 for each such column, whose values index strings. */
  texts?: Uint8Array;
  strings?: string[];
}

/**
 * A typed array over shared memory: it crosses the bridge by reference, where an ordinary
 * one is copied out and in again (structured clone). Each is made for one crossing and never
 * written after it (the side that made it lets go), so no two threads touch it at once.
 */
function shared<T extends Float64Array | Uint8Array | Uint16Array>(of: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new of(new SharedArrayBuffer(n * of.BYTES_PER_ELEMENT));
}

/** The rows as PackedRows, or undefined where a value is neither a number nor null. */
export function packRows(rows: readonly unknown[][], width: number): PackedRows | undefined {
  const n = rows.length * width;
  const values = shared(Float64Array, n);
  const nulls = shared(Uint8Array, n);
  let k = 0;
  for (const row of rows) {
    if (row.length !== width) return undefined;
    for (let j = 0; j < width; j++, k++) {
      const v = row[j];
      if (typeof v === 'number') values[k] = v;
      else if (v === null) nulls[k] = 1;
      else return undefined;
    }
  }
  return { width, values, nulls };
}

/** The rows packRows (or copyRows) was given, value for value (-0, NaN and infinities included). */
export function unpackRows(p: PackedRows): unknown[][] {
  const { width, values, nulls, texts, strings } = p;
  const rows: unknown[][] = new Array(values.length / width);
  for (let i = 0, k = 0; i < rows.length; i++) {
    const row: unknown[] = new Array(width);
    for (let j = 0; j < width; j++, k++) row[j] = nulls[k] === 1 ? null : texts !== undefined && texts[j] === 1 ? strings![values[k]] : values[k];
    rows[i] = row;
  }
  return rows;
}

/**
 * float8[]'s type oid. A raw read of a lone float8[] column comes as its elements, one a row
 * (copyRows; pg-worker.ts's answer for its first, text, run): a page of numbers aggregated by
 * the server (`array_agg`) crosses as one CopyData message, where a row each cost the server
 * and the worker a message each (replay's scan).
 */
export const FLOAT8_ARRAY = 1022;

/**
 * The column types (PostgreSQL type oids) whose binary COPY output copyRows reads into the
 * value the text protocol gives (pg-worker.ts's parsers: int8, xid8 as Number, float8 as
 * parseFloat of its shortest text), and how: int2, int4, int8, xid8, float8, text, varchar,
 * and a lone float8[] (its elements, FLOAT8_ARRAY).
 * Any other type (float4's binary is not its text's double, bool is no number) keeps the
 * rows' text.
 */
const COPY_TYPES = new Map<number, 'int' | 'uint' | 'float' | 'text' | 'floats'>([
  [21, 'int'],
  [23, 'int'],
  [20, 'int'],
  [5069, 'uint'],
  [701, 'float'],
  [25, 'text'],
  [1043, 'text'],
  [FLOAT8_ARRAY, 'floats'],
]);

/** Whether copyRows reads every one of these column types (a float8[] only as the one column). */
export const copyReads = (types: readonly number[]): boolean => types.length > 0 && types.every((t) => COPY_TYPES.has(t) && (t !== FLOAT8_ARRAY || types.length === 1));

const TWO_21 = 2097152;

/**
 * The rows of a `COPY (select ...) TO STDOUT (FORMAT binary)` whose columns have these types
 * (copyReads), packed: numbers into values, text as an index into the page's strings (each
 * distinct string once). A scan's page this way reaches the worker as one buffer, not a
 * string per value for pg to parse: a third of the worker's time on replay's scan.
 */
export function copyRows(data: Uint8Array, types: readonly number[]): PackedRows {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // decoded as pg decodes a text value (Buffer's UTF-8)
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const width = types.length;
  const how = types.map((t) => COPY_TYPES.get(t)!);
  for (let i = 0; i < BINARY_SIGNATURE.length; i++) if (data[i] !== BINARY_SIGNATURE[i]) throw new Error('COPY binary: no signature');
  let at = BINARY_SIGNATURE.length + 4;
  at += 4 + view.getInt32(at); // header extension
  // rows first (their count unknown until the trailer): each value at most one slot
  let values = new Float64Array(1024 * width);
  let nulls = new Uint8Array(1024 * width);
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  let k = 0;
  const grow = () => {
    const v = new Float64Array(values.length * 2);
    v.set(values);
    values = v;
    const n = new Uint8Array(nulls.length * 2);
    n.set(nulls);
    nulls = n;
  };
  for (;;) {
    const fields = view.getInt16(at);
    at += 2;
    if (fields === -1) break;
    if (fields !== width) throw new Error(`COPY binary: ${fields} fields, ${width} expected`);
    if (how[0] === 'floats') {
      // array_send: dimensions, a null flag, the element type, each dimension's size and lower bound, then each element (a length, -1 for null, and its float8)
      const len = view.getInt32(at);
      at += 4;
      if (len === -1) continue;
      const end = at + len;
      const dims = view.getInt32(at);
      if (dims > 1) throw new Error(`COPY binary: a float8 array of ${dims} dimensions`);
      const count = dims === 0 ? 0 : view.getInt32(at + 12);
      at += 12 + 8 * dims;
      for (let e = 0; e < count; e++, k++) {
        if (k + 1 > values.length) grow();
        const n = view.getInt32(at);
        at += 4;
        if (n === -1) {
          nulls[k] = 1;
          values[k] = 0;
          continue;
        }
        if (n !== 8) throw new Error(`COPY binary: a float8 of ${n} bytes`);
        nulls[k] = 0;
        values[k] = view.getFloat64(at);
        at += 8;
      }
      if (at !== end) throw new Error('COPY binary: a float8 array whose length is not its elements\'');
      continue;
    }
    if (k + width > values.length) grow();
    for (let j = 0; j < width; j++, k++) {
      const len = view.getInt32(at);
      at += 4;
      if (len === -1) {
        nulls[k] = 1;
        values[k] = 0;
        continue;
      }
      nulls[k] = 0;
      const h = how[j];
      if (h === 'uint') {
        if (len !== 8) throw new Error(`COPY binary: an xid8 of ${len} bytes`);
        const hi = view.getUint32(at);
        values[k] = hi < TWO_21 ? hi * TWO_32 + view.getUint32(at + 4) : Number(view.getBigUint64(at));
      } else if (h === 'int') {
        if (len === 8) {
          const hi = view.getInt32(at);
          // exact below 2^53; beyond, rounded once, as Number() of its text rounds it
          values[k] = hi > -TWO_21 && hi < TWO_21 ? hi * TWO_32 + view.getUint32(at + 4) : Number(view.getBigInt64(at));
        } else if (len === 4) values[k] = view.getInt32(at);
        else if (len === 2) values[k] = view.getInt16(at);
        else throw new Error(`COPY binary: an integer of ${len} bytes`);
      } else if (h === 'float') {
        if (len !== 8) throw new Error(`COPY binary: a float8 of ${len} bytes`);
        values[k] = view.getFloat64(at);
      } else {
        const text = buf.toString('utf8', at, at + len);
        let x = stringIndex.get(text);
        if (x === undefined) {
          stringIndex.set(text, (x = strings.length));
          strings.push(text);
        }
        values[k] = x;
      }
      at += len;
    }
  }
  const texts = how.some((h) => h === 'text') ? Uint8Array.from(how, (h) => (h === 'text' ? 1 : 0)) : undefined;
  const v = shared(Float64Array, k);
  v.set(values.subarray(0, k));
  const nl = shared(Uint8Array, k);
  nl.set(nulls.subarray(0, k));
  return { width, values: v, nulls: nl, ...(texts ? { texts, strings } : {}) };
}

/**
 * A batch of events for COPY, across the bridge: the numeric columns of EventRow (all but kind
 * and compile_id, in EventRow's order) packed, each kind as an index into the batch's kinds,
 * and the compile ids where any is set. The worker writes the binary COPY (copyBinary), off
 * the store's thread.
 */
export interface PackedEvents {
  numbers: PackedRows;
  kinds: string[];
  kindOf: Uint16Array;
  compileIds: (string | null)[] | null;
}

/** EventRow's columns that packEvents packs as numbers. */
const NUMERIC = [0, 2, 3, 4, 5, 6, 7, 8, 10] as const;

/** The batch as PackedEvents, or undefined where a column holds what its type does not (the caller then inserts the batch). */
export function packEvents(rows: readonly (readonly unknown[])[]): PackedEvents | undefined {
  const n = rows.length;
  const width = NUMERIC.length;
  const values = shared(Float64Array, n * width);
  const nulls = shared(Uint8Array, n * width);
  const kinds: string[] = [];
  const kindIndex = new Map<string, number>();
  const kindOf = shared(Uint16Array, n);
  let compileIds: (string | null)[] | null = null;
  for (let i = 0, k = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== 11) return undefined;
    for (let j = 0; j < width; j++, k++) {
      const v = r[NUMERIC[j]];
      // time (EventRow's 5th) is a float8; the others int8, of at most 53 bits
      if (typeof v === 'number' && (NUMERIC[j] === 5 || Number.isSafeInteger(v))) values[k] = v;
      else if (v === null) nulls[k] = 1;
      else return undefined;
    }
    const kind = r[1];
    if (typeof kind !== 'string') return undefined;
    let x = kindIndex.get(kind);
    if (x === undefined) {
      if (kinds.length === 0xffff) return undefined;
      kindIndex.set(kind, (x = kinds.length));
      kinds.push(kind);
    }
    kindOf[i] = x;
    const compileId = r[9];
    if (compileId !== null) {
      if (typeof compileId !== 'string') return undefined;
      compileIds ??= new Array(n).fill(null);
      compileIds[i] = compileId;
    }
  }
  return { numbers: { width, values, nulls }, kinds, kindOf, compileIds };
}

/** EventRow's idempotency key among PackedEvents' numbers (pg-rows.ts NUMERIC: its last). */
export const KEY_AT = 8;

/** A key twice in the batch: only the insert that skips taken keys keeps the first. */
export function repeatsKey(events: PackedEvents): boolean {
  const { values, nulls, width } = events.numbers;
  // Rising keys (a line input's: its tag, then the line) cannot repeat: no set of them needed.
  let rising = true;
  for (let k = KEY_AT + width; k < values.length && rising; k += width) rising = nulls[k] === 0 && nulls[k - width] === 0 && values[k] > values[k - width];
  if (rising) return false;
  const keys = new Set<number>();
  for (let k = KEY_AT; k < values.length; k += width) {
    if (nulls[k] === 1) continue; // the COPY refuses it (not null)
    if (keys.has(values[k])) return true;
    keys.add(values[k]);
  }
  return false;
}

/** COPY's binary format: its signature, flags and header extension; each row then its field count, each field its byte length (-1: null) and bytes; -1 ends. */
const BINARY_SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** position, then EventRow's 11 columns. */
const FIELDS = 12;
const TWO_32 = 4294967296;

/**
 * The binary COPY of a packed batch at positions from `first` on (a batch takes its positions
 * as one block, so they run without a gap: no array of them is made): columns position, then
 * EventRow's (EVENT_COLUMNS). Binary, not text: no number is written as a string and parsed back (the
 * text cost the worker most of its time and garbage, and the server a parse per value).
 * Integers go as int8, the time as float8; the text columns as UTF-8, as Buffer writes it.
 * Rows `from` to `to` only (all by default): the header goes with the first row, the trailer
 * with the last, so the parts of a batch, written one after another, are its whole COPY (the
 * worker streams a batch in parts: the server inserts the first while the next is written).
 * `reserve` bytes are left at the start for the caller (the worker writes its CopyData
 * message's header there: the part goes out as it is, not copied into another buffer), and
 * `alloc` gives the buffer written (the worker's reuses the parts its socket has written).
 */
export function copyBinary(first: number, p: PackedEvents, from = 0, to = p.kindOf.length, reserve = 0, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Uint8Array {
  const count = p.kindOf.length;
  const kindBytes = p.kinds.map((k) => Buffer.from(k, 'utf8'));
  const compileBytes = p.compileIds === null ? null : new Array<Buffer | null>(to - from);
  const size = reserve + (from === 0 ? BINARY_SIGNATURE.length + 8 : 0) + (to === count ? 2 : 0) + rowsSize(p, kindBytes, compileBytes, from, to);
  const out = alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = reserve;
  if (from === 0) {
    out.set(BINARY_SIGNATURE, at);
    at += BINARY_SIGNATURE.length;
    view.setInt32(at, 0); // flags: no OIDs
    view.setInt32(at + 4, 0); // header extension: none
    at += 8;
  }
  at = writeRows(out, view, at, first, p, kindBytes, compileBytes, from, to);
  if (to === count) {
    view.setInt16(at, -1);
    at += 2;
  }
  // a null writes no value: less than reckoned
  return at === size ? out : out.subarray(0, at);
}

/*
 * The loops of copyBinary are functions of their own, which end with a number: a loop that V8
 * compiles as it runs (on-stack replacement) is compiled before the code after it has run,
 * and code after it that had not (the trailer of a batch's last part) threw that compiled
 * code away again at every batch (--trace-deopt: "insufficient type feedback").
 */

/** The bytes of rows `from` to `to`, their compile ids as UTF-8 into compileBytes. */
function rowsSize(p: PackedEvents, kindBytes: readonly Buffer[], compileBytes: (Buffer | null)[] | null, from: number, to: number): number {
  let size = (to - from) * (2 + FIELDS * 4 + 10 * 8);
  for (let i = from; i < to; i++) {
    size += kindBytes[p.kindOf[i]].length;
    if (compileBytes === null) continue;
    const c = p.compileIds![i];
    const b = (compileBytes[i - from] = c === null ? null : Buffer.from(c, 'utf8'));
    if (b !== null) size += b.length;
  }
  return size;
}

/** Rows `from` to `to` written at `at`: where they end. */
function writeRows(out: Buffer, view: DataView, at: number, first: number, p: PackedEvents, kindBytes: readonly Buffer[], compileBytes: readonly (Buffer | null)[] | null, from: number, to: number): number {
  const { values, nulls, width } = p.numbers;
  const kindOf = p.kindOf;
  // One loop over the rows, its writes inline (helpers closing over `at` cost a third more):
  // each int8 as its length then high and low words (every integer stored fits 53 bits,
  // packEvents checks; most are ids and positions, whose high word is 0 with no division),
  // a null as length -1 and no value.
  for (let i = from, k = from * width; i < to; i++, k += width) {
    view.setInt16(at, FIELDS);
    at += 2;
    // EventRow: profile_id, kind, code_id, source_id, body_id, time, run_id, origin_id, origin_line, compile_id, idempotency_key
    let v = first + i;
    let hi = v < TWO_32 ? 0 : Math.floor(v / TWO_32);
    view.setInt32(at, 8);
    view.setInt32(at + 4, hi);
    view.setUint32(at + 8, v - hi * TWO_32);
    at += 12;
    for (let j = 0; j < width; j++) {
      if (j === 1) {
        const b = kindBytes[kindOf[i]];
        view.setInt32(at, b.length);
        out.set(b, at + 4);
        at += 4 + b.length;
      } else if (j === 8) {
        const b = compileBytes === null ? null : compileBytes[i - from];
        if (b === null) {
          view.setInt32(at, -1);
          at += 4;
        } else {
          view.setInt32(at, b.length);
          out.set(b, at + 4);
          at += 4 + b.length;
        }
      }
      if (nulls[k + j] === 1) {
        view.setInt32(at, -1);
        at += 4;
        continue;
      }
      v = values[k + j];
      view.setInt32(at, 8);
      if (j === 4) {
        // the time, a float8: -0 as 0, as the text format wrote it
        view.setFloat64(at + 4, v + 0);
      } else {
        hi = v >= 0 && v < TWO_32 ? 0 : Math.floor(v / TWO_32);
        view.setInt32(at + 4, hi);
        view.setUint32(at + 8, v - hi * TWO_32);
      }
      at += 12;
    }
  }
  return at;
}

/**
 * The statement that records a batch's transaction and its range of positions in
 * event_transactions (the follower's index of the log, postgres.ts readAfter), from `select`
 * (its transaction, first and last position: pg_current_xact_id(), in the batch's own
 * statement, so in its transaction); a second batch of the transaction widens the range.
 */
export function recordTransaction(select: string): string {
  return `insert into event_transactions(transaction_id, first_position, last_position) ${select}
    on conflict (transaction_id) do update set first_position = least(event_transactions.first_position, excluded.first_position),
      last_position = greatest(event_transactions.last_position, excluded.last_position)`;
}
