/**
 * Python ints have no size limit; profiles hold values up to ±2**40 and beyond.
 * A PyInt is a JS number while it is a safe integer and a bigint past that, always in
 * that canonical form, so `===` is value equality.
 */
export type PyInt = number | bigint;

export function toPyInt(v: number | bigint): PyInt {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
  return Number.isSafeInteger(v) ? v : BigInt(v);
}

export function isPyInt(v: unknown): v is PyInt {
  return (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';
}

export function mulInt(a: PyInt, b: PyInt): PyInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const p = a * b;
    if (Number.isSafeInteger(p)) return p === 0 ? 0 : p; // no -0
  }
  return toPyInt(BigInt(a) * BigInt(b));
}

/** Python's repr/str of an int. */
export function intRepr(v: PyInt): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}
