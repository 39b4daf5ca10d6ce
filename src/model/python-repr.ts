import { DYNAMIC, InferStride, UNSET, type Atom } from './atoms.ts';
import type { FrameStateSizeEntry } from './entry.ts';
import { numberRepr } from './float.ts';
import { intRepr } from './int.ts';
import type { TorchLayout } from './profile.ts';
import { plainRepr } from './py-plain.ts';

/** Python's `repr()` of an atom as PyTorch's objects print it. */
export function atomRepr(a: Atom): string {
  if (a === DYNAMIC) return '<AutoDynamic.token: 0>';
  if (a === UNSET) return '<AutoUnset.token: 0>';
  if (a instanceof InferStride) return `InferStride(dim=${a.dim})`;
  return numberRepr(a);
}

/** Python's `str()` of an atom (enum members print as `AutoDynamic.token`). */
export function atomStr(a: Atom): string {
  if (a === DYNAMIC) return 'AutoDynamic.token';
  if (a === UNSET) return 'AutoUnset.token';
  return atomRepr(a);
}

/** `str()`/`repr()` of a tuple field: `()`, `(5,)`, `(2, 3)`, or the token. */
export function fieldStr(f: readonly Atom[] | Atom): string {
  if (!Array.isArray(f)) return atomStr(f as Atom);
  const xs = f as readonly Atom[];
  if (xs.length === 1) return `(${atomRepr(xs[0])},)`;
  return `(${xs.map(atomRepr).join(', ')})`;
}

function fieldRepr(f: readonly Atom[] | Atom): string {
  return Array.isArray(f) ? fieldStr(f) : atomRepr(f as Atom);
}

/**
 * `repr(FrameStateSizeEntry)` (the dataclass repr) in a layout: after 2.11 it shows
 * `excluded_sizes` and `excluded_scalar` too. Fields of a newer layout come last.
 */
export function entryRepr(e: FrameStateSizeEntry, layout: TorchLayout = '2.11'): string {
  let s = `FrameStateSizeEntry(scalar=${atomRepr(e.scalar)}, size=${fieldRepr(e.size)}, stride=${fieldRepr(e.stride)}`;
  if (layout !== '2.11') {
    const ex = e.excluded_sizes;
    s += `, excluded_sizes=${ex == null ? 'None' : plainRepr(ex)}, excluded_scalar=${e.excluded_scalar == null ? 'None' : intRepr(e.excluded_scalar)}`;
  }
  for (const [k, v] of e.extra ?? []) s += `, ${k}=${plainRepr(v)}`;
  return s + ')';
}
