import { atomEq, fieldEq, UNSET, type Atom } from './atoms.ts';
import type { CodeId } from './code-id.ts';
import { covers, emptyEntry, joinInto, joinKeeps, type FrameStateSizeEntry } from './entry.ts';
import { PyFloat } from './float.ts';
import { codeStateFor, type Profile } from './profile.ts';
import { atomStr, fieldStr } from './python-repr.ts';

export type DimChanged = 'scalar' | 'all' | number;
export type ChangeReason = 'scalar change' | 'size change' | 'stride change' | 'dimensionality change' | 'other';

/** One `automatic_dynamic` instant event, as `update_automatic_dynamic` logs it. */
export interface DynamicRecord {
  name: string;
  dim_changed: DimChanged;
  reason: ChangeReason;
  cached: string;
  new: string;
}

export interface UpdateResult {
  /** The entry now in the profile (the same object the profile holds). */
  entry: FrameStateSizeEntry;
  /** What the entry was before (a shallow copy, or the entry itself when unchanged; absent if the source was new). */
  before: FrameStateSizeEntry | undefined;
  records: DynamicRecord[];
}

/**
 * `update_automatic_dynamic`: fold one observed entry into the profile. With automatic
 * dynamic on, join and log each change exactly as PyTorch does, its quirks included (the
 * per-dim comparison is old entry against the *new observation*, not against the join).
 * With it off, the observation overwrites the entry and nothing is logged.
 */
export function updateAutomaticDynamic(
  profile: Profile,
  code: CodeId,
  name: string,
  entry: FrameStateSizeEntry,
  automaticDynamic = true,
  snapshot = false,
): UpdateResult {
  const state = codeStateFor(profile, code).automaticDynamic;
  const existing = state.get(name);
  // A snapshot (a profile PyTorch wrote) carries the nan it loaded as the profile's value: it
  // is that value, not a frame's new one to compare with `!=` (nan != nan: dynamic, as a
  // compile fed nan again makes it). Joined as such, a later file of the profile turned a
  // static nan dynamic where PyTorch's file keeps it (trial s26b).
  if (snapshot && existing !== undefined && isNan(existing.scalar) && isNan(entry.scalar)) entry = { ...entry, scalar: UNSET };
  if (!automaticDynamic) {
    state.set(name, entry);
    return { entry, before: existing && { ...existing }, records: [] };
  }
  const isUpdate = existing !== undefined;
  // A snapshot of the layout after 2.11 that changes nothing `==` compares (excluded_sizes and
  // excluded_scalar are compare=False) is the entry as PyTorch held it when it wrote the file: its
  // excluded values are the file's, which a join would clear (trial s36a: a profile's own export
  // ingested again lost them, and a run's file read after its trace differed from the file).
  if (snapshot && isUpdate && (entry.excluded_sizes !== undefined || entry.excluded_scalar !== undefined) && covers(existing, entry)) {
    const xs = entry.excluded_sizes ?? null;
    const xc = entry.excluded_scalar ?? null;
    if (sameExcluded(existing, xs, xc)) return { entry: existing, before: existing, records: [] };
    const before = { ...existing };
    existing.excluded_sizes = xs;
    existing.excluded_scalar = xc;
    return { entry: existing, before, records: [] };
  }
  // The join would change nothing, so PyTorch would log nothing: the entry stays as it is.
  if (isUpdate && joinKeeps(existing, entry)) return { entry: existing, before: existing, records: [] };
  const mut = existing ?? emptyEntry();
  if (!isUpdate) state.set(name, mut);
  const old = { ...mut };
  joinInto(mut, entry);
  if (!isUpdate) {
    // A loaded entry (an import) is the profile's entry as it was: its own excluded values and unknown fields stay.
    if (entry.excluded_sizes != null) mut.excluded_sizes = entry.excluded_sizes;
    if (entry.excluded_scalar != null) mut.excluded_scalar = entry.excluded_scalar;
  }
  if (entry.extra?.length && !mut.extra?.length) mut.extra = entry.extra;
  const records: DynamicRecord[] = [];
  if (!isUpdate) return { entry: mut, before: undefined, records };

  if (old.scalar !== mut.scalar) {
    records.push({ name, dim_changed: 'scalar', reason: 'scalar change', cached: atomStr(old.scalar), new: atomStr(entry.scalar) });
  }
  logTuple('size', 'size change');
  logTuple('stride', 'stride change');
  return { entry: mut, before: old, records };

  function logTuple(field: 'size' | 'stride', perDim: ChangeReason): void {
    const o = old[field] as readonly Atom[] | Atom;
    const n = entry[field] as readonly Atom[] | Atom;
    if (fieldEq(o as never, mut[field] as never)) return;
    if (Array.isArray(o) && Array.isArray(n)) {
      if (o.length !== n.length) {
        records.push({ name, dim_changed: 'all', reason: 'dimensionality change', cached: fieldStr(o), new: fieldStr(n) });
      } else {
        for (let i = 0; i < n.length; i++) {
          if (!atomEq(o[i], n[i])) {
            records.push({ name, dim_changed: i, reason: perDim, cached: atomStr(o[i]), new: atomStr(n[i]) });
          }
        }
      }
    } else {
      records.push({ name, dim_changed: 'all', reason: 'other', cached: fieldStr(o), new: fieldStr(n) });
    }
  }
}

/** Whether the entry's excluded values are these (absent reads as None). */
function sameExcluded(e: FrameStateSizeEntry, xs: FrameStateSizeEntry['excluded_sizes'], xc: FrameStateSizeEntry['excluded_scalar']): boolean {
  const a = e.excluded_sizes ?? null;
  const b = xs ?? null;
  const sizes = a === b || (a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i] || (x !== null && b[i] !== null && String(x) === String(b[i]))));
  return sizes && String(e.excluded_scalar ?? null) === String(xc ?? null);
}

const isNan = (x: unknown) => x instanceof PyFloat && Number.isNaN(x.value);
