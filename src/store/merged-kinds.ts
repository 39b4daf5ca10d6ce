import { DYNAMIC } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { PyFloat } from '../model/float.ts';
import { isPyInt } from '../model/int.ts';
import type { Ledger } from './ledger.ts';
import { dictionaries, scanEvents } from './log.ts';
import { leftOutRuns, type Window } from './window.ts';
import { whyCheckpointFor } from './why-checkpoints.ts';
import { carried, whyFold } from './why-fold.ts';

/** The kinds a source had in the profiles merged into a profile, each profile by its cache key (in the order merged). */
export interface MergedKinds {
  tensor: string[];
  /** 'an int' or 'a float', as the profile's entry (or its own events) held it. */
  scalar: { cacheKey: string; kind: 'an int' | 'a float' }[];
}

type Kind = 'tensor' | 'an int' | 'a float' | null;

/**
 * Which merged profiles brought each source as a tensor and which as a scalar, in the window:
 * a merge of a tensor's entry (make_tensor: scalar auto_dynamic) and a scalar's (make_scalar:
 * size and stride auto_dynamic) is dynamic in every field, whatever the values (PyTorch's
 * FrameStateSizeEntry.__ior__). A merge's event holds the entry its profile had: a size tuple
 * is a tensor's, a static scalar with no size a scalar's; an entry dynamic in every field does
 * not say, and that profile's own events (up to its last merge) are asked, one fold a profile
 * for all such sources. A profile whose events brought both kinds (or neither) is left out:
 * its own story tells it. One read of the profile's events, for every source asked of it.
 */
export function mergedKinds(ledger: Ledger, profileId: number, window: Window): (code: CodeId, source: string) => MergedKinds {
  const dict = dictionaries(ledger.sql);
  const excluded = leftOutRuns(ledger.sql, profileId, window, dict);
  // by `${code key}\0${source}`: each merged profile's kind, as its first merge event brought it
  const kinds = new Map<string, Map<string, Kind>>();
  // by merged profile: the sources its entries did not tell, and its last merge's position
  const ask = new Map<string, { keys: Set<string>; until: number }>();
  scanEvents(
    ledger.sql,
    { ...window, profileId, details: true },
    (ev) => {
      if (ev.kind !== 'entry.imported' || ev.format !== 'merge' || !ev.origin?.startsWith('profile ') || !ev.entry) return;
      if (ev.run !== null && excluded.has(ev.run)) return;
      const key = `${codeKey(ev.code)}\u0000${ev.source}`;
      const from = ev.origin.slice('profile '.length);
      let byProfile = kinds.get(key);
      if (!byProfile) kinds.set(key, (byProfile = new Map()));
      if (byProfile.has(from)) return;
      const e = carried(ev.entry);
      const kind: Kind | undefined = Array.isArray(e.size) ? 'tensor' : isPyInt(e.scalar) ? 'an int' : e.scalar instanceof PyFloat ? 'a float' : e.scalar === DYNAMIC && e.size === DYNAMIC ? undefined : null;
      byProfile.set(from, kind ?? null);
      if (kind === undefined) {
        let a = ask.get(from);
        if (!a) ask.set(from, (a = { keys: new Set(), until: 0 }));
        a.keys.add(key);
        a.until = Math.max(a.until, ev.position - 1);
      }
    },
    dict,
  );
  for (const [from, a] of ask) {
    const own = ownKinds(ledger, from, a.keys, { untilPosition: a.until, excludeRuns: window.excludeRuns });
    for (const key of a.keys) kinds.get(key)!.set(from, own.get(key) ?? null);
  }
  return (code, source) => {
    const out: MergedKinds = { tensor: [], scalar: [] };
    for (const [cacheKey, k] of kinds.get(`${codeKey(code)}\u0000${source}`) ?? []) {
      if (k === 'tensor') out.tensor.push(cacheKey);
      else if (k) out.scalar.push({ cacheKey, kind: k });
    }
    return out;
  };
}

/** Sources' kinds in a profile by its own events (observations, imports): one kind only, else null. */
function ownKinds(ledger: Ledger, cacheKey: string, keys: Set<string>, window: Window): Map<string, Kind> {
  const out = new Map<string, Kind>();
  const p = ledger.profileByKey(cacheKey);
  if (!p) return out;
  const dict = dictionaries(ledger.sql);
  const keep = (c: CodeId, s: string) => keys.has(`${codeKey(c)}\u0000${s}`);
  for (const [key, acc] of whyFold(ledger.sql, dict, p.id, window, keep, whyCheckpointFor(ledger.sql, p.id, window, dict, keep)).accs) {
    if (acc.sawTensor === acc.sawScalar) continue;
    const floats = !acc.sawTensor && [...acc.carried].some(([, slot]) => slot.key !== null && carried(slot.key).scalar instanceof PyFloat);
    out.set(key, acc.sawTensor ? 'tensor' : floats ? 'a float' : 'an int');
  }
  return out;
}
