import { pickleProfile } from '../codecs/pickle/index.ts';
import type { Ledger } from '../store/ledger.ts';
import { importEvents } from './ingest-snapshot.ts';

/**
 * The join of profiles into another, as PyTorch's compiler collectives join the ranks'
 * states: every entry of each source is joined (`|=`) into the target, one event each, so
 * `why` names the source that made a dim dynamic.
 */
export function mergeProfiles(ledger: Ledger, from: { id: number; cacheKey: string }[], into: string, run: string | null = null) {
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
