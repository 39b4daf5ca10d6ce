import { atomEq, DYNAMIC, UNSET, type Atom, type Dynamic, type ScalarValue, type SizeAtom, type SizeField, type StrideAtom, type StrideField, type Unset } from './atoms.ts';
import type { PyInt } from './int.ts';

/** `FrameStateSizeEntry`: what is known of one input source of one code object. */
export interface FrameStateSizeEntry {
  scalar: ScalarValue;
  size: SizeField;
  stride: StrideField;
}

export function emptyEntry(): FrameStateSizeEntry {
  return { scalar: UNSET, size: UNSET, stride: UNSET };
}

/** `FrameStateSizeEntry.make_scalar` */
export function makeScalar(x: PyInt): FrameStateSizeEntry {
  return { scalar: x, size: DYNAMIC, stride: DYNAMIC };
}

/** `FrameStateSizeEntry.make_tensor` (strides already through inferStrides). */
export function makeTensor(size: readonly SizeAtom[], stride: readonly StrideAtom[]): FrameStateSizeEntry {
  return { scalar: DYNAMIC, size: size.slice(), stride: stride.slice() };
}

/** `FrameStateSizeEntry.make_size` */
export function makeSize(size: readonly PyInt[]): FrameStateSizeEntry {
  return { scalar: UNSET, size: [...size], stride: UNSET };
}

/** `_merge_atom`: returns x itself when equal, as PyTorch does (object identity matters for pickling). */
export function mergeAtom<T extends Atom>(x: T, y: T): T | Dynamic {
  if (x === UNSET) return y;
  if (y === UNSET) return x;
  if (x === DYNAMIC || y === DYNAMIC || !atomEq(x, y)) return DYNAMIC;
  return x;
}

/** `_merge_atom_tup`: tuples of different lengths join to dynamic. */
export function mergeAtomTup<T extends Atom>(xs: readonly T[] | Dynamic | Unset, ys: readonly T[] | Dynamic | Unset): readonly (T | Dynamic)[] | Dynamic | Unset {
  if (xs === UNSET) return ys;
  if (ys === UNSET) return xs;
  if (xs === DYNAMIC || ys === DYNAMIC) return DYNAMIC;
  if (xs.length !== ys.length) return DYNAMIC;
  const out = new Array<T | Dynamic>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = mergeAtom(xs[i], ys[i]);
  return out;
}

/** `self |= other`, in place, as `FrameStateSizeEntry.__ior__`. */
export function joinInto(self: FrameStateSizeEntry, other: FrameStateSizeEntry): FrameStateSizeEntry {
  self.scalar = mergeAtom(self.scalar, other.scalar) as ScalarValue;
  self.size = mergeAtomTup(self.size, other.size) as SizeField;
  self.stride = mergeAtomTup(self.stride, other.stride) as StrideField;
  return self;
}

/** A fresh entry equal to the join of a and b. */
export function join(a: FrameStateSizeEntry, b: FrameStateSizeEntry): FrameStateSizeEntry {
  return joinInto({ ...a }, b);
}

export type { Unset };
