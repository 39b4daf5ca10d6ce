import type { Profile } from '../../model/profile.ts';
import { profileFromPy } from './profile-from-py.ts';
import { unpickleTree } from './unpickle.ts';

export { PickleError, ProfileShapeError } from './errors.ts';
export { pickleProfile, type CodeStrings, type PickleProtocol, type SourceNames } from './pickle-profile.ts';
export { codeStringsOf } from './code-strings.ts';
export { sourceNamesOf } from './source-names.ts';
export { unpickle } from './unpickle.ts';

/** A profile pickle (protocols 0 to 5) to a Profile; PickleError/ProfileShapeError if not one. */
export function unpickleProfile(bytes: Uint8Array): Profile {
  const { value, tree } = unpickleTree(bytes);
  const profile = profileFromPy(value);
  // profileFromPy puts each tuple and each automatic_dynamic it builds in one place: a tree
  // gives a profile in which none occurs twice.
  if (tree) profile.unshared = true;
  return profile;
}
