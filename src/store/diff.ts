import { entryToJson } from '../codecs/entry-json.ts';
import type { CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { renderEntry } from '../model/render.ts';
import { layoutOf, type Profile } from '../model/profile.ts';

export interface DimChange {
  /** `scalar`, `size[0]`, `stride[1]`, or `size`/`stride` for a whole tuple (a rank change). */
  dim: string;
  /** null for a dim of an entry added between the two points (EntryChange.from null). */
  from: string | null;
  to: string;
  /** Where in the log it turned dynamic (filled by the caller from `why`, which holds the one answer). */
  position?: number;
}

export interface EntryChange {
  code: CodeId;
  source: string;
  change: 'added' | 'removed' | 'changed';
  from: string | null;
  to: string | null;
  /** What moved, dim by dim. */
  dims: DimChange[];
}

function atomText(a: unknown): string {
  if (a === 'dynamic') return '?';
  if (a === 'unset') return 'unset';
  if (Array.isArray(a)) return `[${a.map(atomText).join(', ')}]`;
  if (typeof a === 'object' && a !== null && 'float' in a) return (a as { float: string }).float;
  if (typeof a === 'object' && a !== null) return `S(${(a as { infer: number }).infer})`;
  return String(a);
}

function dimChanges(a: FrameStateSizeEntry, b: FrameStateSizeEntry): DimChange[] {
  const x = entryToJson(a);
  const y = entryToJson(b);
  const out: DimChange[] = [];
  if (JSON.stringify(x.scalar) !== JSON.stringify(y.scalar)) out.push({ dim: 'scalar', from: atomText(x.scalar), to: atomText(y.scalar) });
  for (const f of ['size', 'stride'] as const) {
    const p = x[f];
    const q = y[f];
    if (JSON.stringify(p) === JSON.stringify(q)) continue;
    if (Array.isArray(p) && Array.isArray(q) && p.length === q.length) {
      p.forEach((v, i) => {
        if (JSON.stringify(v) !== JSON.stringify(q[i])) out.push({ dim: `${f}[${i}]`, from: atomText(v), to: atomText(q[i]) });
      });
    } else out.push({ dim: f, from: atomText(p), to: atomText(q) });
  }
  return out;
}

/**
 * The dynamic dims of an entry added between the two points: they turned dynamic there too (trial
 * s28b: `dims: []` hid them, where history and stats give them). A tensor's own dims, or an int's
 * scalar: a tensor's entry holds its scalar dynamic and an int's its size and stride (PyTorch's
 * make_tensor, make_scalar), which no value turned so.
 */
function addedDims(e: FrameStateSizeEntry): DimChange[] {
  const x = entryToJson(e);
  const out: DimChange[] = [];
  // fully dynamic ("scalar or tensor"): an int turned dynamic, or a tensor whose number of dims
  // changed, which the entry does not tell apart: every field (markDynamicSince keeps those why tells)
  if (x.scalar === 'dynamic' && x.size === 'dynamic' && x.stride === 'dynamic') return (['scalar', 'size', 'stride'] as const).map((dim) => ({ dim, from: null, to: '?' }));
  if (x.scalar === 'dynamic' && !Array.isArray(x.size)) out.push({ dim: 'scalar', from: null, to: '?' });
  for (const f of ['size', 'stride'] as const) {
    const v = x[f];
    if (Array.isArray(v)) v.forEach((a, i) => a === 'dynamic' && out.push({ dim: `${f}[${i}]`, from: null, to: '?' }));
  }
  return out;
}

/** Entries and dims that differ between two profiles (two points of one log). */
export function diffProfiles(from: Profile, to: Profile): EntryChange[] {
  // entries print as `show` prints them, in the layout the data came in
  const layout = layoutOf(to) ?? layoutOf(from);
  const out: EntryChange[] = [];
  for (const [key, { id, state }] of to.codes) {
    const old = from.codes.get(key)?.state.automaticDynamic;
    for (const [src, e] of state.automaticDynamic) {
      const o = old?.get(src);
      if (!o) out.push({ code: id, source: src, change: 'added', from: null, to: renderEntry(e, layout), dims: addedDims(e) });
      else {
        const dims = dimChanges(o, e);
        if (dims.length) out.push({ code: id, source: src, change: 'changed', from: renderEntry(o, layout), to: renderEntry(e, layout), dims });
      }
    }
  }
  for (const [key, { id, state }] of from.codes) {
    const now = to.codes.get(key)?.state.automaticDynamic;
    for (const [src, e] of state.automaticDynamic) {
      if (!now?.has(src)) out.push({ code: id, source: src, change: 'removed', from: renderEntry(e, layout), to: null, dims: [] });
    }
  }
  return out;
}
