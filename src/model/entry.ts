import { atomEq, DYNAMIC, fieldEq, UNSET, type Atom, type Dynamic, type ScalarValue, type SizeAtom, type SizeField, type StrideAtom, type StrideField, type Unset } from './atoms.ts';
import type { PyFloat } from './float.ts';
import { isPyInt, type PyInt } from './int.ts';
import type { PyFields } from './py-plain.ts';

/** `FrameStateSizeEntry`: what is known of one input source of one code object. */
export interface FrameStateSizeEntry {
  scalar: ScalarValue;
  size: SizeField;
  stride: StrideField;
  /**
   * PyTorch after 2.11: the static values a dim or int had before it turned dynamic
   * (`compare=False`: equality and the lattice ignore them). `undefined`: none recorded
   * (the 2.11 layout has no such fields; the newer one reads it as None).
   */
  excluded_sizes?: readonly (PyInt | null)[] | null;
  excluded_scalar?: PyInt | null;
  /** Fields of a newer layout that this version does not know: kept, and written back. */
  extra?: PyFields;
}

export function emptyEntry(): FrameStateSizeEntry {
  return { scalar: UNSET, size: UNSET, stride: UNSET };
}

/** `FrameStateSizeEntry.make_scalar` (a float with specialize_float=False: wrap_symfloat) */
export function makeScalar(x: PyInt | PyFloat): FrameStateSizeEntry {
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

/**
 * `self |= other`, in place, as `FrameStateSizeEntry.__ior__`, keeping `excluded_sizes` /
 * `excluded_scalar` as upstream does: a tuple size that the join changes leaves its old
 * value (non-ints as None), one that stays clears it; an int scalar that meets another int
 * leaves the old int, an already dynamic scalar clears it.
 */
export function joinInto(self: FrameStateSizeEntry, other: FrameStateSizeEntry): FrameStateSizeEntry {
  if (isPyInt(self.scalar) && isPyInt(other.scalar) && self.scalar !== other.scalar) self.excluded_scalar = self.scalar;
  else if (self.scalar === DYNAMIC && self.excluded_scalar != null) self.excluded_scalar = null;
  self.scalar = mergeAtom(self.scalar, other.scalar) as ScalarValue;
  const xs = self.size;
  if (!Array.isArray(xs)) self.size = mergeAtomTup(xs, other.size) as SizeField;
  else {
    // The join of two tuples of one length, noting whether any dim changed (mergeAtom returns
    // the old atom itself when it stays), so the common case costs no second comparison.
    const ys = other.size;
    let size: SizeField;
    let changed: boolean;
    if (Array.isArray(ys) && ys.length === xs.length) {
      const out = new Array<SizeAtom>(xs.length);
      changed = false;
      for (let i = 0; i < xs.length; i++) {
        const m = mergeAtom(xs[i], ys[i]);
        if (m !== xs[i]) changed = true;
        out[i] = m;
      }
      size = out;
    } else {
      size = mergeAtomTup(xs, ys) as SizeField;
      changed = !fieldEq(xs as readonly Atom[], size as readonly Atom[] | Dynamic | Unset);
    }
    if (changed) self.excluded_sizes = (xs as readonly Atom[]).map((a) => (isPyInt(a) ? a : null));
    else if (self.excluded_sizes != null) self.excluded_sizes = null;
    self.size = size;
  }
  self.stride = mergeAtomTup(self.stride, other.stride) as StrideField;
  return self;
}

/** A fresh entry equal to the join of a and b. */
export function join(a: FrameStateSizeEntry, b: FrameStateSizeEntry): FrameStateSizeEntry {
  return joinInto({ ...a }, b);
}

export type { Unset };

function atomCovers(x: Atom, y: Atom): boolean {
  return y === UNSET || x === DYNAMIC || (x !== UNSET && y !== DYNAMIC && atomEq(x, y));
}

function tupleCovers(xs: readonly Atom[] | Dynamic | Unset, ys: readonly Atom[] | Dynamic | Unset): boolean {
  if (ys === UNSET || xs === DYNAMIC) return true;
  if (xs === UNSET || ys === DYNAMIC || xs.length !== ys.length) return false;
  for (let i = 0; i < xs.length; i++) if (!atomCovers(xs[i], ys[i])) return false;
  return true;
}

/**
 * Whether `self |= other` would leave `self` as it is, excluded fields included (a join that
 * keeps a tuple size clears `excluded_sizes`, and a dynamic scalar clears `excluded_scalar`).
 * Most observations of a long run are such: the fold then skips the join and its records.
 */
export function joinKeeps(self: FrameStateSizeEntry, other: FrameStateSizeEntry): boolean {
  if (self.excluded_sizes != null && Array.isArray(self.size)) return false;
  if (self.excluded_scalar != null && self.scalar === DYNAMIC) return false;
  return covers(self, other);
}

/**
 * Whether `self |= other` leaves `self` equal as PyTorch's `==` sees it: `excluded_sizes` and
 * `excluded_scalar` are `compare=False`, so a join that would only clear them changes nothing.
 */
export function covers(self: FrameStateSizeEntry, other: FrameStateSizeEntry): boolean {
  return atomCovers(self.scalar, other.scalar) && tupleCovers(self.size, other.size) && tupleCovers(self.stride, other.stride);
}
