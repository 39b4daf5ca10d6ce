import { DYNAMIC, InferStride, UNSET, type ScalarValue, type SizeField, type StrideField } from '../../model/atoms.ts';
import { codeIdText, codeKeyOnce, type CodeId } from '../../model/code-id.ts';
import type { FrameStateSizeEntry } from '../../model/entry.ts';
import { isPyInt, type PyInt } from '../../model/int.ts';
import { isPyPlain, MAX_PLAIN_DEPTH, type PyPlain } from '../../model/py-plain.ts';
import type { CodeState, Profile } from '../../model/profile.ts';
import { ProfileShapeError } from './errors.ts';
import { dictGet, dictHas, dictKey, dictValue, isInstance as isPyInstance, PyFloat, PyGlobal, type PyDict, type PyInstance } from './py-values.ts';
import { describe, typeName } from './unpickle.ts';

const PGO = 'torch._dynamo.pgo';

/** Far more entries than any real profile holds (each becomes an event on ingest). */
export const MAX_PROFILE_ENTRIES = 250_000;

function isInstance(v: unknown, name: string): v is PyInstance {
  return isPyInstance(v) && v.cls.module === PGO && v.cls.name === name;
}
function isDefaultDict(v: unknown, factory: string): v is PyInstance {
  return (
    isPyInstance(v) &&
    v.cls.qualified === 'collections.defaultdict' &&
    v.factory instanceof PyGlobal &&
    v.factory.module === PGO &&
    v.factory.name === factory
  );
}

/**
 * Turns what `unpickle` built into a Profile, checking every field's type, and keeping
 * shared tuples and InferStride objects shared (so a re-pickle writes the same bytes).
 */
export function profileFromPy(root: unknown): Profile {
  if (!isDefaultDict(root, 'CodeState')) {
    throw new ProfileShapeError(`the top object is a ${typeName(root)}, not defaultdict(CodeState)`);
  }
  const profile: Profile = { codes: new Map() };
  const items = root.items!;
  const b: Build = { profile, total: 0, codeCount: items.size };
  for (let i = 0; i < items.size; i++) {
    const k = dictKey(items, i);
    const v = dictValue(items, i);
    const id = codeIdFromPy(k, i);
    const state = codeStateFromPy(b, v, { i, id });
    const key = codeKeyOnce(id); // not memoised: this id is new, and most are never keyed again
    const prev = profile.codes.get(key);
    // A Python dict keeps the first key object and the last value for equal keys.
    profile.codes.set(key, { id: prev ? prev.id : id, state });
    if (id.closure_hash !== undefined) profile.layout = '2.12';
  }
  if (profile.layout === '2.12') {
    // Entries in the newer layout under code ids without closure_hash (not what PyTorch writes):
    // their code ids get its default, None, so the layout stays known wherever they go.
    for (const slot of profile.codes.values()) if (slot.id.closure_hash === undefined) slot.id = { ...slot.id, closure_hash: null };
  }
  return profile;
}

/**
 * What the conversion of one profile carries along. The converters are module functions,
 * not closures in profileFromPy: fresh closures for every profile were each optimised
 * afresh by V8, over and over in a process that reads many profiles.
 */
interface Build {
  readonly profile: Profile;
  /** Entries so far, against MAX_PROFILE_ENTRIES. */
  total: number;
  readonly codeCount: number;
}

