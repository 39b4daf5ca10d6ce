import { codeKey } from '../model/code-id.ts';
import type { EntryChange } from './diff.ts';
import type { Ledger } from './ledger.ts';
import { dimKey, explain } from './why.ts';
import type { Window } from './window.ts';

/**
 * Gives each dim of `changes` that turns dynamic the position where it did in the window: the
 * one answer `why` and `history` give (`diff --json`, and `publish --dry-run`, which prints
 * diff's lines). A dim the window's profile holds static (a merge preview's other side made
 * it dynamic) keeps none.
 */
export function markDynamicSince(ledger: Ledger, profileId: number, window: Window, changes: EntryChange[]): void {
  if (!changes.some((c) => c.dims.some((d) => d.to === '?'))) return;
  const since = new Map<string, number>();
  for (const s of explain(ledger, profileId, { window })) if (s.becameDynamic) since.set(`${codeKey(s.code)}\u0000${s.source}\u0000${dimKey(s.dim)}`, s.becameDynamic.position);
  for (const c of changes) {
    for (const d of c.dims) {
      if (d.to !== '?') continue;
      const at = since.get(`${codeKey(c.code)}\u0000${c.source}\u0000${d.dim}`);
      if (at !== undefined) d.position = at;
    }
    // an entry added fully dynamic lists every field (diff.ts addedDims): the ones why tells of
    if (c.change === 'added' && c.dims.length === 3 && c.dims[0].dim === 'scalar' && c.dims.some((d) => d.position !== undefined)) c.dims = c.dims.filter((d) => d.position !== undefined);
  }
}
