import { entryToJson } from '../codecs/entry-json.ts';
import { codeIdLabel } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { renderEntry } from '../model/render.ts';
import type { Profile } from '../model/profile.ts';

export interface EntryChange {
  code: string;
  source: string;
  change: 'added' | 'removed' | 'changed';
  from?: string;
  to?: string;
  /** What moved, dim by dim: `size[0]: 8 -> ?`. */
  dims: string[];
}

function atomText(a: unknown): string {
  if (a === 'dynamic') return '?';
  if (typeof a === 'object' && a !== null) return `S(${(a as { infer: number }).infer})`;
  return String(a);
}

function dimChanges(a: FrameStateSizeEntry, b: FrameStateSizeEntry): string[] {
  const x = entryToJson(a);
  const y = entryToJson(b);
  const out: string[] = [];
  if (JSON.stringify(x.scalar) !== JSON.stringify(y.scalar)) out.push(`scalar: ${atomText(x.scalar)} -> ${atomText(y.scalar)}`);
  for (const f of ['size', 'stride'] as const) {
    const p = x[f];
    const q = y[f];
    if (JSON.stringify(p) === JSON.stringify(q)) continue;
    if (Array.isArray(p) && Array.isArray(q) && p.length === q.length) {
      p.forEach((v, i) => {
        if (JSON.stringify(v) !== JSON.stringify(q[i])) out.push(`${f}[${i}]: ${atomText(v)} -> ${atomText(q[i])}`);
      });
    } else out.push(`${f}: ${JSON.stringify(p)} -> ${JSON.stringify(q)}`);
  }
  return out;
}

/** Entries and dims that differ between two profiles (two points of one log). */
export function diffProfiles(from: Profile, to: Profile): EntryChange[] {
  const out: EntryChange[] = [];
  for (const [key, { id, state }] of to.codes) {
    const old = from.codes.get(key)?.state.automaticDynamic;
    for (const [src, e] of state.automaticDynamic) {
      const o = old?.get(src);
      if (!o) out.push({ code: codeIdLabel(id), source: src, change: 'added', to: renderEntry(e), dims: [] });
      else {
        const dims = dimChanges(o, e);
        if (dims.length) out.push({ code: codeIdLabel(id), source: src, change: 'changed', from: renderEntry(o), to: renderEntry(e), dims });
      }
    }
  }
  for (const [key, { id, state }] of from.codes) {
    const now = to.codes.get(key)?.state.automaticDynamic;
    for (const [src, e] of state.automaticDynamic) {
      if (!now?.has(src)) out.push({ code: codeIdLabel(id), source: src, change: 'removed', from: renderEntry(e), dims: [] });
    }
  }
  return out;
}
