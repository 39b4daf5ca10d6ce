import { codeStateFor, emptyProfile, layoutOf, type Profile } from './profile.ts';
import { updateAutomaticDynamic } from './update.ts';

/**
 * The join of two profiles, as PyTorch joins ranks' states: `base` as it is, then each entry
 * of `other` joined in with `update_automatic_dynamic`'s rule (`|=`; a source new to base is
 * taken as it is). Code ids keep base's order, then other's new ones. Neither input changes.
 */
export function joinProfiles(base: Profile, other: Profile): Profile {
  const out = emptyProfile();
  const layout = layoutOf(base) ?? layoutOf(other);
  if (layout) out.layout = layout;
  for (const { id, state } of base.codes.values()) {
    const into = codeStateFor(out, id).automaticDynamic;
    // entries are replaced, never mutated, by the join's tuples: a shallow copy keeps base intact
    for (const [source, e] of state.automaticDynamic) into.set(source, { ...e });
  }
  for (const { id, state } of other.codes.values()) {
    codeStateFor(out, id);
    for (const [source, e] of state.automaticDynamic) updateAutomaticDynamic(out, id, source, { ...e });
  }
  return out;
}
