import { intRepr, type PyInt } from './int.ts';

/**
 * A Python float. With `torch._dynamo.config.specialize_float = False`, Dynamo's wrap_symfloat
 * records `FrameStateSizeEntry.make_scalar(<float>)`, so a profile's scalar may be one. A class,
 * not a bare number, because a JS number cannot tell `2.0` from `2`, which Python prints apart.
 */
export class PyFloat {
  /**
   * `nanBits`: a nan's IEEE bits (16 hex digits, big-endian) where they are not float('nan')'s
   * 7ff8000000000000: CPython keeps a nan's sign and payload through pickle.loads and dumps
   * (x86's inf - inf is fff8…), and a JS number cannot (trial s26b: an export one byte off).
   */
  constructor(
    readonly value: number,
    readonly nanBits?: string,
  ) {}
}

/** float('nan')'s bits, which a nan of no other bits is written as. */
export const CANONICAL_NAN = '7ff8000000000000';

/** A nan of these bits (16 hex digits): undefined where they are no nan's. */
export function nanOfBits(bits: string): PyFloat | undefined {
  if (!/^[0-9a-f]{16}$/.test(bits)) return undefined;
  const hi = parseInt(bits.slice(0, 8), 16);
  const lo = parseInt(bits.slice(8), 16);
  // exponent all ones, a fraction not zero
  if ((hi & 0x7ff00000) !== 0x7ff00000 || ((hi & 0xfffff) === 0 && lo === 0)) return undefined;
  return new PyFloat(NaN, bits === CANONICAL_NAN ? undefined : bits);
}

/** Python's `repr()`/`str()` of a float: shortest round-trip digits, as `float_repr_style='short'`. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest digits that read back (as repr's 'r' does)
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  // PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0): exponent form when decpt <= -4 or decpt > 16
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
}

/** A float as Python's `repr()` prints it, back (undefined if it is not such a text). */
export function floatFromRepr(s: string): PyFloat | undefined {
  if (s === 'nan') return new PyFloat(NaN);
  if (s === 'inf') return new PyFloat(Infinity);
  if (s === '-inf') return new PyFloat(-Infinity);
  // a point or an exponent: an int's text is not a float's
  if (!/^-?\d+(\.\d+(e[+-]\d+)?|e[+-]\d+)$/.test(s)) return undefined;
  const f = new PyFloat(Number(s));
  return floatRepr(f.value) === s ? f : undefined;
}

/** Python's `str()` of a scalar that is a number: an int's digits, or a float's repr. */
export function numberRepr(v: PyInt | PyFloat): string {
  return v instanceof PyFloat ? floatRepr(v.value) : intRepr(v);
}
