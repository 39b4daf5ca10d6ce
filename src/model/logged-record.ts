import { DYNAMIC, InferStride, UNSET, type Atom, type ScalarValue, type SizeField, type StrideField } from './atoms.ts';
import { mergeAtom, mergeAtomTup, type FrameStateSizeEntry } from './entry.ts';
import { floatFromRepr } from './float.ts';
import { toPyInt } from './int.ts';
import { fieldStr } from './python-repr.ts';
import type { DynamicRecord } from './update.ts';

/** An atom as a record prints it: `str()` of the atom, or its `repr()` inside a tuple. */
function atomText(s: string): Atom | undefined {
  s = s.trim();
  if (s === 'AutoDynamic.token' || s === '<AutoDynamic.token: 0>') return DYNAMIC;
  if (s === 'AutoUnset.token' || s === '<AutoUnset.token: 0>') return UNSET;
  if (/^-?\d+$/.test(s)) return toPyInt(BigInt(s));
  const f = floatFromRepr(s); // a float scalar (specialize_float=False)
  if (f) return f;
  const m = /^InferStride\(dim=(\d+)\)$/.exec(s);
  return m ? new InferStride(Number(m[1])) : undefined;
}

/** A tuple field as a record prints it: `()`, `(5,)`, `(2, 3)`, or a token. */
function fieldText(s: string): readonly Atom[] | Atom | undefined {
  s = s.trim();
  if (!s.startsWith('(')) return atomText(s);
  if (!s.endsWith(')')) return undefined;
  const body = s.slice(1, -1).trim();
  if (body === '') return [];
  const parts = body.split(',').map((p) => p.trim());
  if (parts[parts.length - 1] === '') parts.pop();
  const out = parts.map(atomText);
  return out.some((a) => a === undefined) ? undefined : (out as Atom[]);
}

type Field = 'size' | 'stride';

/**
 * Which tuple field a whole-field record ('dimensionality change', 'other') is about: the one
 * whose text is the record's `cached`. PyTorch logs the size's records before the stride's,
 * so when both read alike the size is the one not yet changed.
 */
function fieldOf(e: FrameStateSizeEntry, r: DynamicRecord): Field | undefined {
  return recordField(r, fieldStr(e.size as never) === r.cached, fieldStr(e.stride as never) === r.cached);
}

/**
 * fieldOf's rule, given whether the record's `cached` is the size's value and the stride's (why
 * asks it of the last static values it kept, where the field was dynamic already).
 */
export function recordField(r: Pick<DynamicRecord, 'new'>, size: boolean, stride: boolean): Field | undefined {
  if (size && stride) return fieldText(r.new) instanceof Array && (fieldText(r.new) as Atom[]).some((a) => a instanceof InferStride) ? 'stride' : 'size';
  return size ? 'size' : stride ? 'stride' : undefined;
}

/**
 * What an `automatic_dynamic` record PyTorch logged did to the entry, as of the record.
 * PyTorch logs a record exactly where `|=` changed the entry, comparing the old value with
 * the new observation (`new`); the entry's value there becomes their join. So a logged record
 * changes the profile at its own position, and the snapshot PyTorch writes afterwards only
 * confirms it. Returns a new entry, or undefined when the record does not fit the entry
 * (a trace that lacks the earlier snapshot): then the next snapshot brings the change.
 */
export function applyLoggedRecord(e: FrameStateSizeEntry, r: DynamicRecord): FrameStateSizeEntry | undefined {
  if (r.reason === 'scalar change') {
    const n = atomText(r.new);
    if (n === undefined || n instanceof InferStride) return undefined;
    return { ...e, scalar: mergeAtom(e.scalar, n) as ScalarValue };
  }
  if (r.reason === 'size change' || r.reason === 'stride change') {
    const field: Field = r.reason === 'size change' ? 'size' : 'stride';
    const cur = e[field];
    const n = atomText(r.new);
    const i = r.dim_changed;
    if (n === undefined || typeof i !== 'number' || !Array.isArray(cur) || i >= cur.length) return undefined;
    const next = cur.slice() as Atom[];
    next[i] = mergeAtom(next[i] as Atom, n as Atom);
    return { ...e, [field]: next } as FrameStateSizeEntry;
  }
  const field = fieldOf(e, r);
  const n = fieldText(r.new);
  if (!field || n === undefined) return undefined;
  const nf = (Array.isArray(n) ? n : n) as SizeField & StrideField;
  return { ...e, [field]: mergeAtomTup(e[field] as never, nf as never) } as FrameStateSizeEntry;
}
