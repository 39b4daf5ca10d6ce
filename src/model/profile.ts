import { codeKey, type CodeId } from './code-id.ts';
import type { FrameStateSizeEntry } from './entry.ts';

/** `CodeState`: the entries of one code object, by source name, in first-seen order. */
export interface CodeState {
  automaticDynamic: Map<string, FrameStateSizeEntry>;
}

/** `defaultdict[CodeId, CodeState]`: a whole profile, code ids in first-seen order. */
export interface Profile {
  codes: Map<string, { id: CodeId; state: CodeState }>;
  /**
   * The pickle layout its data came in: '2.12' once any code id carries `closure_hash` (PyTorch
   * after 2.11 pickles it on every code id, None included; readers of that layout set it);
   * absent: the data never said (written as 2.11). Render and export follow it. Code ids
   * alone decide, so a stored view (code_states) and a fresh fold always agree.
   */
  layout?: TorchLayout;
  /**
   * true: no tuple (array) object and no code state's automatic_dynamic object occurs twice in
   * the profile, as its builder knows by construction (the pickle reader, when the pickle
   * fetched nothing from its memo that can hold one). CPython's pickler memoises both by
   * identity, so the pickle writer then needs no identity memo of them. Absent: not known (the
   * writer finds out). Whoever adds or replaces entries clears it: codeStateFor does.
   */
  unshared?: boolean;
}

/** Pickle layouts of pgo.py: 2.11's, and the one after it (closure_hash, excluded_*). */
export type TorchLayout = '2.11' | '2.12';
export const TORCH_LAYOUTS: readonly TorchLayout[] = ['2.11', '2.12'];

/**
 * The profile's layout: as set, else '2.12' where a code id carries closure_hash (so a
 * profile put together without codeStateFor, e.g. loaded from a stored view, still knows),
 * else undefined (never said: written as 2.11).
 */
export function layoutOf(profile: Profile): TorchLayout | undefined {
  if (profile.layout) return profile.layout;
  for (const { id } of profile.codes.values()) if (id.closure_hash !== undefined) return '2.12';
  return undefined;
}

export function emptyProfile(): Profile {
  return { codes: new Map() };
}

/** `get_code_state()[code_id]`: the code's state, created (keeping this filename) if new. */
export function codeStateFor(profile: Profile, id: CodeId): CodeState {
  // The caller is about to put entries in (a join may take an array from elsewhere).
  if (profile.unshared) profile.unshared = false;
  const k = codeKey(id);
  let slot = profile.codes.get(k);
  if (!slot) {
    if (id.closure_hash !== undefined) profile.layout = '2.12';
    slot = { id, state: { automaticDynamic: new Map() } };
    profile.codes.set(k, slot);
  }
  return slot.state;
}

export function entryCount(profile: Profile): number {
  let n = 0;
  for (const { state } of profile.codes.values()) n += state.automaticDynamic.size;
  return n;
}
