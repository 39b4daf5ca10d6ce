import { inputError } from '../errors.ts';
import { parseCacheKey } from '../model/cache-key.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import type { Ledger } from '../store/ledger.ts';
import { importEvents } from './ingest-snapshot.ts';

/**
 * The join of profiles into another, as PyTorch's compiler collectives join the ranks'
 * states: every entry of each source is joined (`|=`) into the target, one event each, so
 * `why` names the source that made a dim dynamic.
 */
export function mergeProfiles(ledger: Ledger, from: { id: number; cacheKey: string }[], into: string, run: string | null = null) {
  // said of `into`, not of the first profile joined (whose origin the append names)
  try {
    parseCacheKey(into);
  } catch (e) {
    throw inputError(`into: ${(e as Error).message}`, e);
  }
  const target = ledger.profileByKey(into);
  // joined into itself, a profile would only gain import events (merge's --from refuses it too)
  const self = target && from.find((f) => f.id === target.id);
  if (self) throw inputError(`from ${self.cacheKey} is into itself: a merge joins other profiles into it`);
  let appended = 0;
  let duplicates = 0;
  let records = 0;
  for (const f of from) {
    const profile = ledger.view(f.id).profile;
    const bytes = pickleProfile(profile);
    const r = ledger.append(importEvents(ledger, profile, into, { format: 'merge', origin: `profile ${f.cacheKey}`, bytes, run, time: Date.now() }));
    appended += r.appended;
    duplicates += r.duplicates;
    records += r.records;
  }
  return { appended, duplicates, records };
}