// Error locations are built only when there is an error (no garbage per entry).
function codeStateFromPy(b: Build, v: unknown, code: Loc): CodeState {
  if (!isInstance(v, 'CodeState')) throw new ProfileShapeError(`${loc(code)}: value is a ${typeName(v)}, not CodeState`);
  for (let f = 0; f < (v.state?.size ?? 0); f++) {
    const name = dictKey(v.state!, f);
    // Not kept (the store has no place for a code state's own fields): refused, never dropped.
    if (name !== 'automatic_dynamic') throw new ProfileShapeError(`${loc(code)}: CodeState has a field ${describe(name)} that this pgo-ledger does not know`);
  }
  const ad = v.state && dictGet(v.state, 'automatic_dynamic');
  if (!isDefaultDict(ad, 'FrameStateSizeEntry')) {
    throw new ProfileShapeError(`${loc(code)}: automatic_dynamic is a ${typeName(ad)}, not defaultdict(FrameStateSizeEntry)`);
  }
  const entries = new Map<string, FrameStateSizeEntry>();
  const items = ad.items!;
  for (let j = 0; j < items.size; j++) {
    const src = dictKey(items, j);
    const e = dictValue(items, j);
    if (typeof src !== 'string') throw new ProfileShapeError(`${loc(code)}: a source name is a ${typeName(src)}, not str`);
    // Issue 9.8: one memoised CodeState under many code ids expands without bound (a 75 KB
    // pickle to a million entries, each an event); past the limit it is refused.
    if (++b.total > MAX_PROFILE_ENTRIES) {
      throw new ProfileShapeError(`the profile expands to more than ${MAX_PROFILE_ENTRIES} entries (at code ${code.i} of ${b.codeCount}; shared CodeState objects count once per code id)`);
    }
    entries.set(src, entryFromPy(b.profile, e, code, src));
  }
  return { automaticDynamic: entries };
}

function entryFromPy(profile: Profile, v: unknown, code: Loc, src: string): FrameStateSizeEntry {
  if (!isInstance(v, 'FrameStateSizeEntry')) throw new ProfileShapeError(`${loc(code, src)}: a ${typeName(v)}, not FrameStateSizeEntry`);
  // One pass over the state (the last assignment of a name wins, as in a Python dict); a
  // missing field falls back to the class default, auto_unset.
  const st = v.state;
  let scalar: unknown = UNSET;
  let size: unknown = UNSET;
  let stride: unknown = UNSET;
  let exSizes: unknown = undefined;
  let exScalar: unknown = undefined;
  let extra: [string, PyPlain][] | undefined;
  const n = st ? st.size : 0;
  for (let i = 0; i < n; i++) {
    const k = dictKey(st!, i);
    switch (k) {
      case 'scalar': scalar = dictValue(st!, i); break;
      case 'size': size = dictValue(st!, i); break;
      case 'stride': stride = dictValue(st!, i); break;
      // The layout after 2.11: excluded_sizes (a tuple of int | None, or None), excluded_scalar (int | None).
      case 'excluded_sizes': exSizes = dictValue(st!, i); break;
      case 'excluded_scalar': exScalar = dictValue(st!, i); break;
      default: extra = extraField(extra, k, dictValue(st!, i), `${loc(code, src)}: FrameStateSizeEntry`);
    }
  }
  // a float with specialize_float=False (wrap_symfloat's make_scalar)
  if (!(scalar === DYNAMIC || scalar === UNSET || isPyInt(scalar) || scalar instanceof PyFloat)) {
    throw new ProfileShapeError(`${loc(code, src)}: scalar is ${describe(scalar)}, not an int, a float or a token`);
  }
  const e: FrameStateSizeEntry = {
    scalar: scalar as ScalarValue,
    size: tupleField(size, code, src, 'size') as SizeField,
    stride: tupleField(stride, code, src, 'stride') as StrideField,
  };
  if (exSizes !== undefined) {
    if (exSizes !== null && !(Array.isArray(exSizes) && exSizes.every((a) => a === null || isPyInt(a)))) {
      throw new ProfileShapeError(`${loc(code, src)}: excluded_sizes is ${describe(exSizes)}, not a tuple of int | None or None`);
    }
    e.excluded_sizes = exSizes as (PyInt | null)[] | null;
    profile.layout = '2.12';
  }
  if (exScalar !== undefined) {
    if (exScalar !== null && !isPyInt(exScalar)) throw new ProfileShapeError(`${loc(code, src)}: excluded_scalar is ${describe(exScalar)}, not an int or None`);
    e.excluded_scalar = exScalar;
    profile.layout = '2.12';
  }
  if (extra) e.extra = extra;
  return e;
}

