import type { Profile } from '../../model/profile.ts';
import { codeStringsOf } from './code-strings.ts';
import { pickleProfile, type SourceNames } from './pickle-profile.ts';

/**
 * How a profile pickle's equal source names were shared where it was pickled. CPython's
 * pickler memoises a string by identity, so the bytes tell: 'per-code' where each code state
 * has its own name objects (PyTorch's process makes a name when a code state first sees it:
 * every file PyTorch wrote that we have, cold or warm), 'shared' where equal names are one
 * object (CPython re-pickling a profile it loaded from such a file; the oracle's harness).
 * null: the bytes cannot tell (no name in two code states, or a protocol or a writer whose
 * bytes we do not make: then either way gives the same profile).
 */
export function sourceNamesOf(bytes: Uint8Array, profile: Profile): SourceNames | null {
  if (!namesRecur(profile)) return null;
  // protocols 0 and 1 start with no PROTO opcode; pickleProfile writes 2 to 5
  const protocol = bytes[0] === 0x80 ? bytes[1] : 0;
  if (protocol !== 2 && protocol !== 3 && protocol !== 4 && protocol !== 5) return null;
  // the code ids' strings as the bytes have them (a warm-started run's loaded ones apart)
  const codeStrings = codeStringsOf(bytes) ?? undefined;
  for (const mode of ['per-code', 'shared'] as const) {
    let mine: Uint8Array;
    try {
      mine = pickleProfile(profile, { protocol, sourceNames: mode, codeStrings });
    } catch {
      return null; // a profile the writer refuses (closure-distinct code ids in 2.11): not ours to tell
    }
    if (sameBytes(mine, bytes)) return mode;
  }
  return null;
}

/** True where some source name is in two code states (only then can sharing show). */
function namesRecur(profile: Profile): boolean {
  const seen = new Set<string>();
  for (const { state } of profile.codes.values()) {
    for (const name of state.automaticDynamic.keys()) {
      if (seen.has(name)) return true;
    }
    for (const name of state.automaticDynamic.keys()) seen.add(name);
  }
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
