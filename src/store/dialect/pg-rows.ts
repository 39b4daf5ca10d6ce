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
