import { DYNAMIC, InferStride, UNSET, type Atom, type ScalarValue, type SizeField, type StrideField } from '../model/atoms.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { toPyInt, type PyInt } from '../model/int.ts';
import { fieldsFromJson, fieldsToJson, type PlainJson } from '../model/py-plain.ts';

/**
 * JSON spelling of entries, as in PyTorch's oracle files: "dynamic", "unset",
 * {"infer": d}; ints as numbers, or as decimal strings past 2**53.
 */
export type IntJson = number | string;
export type AtomJson = IntJson | 'dynamic' | 'unset' | { infer: number };
export type FieldJson = AtomJson[] | 'dynamic' | 'unset';
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

function atomToJson(a: Atom): AtomJson {
  if (a === DYNAMIC) return 'dynamic';
  if (a === UNSET) return 'unset';
  if (a instanceof InferStride) return { infer: a.dim };
  return intToJson(a);
}
function fieldToJson(f: readonly Atom[] | Atom): FieldJson {
  return Array.isArray(f) ? f.map(atomToJson) : (atomToJson(f as Atom) as FieldJson);
}
export function entryToJson(e: FrameStateSizeEntry): EntryJson {
  const j: EntryJson = { scalar: atomToJson(e.scalar), size: fieldToJson(e.size), stride: fieldToJson(e.stride) };
  if (e.excluded_sizes !== undefined) j.excluded_sizes = e.excluded_sizes === null ? null : e.excluded_sizes.map((x) => (x === null ? null : intToJson(x)));
  if (e.excluded_scalar !== undefined) j.excluded_scalar = e.excluded_scalar === null ? null : intToJson(e.excluded_scalar);
  if (e.extra?.length) j.extra = fieldsToJson(e.extra);
  return j;
}

function atomFromJson(a: AtomJson, infer: Map<number, InferStride> | null): Atom {
  if (a === 'dynamic') return DYNAMIC;
  if (a === 'unset') return UNSET;
  if (typeof a === 'object' && a !== null) {
    if (!infer) throw new RangeError('InferStride outside a stride tuple');
    let s = infer.get(a.infer);
    if (!s) infer.set(a.infer, (s = new InferStride(a.infer)));
    return s;
  }
  return intFromJson(a);
}
function fieldFromJson(f: FieldJson, strides: boolean): readonly Atom[] | Atom {
  if (f === 'dynamic') return DYNAMIC;
  if (f === 'unset') return UNSET;
  // Within one tuple, equal InferStrides are one object, as Dynamo's stride inference and
  // the join leave them; restoring that sharing keeps re-pickled bytes exact.
  const infer = strides ? new Map<number, InferStride>() : null;
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
