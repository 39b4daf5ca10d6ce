import { DYNAMIC, InferStride, UNSET, type ScalarValue, type SizeField, type StrideField } from '../../model/atoms.ts';
import { codeIdText, codeKey, type CodeId } from '../../model/code-id.ts';
import type { FrameStateSizeEntry } from '../../model/entry.ts';
import { isPyInt } from '../../model/int.ts';
import type { CodeState, Profile } from '../../model/profile.ts';
import { ProfileShapeError } from './errors.ts';
import { PyDict, PyGlobal, PyInstance } from './py-values.ts';
import { describe, typeName } from './unpickle.ts';

const PGO = 'torch._dynamo.pgo';

function isInstance(v: unknown, name: string): v is PyInstance {
  return v instanceof PyInstance && v.cls.module === PGO && v.cls.name === name;
}
function isDefaultDict(v: unknown, factory: string): v is PyInstance {
  return (
    v instanceof PyInstance &&
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
  const tuples = new Map<unknown[], unknown[]>();
  const infers = new Map<PyInstance, InferStride>();
  if (!isDefaultDict(root, 'CodeState')) {
    throw new ProfileShapeError(`the top object is a ${typeName(root)}, not defaultdict(CodeState)`);
  }
  const profile: Profile = { codes: new Map() };
  let i = 0;
  for (const [k, v] of root.items!) {
    const id = codeIdFromPy(k, i);
    const where = `code ${i} (${codeIdText(id)})`;
    const state = codeStateFromPy(v, where);
    const key = codeKey(id);
    const prev = profile.codes.get(key);
    // A Python dict keeps the first key object and the last value for equal keys.
    profile.codes.set(key, { id: prev ? prev.id : id, state });
    i++;
  }
  return profile;

  function codeStateFromPy(v: unknown, where: string): CodeState {
    if (!isInstance(v, 'CodeState')) throw new ProfileShapeError(`${where}: value is a ${typeName(v)}, not CodeState`);
    const ad = field(v, 'automatic_dynamic', where);
    if (!isDefaultDict(ad, 'FrameStateSizeEntry')) {
      throw new ProfileShapeError(`${where}: automatic_dynamic is a ${typeName(ad)}, not defaultdict(FrameStateSizeEntry)`);
    }
    const entries = new Map<string, FrameStateSizeEntry>();
    for (const [src, e] of ad.items!) {
      if (typeof src !== 'string') throw new ProfileShapeError(`${where}: a source name is a ${typeName(src)}, not str`);
      entries.set(src, entryFromPy(e, `${where}, source ${src}`));
    }
    return { automaticDynamic: entries };
  }

  function entryFromPy(v: unknown, where: string): FrameStateSizeEntry {
    if (!isInstance(v, 'FrameStateSizeEntry')) throw new ProfileShapeError(`${where}: a ${typeName(v)}, not FrameStateSizeEntry`);
    const get = (name: string): unknown => (v.state?.map.has(name) ? v.state.map.get(name) : UNSET); // class default
    const scalar = get('scalar');
    if (!(scalar === DYNAMIC || scalar === UNSET || isPyInt(scalar))) {
      throw new ProfileShapeError(`${where}: scalar is ${describe(scalar)}, not an int or token`);
    }
    return {
      scalar: scalar as ScalarValue,
      size: tupleField(get('size'), `${where}: size`, false) as SizeField,
      stride: tupleField(get('stride'), `${where}: stride`, true) as StrideField,
    };
  }

  function tupleField(v: unknown, where: string, strides: boolean): unknown {
    if (v === DYNAMIC || v === UNSET) return v;
    if (!Array.isArray(v)) throw new ProfileShapeError(`${where} is a ${typeName(v)}, not a tuple or token`);
    const seen = tuples.get(v);
    if (seen) return seen;
    const out = v.map((a, d) => {
      if (a === DYNAMIC || isPyInt(a)) return a;
      if (strides && isInstance(a, 'InferStride')) return inferFromPy(a, `${where}[${d}]`);
      throw new ProfileShapeError(`${where}[${d}] is ${describe(a)}, not an int${strides ? ', InferStride' : ''} or AutoDynamic`);
    });
    tuples.set(v, out);
    return out;
  }

  function inferFromPy(v: PyInstance, where: string): InferStride {
    const seen = infers.get(v);
    if (seen) return seen;
    const dim = field(v, 'dim', where);
    if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new ProfileShapeError(`${where}: InferStride.dim is ${describe(dim)}`);
    const out = new InferStride(dim);
    infers.set(v, out);
    return out;
  }
}

function field(v: PyInstance, name: string, where: string): unknown {
  const s: PyDict | undefined = v.state;
  if (!s || !s.map.has(name)) throw new ProfileShapeError(`${where}: ${v.cls.name} has no ${name}`);
  return s.map.get(name);
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
  return { filename, firstlineno, name, file_hash: fileHash };
}
