import { closureHex, codeIdText, codeKey, type CodeId } from './code-id.ts';
import { joinInto, type FrameStateSizeEntry } from './entry.ts';
import { layoutOf, type Profile } from './profile.ts';

/** The identity a 2.11 CodeId has: a code id without its closure_hash. */
function withoutClosure(id: CodeId): CodeId {
  const { closure_hash: _c, ...rest } = id;
  return rest;
}

/**
 * Code ids that the 2.11 layout cannot tell apart (they differ only in closure_hash), one
 * line each: `hash(…)file:line:name (closures 0x…, None)`. Empty when there are none.
 */
export function closureConflicts(profile: Profile): string[] {
  let any = false;
  for (const { id } of profile.codes.values()) {
    if (id.closure_hash != null) {
      any = true;
      break;
    }
  }
  if (!any) return []; // the common case: nothing to group
  const groups = new Map<string, CodeId[]>();
  for (const { id } of profile.codes.values()) {
    const k = codeKey(withoutClosure(id));
    const g = groups.get(k);
    if (g) g.push(id);
    else groups.set(k, [id]);
  }
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => `${codeIdText(g[0])} (closures ${g.map((c) => (c.closure_hash == null ? 'None' : closureHex(c.closure_hash))).join(', ')})`);
}

/**
 * `--merge-closures`: code ids that differ only in closure_hash become one (without a
 * closure hash, first-seen filename and order), their entries joined with `|=` source by
 * source, as PyTorch 2.11 would have folded them into its one code state.
 */
export function mergeClosures(profile: Profile): Profile {
  const out: Profile = { codes: new Map(), layout: layoutOf(profile) };
  for (const { id, state } of profile.codes.values()) {
    const bare = withoutClosure(id);
    const k = codeKey(bare);
    let slot = out.codes.get(k);
    if (!slot) out.codes.set(k, (slot = { id: bare, state: { automaticDynamic: new Map() } }));
    const into = slot.state.automaticDynamic;
    for (const [src, e] of state.automaticDynamic) {
      const have = into.get(src);
      if (have) joinInto(have, e);
      else into.set(src, copyEntry(e));
    }
  }
  return out;
}

function copyEntry(e: FrameStateSizeEntry): FrameStateSizeEntry {
  return { ...e };
}
