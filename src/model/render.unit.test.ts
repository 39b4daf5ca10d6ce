import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodeId } from './code-id.ts';
import { entryOf } from './observation.ts';
import { codeStateFor, emptyProfile, type Profile } from './profile.ts';
import { renderProfile } from './render.ts';

describe('renderProfile at fleet size', () => {
  it("looks through the profile's code ids a fixed number of times, not once an entry (show of a 50k-code profile took 52 s)", () => {
    const profile: Profile = emptyProfile();
    for (let i = 0; i < 200; i++) {
      const id: CodeId = { filename: '/m.py', firstlineno: i + 1, name: `f${i}`, file_hash: 'h' };
      const st = codeStateFor(profile, id);
      for (const s of ["L['x']", "L['y']", "L['z']"]) st.automaticDynamic.set(s, entryOf({ kind: 'tensor', size: [8, 4], stride: [4, 1] }));
    }
    const text = renderProfile(profile);
    // the same text from a Map that counts how often its code ids are walked
    let walks = 0;
    class Counted<K, V> extends Map<K, V> {
      override values(): MapIterator<V> {
        walks++;
        return super.values();
      }
      override entries(): MapIterator<[K, V]> {
        walks++;
        return super.entries();
      }
      override [Symbol.iterator](): MapIterator<[K, V]> {
        walks++;
        return super[Symbol.iterator]();
      }
    }
    const counted: Profile = { codes: new Counted(profile.codes) };
    walks = 0;
    assert.equal(renderProfile(counted), text);
    assert.ok(walks <= 4, `${walks} walks of 200 code ids for 600 entries`);
  });
});