function tupleField(v: unknown, code: Loc, src: string, name: 'size' | 'stride'): unknown {
  if (v === DYNAMIC || v === UNSET) return v;
  const strides = name === 'stride';
  if (!Array.isArray(v)) throw new ProfileShapeError(`${loc(code, src)}: ${name} is a ${typeName(v)}, not a tuple or token`);
  // Converted in place: the unpickler's tuples are ours, and a tuple shared in the
  // pickle stays one array, so a re-pickle memoises it the same way.
  for (let d = 0; d < v.length; d++) {
    const a = v[d];
    if (a === DYNAMIC || isPyInt(a) || (strides && a instanceof InferStride)) continue;
    if (strides && isInstance(a, 'InferStride')) v[d] = inferFromPy(a, code, src, d);
    else throw new ProfileShapeError(`${loc(code, src)}: ${name}[${d}] is ${describe(a)}, not an int${strides ? ', InferStride' : ''} or AutoDynamic`);
  }
  return v;
}

function inferFromPy(v: PyInstance, code: Loc, src: string, d: number): InferStride {
  if (v.converted) return v.converted as InferStride;
  const dim = v.state && dictGet(v.state, 'dim');
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new ProfileShapeError(`${loc(code, src)}: stride[${d}]: InferStride.dim is ${describe(dim)}`);
  const out = new InferStride(dim);
  v.converted = out;
  return out;
}

interface Loc {
  i: number;
  id: CodeId;
}
function loc(code: Loc, src?: string): string {
  return `code ${code.i} (${codeIdText(code.id)})` + (src === undefined ? '' : `, source ${src}`);
}

function field(v: PyInstance, name: string, where: string): unknown {
  const s: PyDict | undefined = v.state;
  if (!s || !dictHas(s, name)) throw new ProfileShapeError(`${where}: ${v.cls.name} has no ${name}`);
  return dictGet(s, name);
}

function codeIdFromPy(k: unknown, i: number): CodeId {
  if (!isInstance(k, 'CodeId')) throw new ProfileShapeError(`code ${i}: key is a ${typeName(k)}, not CodeId`);
  const where = `code ${i}`;
  const filename = field(k, 'filename', where);
  const firstlineno = field(k, 'firstlineno', where);
  const name = field(k, 'name', where);
  const fileHash = field(k, 'file_hash', where);
  if (typeof filename !== 'string') throw new ProfileShapeError(`${where}: filename is ${describe(filename)}, not str`);
  if (typeof firstlineno !== 'number') throw new ProfileShapeError(`${where}: firstlineno is ${describe(firstlineno)}, not int`);
  if (typeof name !== 'string') throw new ProfileShapeError(`${where}: name is ${describe(name)}, not str`);
  if (typeof fileHash !== 'string') throw new ProfileShapeError(`${where}: file_hash is ${describe(fileHash)}, not str`);
  const id: { -readonly [K in keyof CodeId]: CodeId[K] } = { filename, firstlineno, name, file_hash: fileHash };
  const st = k.state!;
  let extra: [string, PyPlain][] | undefined;
  for (let f = 0; f < st.size; f++) {
    const key = dictKey(st, f);
    if (key === 'filename' || key === 'firstlineno' || key === 'name' || key === 'file_hash') continue;
    if (key === 'closure_hash') {
      // The layout after 2.11: closure_hash (int | None) takes part in identity.
      const h = dictValue(st, f);
      if (h !== null && !isPyInt(h)) throw new ProfileShapeError(`${where}: closure_hash is ${describe(h)}, not an int or None`);
      id.closure_hash = h;
    } else extra = extraField(extra, key, dictValue(st, f), `${where}: CodeId`);
  }
  if (extra) id.extra = extra;
  return id;
}

/**
 * A field a newer PyTorch added that this version does not know: kept (plain values only),
 * so an export carries it; anything else is refused by name rather than dropped.
 */
function extraField(out: [string, PyPlain][] | undefined, name: unknown, val: unknown, where: string): [string, PyPlain][] {
  if (typeof name !== 'string') throw new ProfileShapeError(`${where}: a field name is a ${typeName(name)}, not str`);
  if (!isPyPlain(val)) throw new ProfileShapeError(`${where}: unknown field ${name} holds a ${typeName(val)}; pgo-ledger keeps unknown fields only when they hold None, bool, int, str or tuples of them (nested at most ${MAX_PLAIN_DEPTH} deep)`);
  const kept = (out ?? []).filter(([n]) => n !== name); // assigned again: the last value wins
  kept.push([name, val]);
  return kept;
}
