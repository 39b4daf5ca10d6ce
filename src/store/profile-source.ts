import type { Profile } from '../model/profile.ts';
import type { Ledger } from './ledger.ts';
import type { Window } from './window.ts';

/** Where a profile the ledger handed out was folded: its ledger, its profile and the window (a view: the whole log). */
export interface ProfileSource {
  ledger: Ledger;
  profileId: number;
  window: Window;
  /** Whether the ledger is still open (a profile outlives its ledger's close: it can no longer be asked). */
  open(): boolean;
}

// Weak: kept only as long as the caller holds the profile. Not a field of Profile: model is
// pure, and a profile's answers (show, why, equality in tests) must not change with it.
const sources = new WeakMap<Profile, ProfileSource>();

/** Marks a profile the ledger hands out (view, fold) with where it was folded. */
export function markSource<P extends Profile>(profile: P, source: ProfileSource): P {
  sources.set(profile, source);
  return profile;
}

/**
 * Where the ledger folded this profile, undefined for one it did not hand out (unpickled, put
 * together, joined). What an export asks to write it as its writer had it (sourceNamesFor).
 */
export function sourceOf(profile: Profile): ProfileSource | undefined {
  return sources.get(profile);
}
