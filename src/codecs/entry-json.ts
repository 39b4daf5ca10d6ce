import { DYNAMIC, InferStride, UNSET, type Atom, type ScalarValue, type SizeField, type StrideField } from '../model/atoms.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { floatFromRepr, floatRepr, nanOfBits, PyFloat } from '../model/float.ts';
import { toPyInt, type PyInt } from '../model/int.ts';
import { fieldsFromJson, fieldsToJson, type PlainJson } from '../model/py-plain.ts';

/**
 * JSON spelling of entries, as in PyTorch's oracle files: "dynamic", "unset",
 * {"infer": d}; ints as numbers, or as decimal strings past 2**53; a float scalar {"float": repr}.
 *
 * Object identity is part of a profile's pickle (CPython memoises InferStride objects, so
 * a repeated one is a back-reference), and a live process may hold either: Dynamo's stride
 * inference gives equal dims one shared InferStride, while a loaded profile keeps whatever
 * the pickle had (e.g. a fresh object per dim). So within one stride tuple, `{"infer": d}` is
 * the tuple's first InferStride(d) object and `{"infer": d, "obj": k}` its k-th other one.
 */
export type IntJson = number | string;
/** A float (a scalar only, with specialize_float=False) as its Python repr: nan, inf and -0.0 survive JSON. */
export type FloatJson = { float: string; /** a nan's bits where they are not float('nan')'s (PyFloat.nanBits) */ bits?: string };
/** An atom of a size or stride tuple. */
export type TupleAtomJson = IntJson | 'dynamic' | 'unset' | { infer: number; obj?: number };
export type AtomJson = TupleAtomJson | FloatJson;
export type FieldJson = TupleAtomJson[] | 'dynamic' | 'unset';
export interface EntryJson {
  scalar: AtomJson;
  size: FieldJson;
  stride: FieldJson;
  /** The layout after 2.11 (absent: none recorded). */
  excluded_sizes?: (IntJson | null)[] | null;
  excluded_scalar?: IntJson | null;
  /** A newer layout's unknown fields (model/py-plain.ts JSON). */
  extra?: [string, PlainJson][];
}

export function intToJson(v: PyInt): IntJson {
  return typeof v === 'bigint' ? v.toString() : v;
}
export function intFromJson(v: IntJson): PyInt {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not an exact integer (write ints past 2**53 as strings)`);
    return v;
  }
  if (!/^-?\d+$/.test(v)) throw new RangeError(`${JSON.stringify(v)} is not an integer`);
  return toPyInt(BigInt(v));
}

function atomToJson(a: Atom, infer: Map<number, InferStride[]> | null): AtomJson {
  if (a === DYNAMIC) return 'dynamic';
  if (a === UNSET) return 'unset';
  if (a instanceof InferStride) {
    if (!infer) return { infer: a.dim };
    let objs = infer.get(a.dim);
    if (!objs) infer.set(a.dim, (objs = []));
    let k = objs.indexOf(a);
    if (k < 0) k = objs.push(a) - 1;
    return k === 0 ? { infer: a.dim } : { infer: a.dim, obj: k };
  }
  if (a instanceof PyFloat) return a.nanBits === undefined ? { float: floatRepr(a.value) } : { float: floatRepr(a.value), bits: a.nanBits };
  return intToJson(a);
}
function fieldToJson(f: readonly Atom[] | Atom): FieldJson {
  if (!Array.isArray(f)) return atomToJson(f as Atom, null) as FieldJson;
  const infer = new Map<number, InferStride[]>();
  return f.map((a) => atomToJson(a, infer) as TupleAtomJson); // tuples hold no float (profile-from-py)
}
export function entryToJson(e: FrameStateSizeEntry): EntryJson {
  const j: EntryJson = { scalar: atomToJson(e.scalar, null), size: fieldToJson(e.size), stride: fieldToJson(e.stride) };
  if (e.excluded_sizes !== undefined) j.excluded_sizes = e.excluded_sizes === null ? null : e.excluded_sizes.map((x) => (x === null ? null : intToJson(x)));
  if (e.excluded_scalar !== undefined) j.excluded_scalar = e.excluded_scalar === null ? null : intToJson(e.excluded_scalar);
  if (e.extra?.length) j.extra = fieldsToJson(e.extra);
  return j;
}

function atomFromJson(a: AtomJson, infer: Map<number, InferStride[]> | null): Atom {
  if (a === 'dynamic') return DYNAMIC;
  if (a === 'unset') return UNSET;
  if (typeof a === 'object' && a !== null && 'float' in a) {
    const f = a.bits !== undefined && a.float === 'nan' ? nanOfBits(a.bits) : floatFromRepr(a.float);
    if (!f) throw new RangeError(`${JSON.stringify(a.float)}${a.bits !== undefined ? ` (bits ${JSON.stringify(a.bits)})` : ''} is not a float as Python prints it`);
    return f;
  }
  if (typeof a === 'object' && a !== null) {
    if (!infer) throw new RangeError('InferStride outside a stride tuple');
    let objs = infer.get(a.infer);
    if (!objs) infer.set(a.infer, (objs = []));
    const k = a.obj ?? 0;
    return (objs[k] ??= new InferStride(a.infer));
  }
  return intFromJson(a);
}
function fieldFromJson(f: FieldJson, strides: boolean): readonly Atom[] | Atom {
  if (f === 'dynamic') return DYNAMIC;
  if (f === 'unset') return UNSET;
  // Per dim, the tuple's InferStride objects by number (see the spelling above): the
  // sharing the entry was written with comes back, so re-pickled bytes stay exact.
  const infer = strides ? new Map<number, InferStride[]>() : null;
  return f.map((a) => atomFromJson(a, infer));
}
export function entryFromJson(j: EntryJson): FrameStateSizeEntry {
  const scalar = atomFromJson(j.scalar, null);
  if (scalar instanceof InferStride) throw new RangeError('scalar cannot be an InferStride');
  const e: FrameStateSizeEntry = {
    scalar: scalar as ScalarValue,
    size: fieldFromJson(j.size, false) as SizeField,
    stride: fieldFromJson(j.stride, true) as StrideField,
  };
  if (j.excluded_sizes !== undefined) e.excluded_sizes = j.excluded_sizes === null ? null : j.excluded_sizes.map((x) => (x === null ? null : intFromJson(x)));
  if (j.excluded_scalar !== undefined) e.excluded_scalar = j.excluded_scalar === null ? null : intFromJson(j.excluded_scalar);
  if (j.extra?.length) e.extra = fieldsFromJson(j.extra);
  return e;
}
