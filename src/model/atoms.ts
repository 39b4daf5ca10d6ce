import { PyFloat } from './float.ts';
import type { PyInt } from './int.ts';

/** `auto_dynamic` (AutoDynamic.token): the top of the lattice. */
export const DYNAMIC: unique symbol = Symbol.for('pgo.AutoDynamic.token');
/** `auto_unset` (AutoUnset.token): the identity of the join. */
export const UNSET: unique symbol = Symbol.for('pgo.AutoUnset.token');
export type Dynamic = typeof DYNAMIC;
export type Unset = typeof UNSET;

/**
 * `InferStride(dim)`: stride[dim] * size[dim]. Objects, not numbers, because PyTorch's
 * pickles share one InferStride between dims that inferred the same candidate, and a
 * byte-exact writer must see that sharing.
 */
export class InferStride {
  readonly dim: number;
  constructor(dim: number) {
    this.dim = dim;
  }
}

export type SizeAtom = PyInt | Dynamic;
export type StrideAtom = PyInt | Dynamic | InferStride;
/** A float only with specialize_float=False (wrap_symfloat's make_scalar): see float.ts. */
export type ScalarValue = PyInt | PyFloat | Dynamic | Unset;
/** A tuple field: a Python tuple (a fresh JS array per tuple object), or a token. */
export type SizeField = readonly SizeAtom[] | Dynamic | Unset;
export type StrideField = readonly StrideAtom[] | Dynamic | Unset;
export type Atom = PyInt | PyFloat | Dynamic | Unset | InferStride;

/**
 * Python `x == y` for atoms: ints by value, InferStride by dim, tokens by identity; a float
 * by number, even against an int (`1.0 == 1`), and never a nan, not even itself (`_merge_atom`
 * compares with `!=`, which for floats skips the identity shortcut containers take).
 */
export function atomEq(x: Atom, y: Atom): boolean {
  if (x instanceof PyFloat || y instanceof PyFloat) return numberEq(x, y);
  if (x === y) return true;
  if (x instanceof InferStride) return y instanceof InferStride && x.dim === y.dim;
  return false;
}

/** Python `==` for a tuple field (tuples elementwise, tokens by identity). */
export function fieldEq(x: readonly Atom[] | Dynamic | Unset, y: readonly Atom[] | Dynamic | Unset): boolean {
  if (x === y) return true;
  if (!Array.isArray(x) || !Array.isArray(y)) return false;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!atomEq(x[i], y[i])) return false;
  return true;
}

/** A float against a float or an int, exactly as Python compares them (no rounding of big ints). */
function numberEq(x: Atom, y: Atom): boolean {
  const a = x instanceof PyFloat ? x.value : x;
  const b = y instanceof PyFloat ? y.value : y;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && BigInt(b) === a;
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b;
  return false;
}
