import { intRepr, isPyInt, toPyInt, type PyInt } from './int.ts';

/**
 * A plain Python value held by a field this version of pgo-ledger does not know (a newer
 * PyTorch's dataclass field): None, bool, int, str, or a tuple of these. Kept as read and
 * written back, so an export does not lose it.
 */
export type PyPlain = null | boolean | PyInt | string | readonly PyPlain[];
/** Unknown fields of one object, in the order they came. */
export type PyFields = readonly (readonly [string, PyPlain])[];

/**
 * How deep tuples in an unknown field may nest: CPython's pickler stops at its recursion
 * limit (1000) before this, so no profile PyTorch writes is refused, and every reader and
 * writer of these values (JSON.stringify included) can recurse this deep.
 */
export const MAX_PLAIN_DEPTH = 1000;

export function isPyPlain(v: unknown, depth = 0): v is PyPlain {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || isPyInt(v)) return true;
  if (!Array.isArray(v) || depth >= MAX_PLAIN_DEPTH) return false;
  for (const x of v) if (!isPyPlain(x, depth + 1)) return false;
  return true;
}

/** Python's repr(). */
export function plainRepr(v: PyPlain): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyStrRepr(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${plainRepr(v[0])},)` : `(${v.map(plainRepr).join(', ')})`;
  return intRepr(v as PyInt);
}

/** repr() of a str, for the common cases (quotes chosen as Python does; \\, \n, \t escaped). */
function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

/** JSON form: ints as {"int": "decimal"} (so any size is exact and a str stays a str), tuples as arrays. */
export type PlainJson = null | boolean | string | { int: string } | PlainJson[];
export function plainToJson(v: PyPlain): PlainJson {
  if (Array.isArray(v)) return v.map(plainToJson);
  if (isPyInt(v)) return { int: intRepr(v) };
  return v as null | boolean | string;
}
export function plainFromJson(j: unknown): PyPlain {
  if (j === null || typeof j === 'boolean' || typeof j === 'string') return j;
  if (Array.isArray(j)) return j.map(plainFromJson);
  if (typeof j === 'object' && typeof (j as { int?: unknown }).int === 'string' && /^-?\d+$/.test((j as { int: string }).int)) {
    return toPyInt(BigInt((j as { int: string }).int));
  }
  throw new RangeError(`not a plain Python value: ${JSON.stringify(j)}`);
}
export function fieldsToJson(f: PyFields): [string, PlainJson][] {
  return f.map(([k, v]) => [k, plainToJson(v)]);
}
export function fieldsFromJson(j: unknown): PyFields {
  if (!Array.isArray(j)) throw new RangeError('extra fields: not a list');
  return j.map((x) => {
    if (!Array.isArray(x) || x.length !== 2 || typeof x[0] !== 'string') throw new RangeError(`extra field: ${JSON.stringify(x)}`);
    return [x[0], plainFromJson(x[1])] as const;
  });
}
/** A stable text of unknown fields (for identity keys and table columns). */
export function plainsKey(f: PyFields): string {
  return JSON.stringify(fieldsToJson(f));
}
