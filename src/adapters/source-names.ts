import { codeStringsOf, sourceNamesOf, unpickleProfile, type CodeStrings, type SourceNames } from '../codecs/pickle/index.ts';
import type { Profile } from '../model/profile.ts';
import type { Ledger } from '../store/ledger.ts';
import { sourceOf } from '../store/profile-source.ts';
import type { Window } from '../store/window.ts';

/**
 * Which equal source names an export of the profile writes as one string object: as the
 * process that last wrote the profile whole had them (a pickle's bytes depend on it, its
 * loaded profile does not).
 * - Entries last imported from a TORCH_TRACE (or joined by a merge): PyTorch's process makes
 *   each code state's names its own objects, so every profile file it writes has them per
 *   code state: 'per-code' (byte for byte the file that run left).
 * - Last imported from a profile pickle (a file, a remote value, a mega-cache artifact): as
 *   that pickle had them, its own bytes tell (a profile CPython loaded and pickled again keeps
 *   the sharing it loaded); where they cannot tell, 'per-code', PyTorch's way.
 * - Never imported (observation lines): 'shared', equal names one object, as the oracle's
 *   harness passed them to PyTorch's update_automatic_dynamic.
 */
export function sourceNamesFor(ledger: Ledger, profileId: number, window: Window = {}): SourceNames {
  return writerStringsFor(ledger, profileId, window).sourceNames;
}

/** How the process that last wrote the profile whole shared its strings: what an export writes the same way. */
export interface WriterStrings {
  sourceNames: SourceNames;
  /** Code ids whose filename, name or file_hash were objects of their own (PickleOptions.codeStrings). */
  codeStrings?: CodeStrings;
}

/**
 * sourceNamesFor's source names, and the code ids' strings: where the entries last came from
 * a trace, as the runs' snapshots tell (codeOrigins: a warm-started run keeps the code ids it
 * loaded with the unpickler's strings); from a profile pickle, as its bytes tell
 * (codeStringsOf); else every string the writing process's own.
 */
export function writerStringsFor(ledger: Ledger, profileId: number, window: Window = {}): WriterStrings {
  const last = ledger.newestImport(profileId, window);
  if (last === null) return { sourceNames: 'shared' };
  if (last.importId === null) return withCodes('per-code', ledger.codeOrigins(profileId, window));
  const snap = ledger.importSnapshot(last.importId);
  if (!snap) return { sourceNames: 'per-code' };
  try {
    return withCodes(sourceNamesOf(snap.bytes, unpickleProfile(snap.bytes)) ?? 'per-code', codeStringsOf(snap.bytes));
  } catch {
    // a kept snapshot that no longer reads (damage: verify's to say) tells nothing
    return { sourceNames: 'per-code' };
  }
}

function withCodes(sourceNames: SourceNames, codeStrings: CodeStrings | null): WriterStrings {
  return codeStrings?.size ? { sourceNames, codeStrings } : { sourceNames };
}

/**
 * How an export of `profile` shares its strings unless told (the library's exportBytes,
 * profilePickle, writeLocalDir, publishProfile, publishMerged; the command line's export and
 * publish the same): writerStringsFor where the ledger handed the profile out (view, fold; its
 * window), so the library too writes PyTorch's bytes of a trace-ingested profile, while its
 * ledger is open; else 'shared', equal names one object (a profile put together or joined by
 * the caller, or one whose ledger was closed since, which can no longer be asked: pass
 * `writerStringsFor(...)`'s fields asked before the close).
 */
export function writtenStrings(profile: Profile): WriterStrings {
  const s = sourceOf(profile);
  return s?.open() ? writerStringsFor(s.ledger, s.profileId, s.window) : { sourceNames: 'shared' };
}
