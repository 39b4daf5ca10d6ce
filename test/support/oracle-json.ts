import { DYNAMIC, InferStride, UNSET, type Atom } from '../../src/model/atoms.ts';
import type { FrameStateSizeEntry } from '../../src/model/entry.ts';
import type { Profile } from '../../src/model/profile.ts';

/** The oracle's JSON spelling of model values: "dynamic", "unset", {"infer": d}. */
function atom(a: Atom): unknown {
  if (a === DYNAMIC) return 'dynamic';
  if (a === UNSET) return 'unset';
  if (a instanceof InferStride) return { infer: a.dim };
  return typeof a === 'bigint' ? Number(a) : a;
}
function field(f: readonly Atom[] | Atom): unknown {
  return Array.isArray(f) ? f.map(atom) : atom(f as Atom);
}
export function entryJson(e: FrameStateSizeEntry): unknown {
  return { scalar: atom(e.scalar), size: field(e.size), stride: field(e.stride) };
}
/** The layout after 2.11: the excluded fields too (None where none was recorded). */
export function entryJsonNext(e: FrameStateSizeEntry): unknown {
  const ex = e.excluded_sizes;
  return {
    ...(entryJson(e) as object),
    excluded_sizes: ex == null ? null : ex.map((x) => (x === null ? null : Number(x))),
    excluded_scalar: e.excluded_scalar == null ? null : Number(e.excluded_scalar),
  };
}
export function profileJsonNext(p: Profile): { entries: Record<string, unknown> }[] {
  return [...p.codes.values()].map(({ state }) => ({
    entries: Object.fromEntries([...state.automaticDynamic].map(([k, v]) => [k, entryJsonNext(v)])),
  }));
}
export function profileJson(p: Profile): { code: unknown; entries: Record<string, unknown> }[] {
  return [...p.codes.values()].map(({ id, state }) => ({
    code: { ...id },
    entries: Object.fromEntries([...state.automaticDynamic].map(([k, v]) => [k, entryJson(v)])),
  }));
}
