import { sourceNamesOf, unpickleProfile, type SourceNames } from '../codecs/pickle/index.ts';
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
  const last = ledger.newestImport(profileId, window);
  if (last === null) return 'shared';
  if (last.importId === null) return 'per-code';
  const snap = ledger.importSnapshot(last.importId);
  if (!snap) return 'per-code';
  try {
    return sourceNamesOf(snap.bytes, unpickleProfile(snap.bytes)) ?? 'per-code';
  } catch {
    // a kept snapshot that no longer reads (damage: verify's to say) tells nothing
    return 'per-code';
  }
}

/**
 * The source names an export of `profile` writes unless told (the library's exportBytes,
 * profilePickle, writeLocalDir, publishProfile, publishMerged; the command line's export and
 * publish the same): sourceNamesFor where the ledger handed the profile out (view, fold; its
 * window), so the library too writes PyTorch's bytes of a trace-ingested profile, while its
 * ledger is open; else 'shared', equal names one object (a profile put together or joined by
 * the caller, or one whose ledger was closed since, which can no longer be asked: pass
 * `sourceNames: sourceNamesFor(...)` asked before the close).
 */
export function writtenSourceNames(profile: Profile): SourceNames {
  const s = sourceOf(profile);
  return s?.open() ? sourceNamesFor(s.ledger, s.profileId, s.window) : 'shared';
}
