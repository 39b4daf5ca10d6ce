import { codeKey, type CodeId } from './code-id.ts';
import type { FrameStateSizeEntry } from './entry.ts';

/** `CodeState`: the entries of one code object, by source name, in first-seen order. */
export interface CodeState {
  automaticDynamic: Map<string, FrameStateSizeEntry>;
}

/** `defaultdict[CodeId, CodeState]`: a whole profile, code ids in first-seen order. */
export interface Profile {
  codes: Map<string, { id: CodeId; state: CodeState }>;
}

export function emptyProfile(): Profile {
  return { codes: new Map() };
}

/** `get_code_state()[code_id]`: the code's state, created (keeping this filename) if new. */
export function codeStateFor(profile: Profile, id: CodeId): CodeState {
  const k = codeKey(id);
  let slot = profile.codes.get(k);
  if (!slot) {
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
