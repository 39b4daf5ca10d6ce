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
}

/** The rows as PackedRows, or undefined where a value is neither a number nor null. */
export function packRows(rows: readonly unknown[][], width: number): PackedRows | undefined {
  const n = rows.length * width;
  const values = new Float64Array(n);
  const nulls = new Uint8Array(n);
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

/** The rows packRows was given, value for value (-0, NaN and infinities included). */
export function unpackRows(p: PackedRows): unknown[][] {
  const { width, values, nulls } = p;
  const rows: unknown[][] = new Array(values.length / width);
  for (let i = 0, k = 0; i < rows.length; i++) {
    const row: unknown[] = new Array(width);
    for (let j = 0; j < width; j++, k++) row[j] = nulls[k] === 1 ? null : values[k];
    rows[i] = row;
  }
  return rows;
}

/**
 * A batch of events for COPY, across the bridge: the numeric columns of EventRow (all but kind
 * and compile_id, in EventRow's order) packed, each kind as an index into the batch's kinds,
 * and the compile ids where any is set. The worker writes the COPY text (copyText), off the
 * store's thread.
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
  const values = new Float64Array(n * width);
  const nulls = new Uint8Array(n * width);
  const kinds: string[] = [];
  const kindIndex = new Map<string, number>();
  const kindOf = new Uint16Array(n);
  let compileIds: (string | null)[] | null = null;
  for (let i = 0, k = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== 11) return undefined;
    for (let j = 0; j < width; j++, k++) {
      const v = r[NUMERIC[j]];
      if (typeof v === 'number') values[k] = v;
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

/** A value in COPY's text format: \N for null; backslash, tab, newline and carriage return escaped. */
export function copyValue(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]) : v;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** The COPY text of a packed batch at its positions: columns position, then EventRow's (EVENT_COLUMNS), a line a row. */
export function copyText(positions: readonly number[], p: PackedEvents): string {
  const { values, nulls, width } = p.numbers;
  const num = (k: number) => (nulls[k] === 1 ? '\\N' : String(values[k]));
  const parts: string[] = new Array(positions.length);
  for (let i = 0, k = 0; i < positions.length; i++, k += width) {
    const compileId = p.compileIds === null ? '\\N' : copyValue(p.compileIds[i]);
    // EventRow: profile_id, kind, code_id, source_id, body_id, time, run_id, origin_id, origin_line, compile_id, idempotency_key
    parts[i] = `${positions[i]}\t${num(k)}\t${copyValue(p.kinds[p.kindOf[i]])}\t${num(k + 1)}\t${num(k + 2)}\t${num(k + 3)}\t${num(k + 4)}\t${num(k + 5)}\t${num(k + 6)}\t${num(k + 7)}\t${compileId}\t${num(k + 8)}\n`;
  }
  return parts.join('');
}
