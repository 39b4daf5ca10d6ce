import { DYNAMIC, UNSET, type SizeAtom } from './atoms.ts';
import { joinInto, joinKeeps, type FrameStateSizeEntry } from './entry.ts';
import type { UpdateResult } from './update.ts';

/**
 * `torch._dynamo.mark_dynamic(t, dims)` as Dynamo reflects it in the profile: after the
 * tensor's own observation (`record_automatic_dynamic`, the caller's `updateAutomaticDynamic`),
 * `_automatic_dynamic` in variables/builder.py does, for each dim of the tensor in order
 * (`for i in range(e.dim())`) that is marked, `frame_state_entry |= make_size([auto_unset, …,
 * auto_dynamic at i, …])` on the profile's entry itself, logging nothing. So a marked dim turns
 * dynamic with no record, and `excluded_sizes` follows each of those joins as `|=` keeps it.
 * `dims`: sorted, distinct, each below `rank`. Returns `r` where the joins keep the entry as it
 * is, else `r` with the entry changed in place (`before`: what it was before the observation).
 */
export function markDynamic(r: UpdateResult, dims: readonly number[], rank: number): UpdateResult {
  let before = r.before;
  for (const i of dims) {
    const mark = new Array<SizeAtom>(rank).fill(UNSET as never);
    mark[i] = DYNAMIC;
    const other: FrameStateSizeEntry = { scalar: UNSET, size: mark, stride: UNSET };
    if (joinKeeps(r.entry, other)) continue;
    // the observation kept the entry as it was: what it was is still the entry itself
    if (before === r.entry) before = { ...r.entry };
    joinInto(r.entry, other);
  }
  return before === r.before ? r : { ...r, before };
}
