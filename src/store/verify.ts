import { entryToJson } from '../codecs/entry-json.ts';
import type { Ledger } from './ledger.ts';
import type { StreamView } from './fold.ts';

export interface VerifyResult {
  profiles: number;
  differences: string[];
}

function viewRows(v: StreamView): string[] {
  return [...v.profile.codes].map(([key, { id, state }]) =>
    JSON.stringify([v.codeSeq.get(key), id, [...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])], (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)),
  );
}

/** Folds the whole log afresh and lists every difference from the stored views. */
export function verifyLedger(ledger: Ledger): VerifyResult {
  const differences: string[] = [];
  const profiles = ledger.profiles();
  for (const p of profiles) {
    const fresh: string[] = [];
    const view = ledger.fold(p.id, {}, (step, ev) => {
      for (const r of step.records) fresh.push(JSON.stringify([ev.position, step.codeSeq, r.name, String(r.dim_changed), r.reason, r.cached, r.new]));
    });
    const want = viewRows(view);
    const have = viewRows(ledger.view(p.id));
    for (let i = 0; i < Math.max(want.length, have.length); i++) {
      if (want[i] !== have[i]) differences.push(`${p.cacheKey}: code state ${i}: stored ${have[i] ?? '(none)'}, log folds to ${want[i] ?? '(none)'}`);
    }
    const stored = ledger
      .history(p.id)
      .map((h) => JSON.stringify([h.position, h.codeSeq, h.name, String(h.dim_changed), h.reason, h.cached, h.new]));
    for (let i = 0; i < Math.max(fresh.length, stored.length); i++) {
      if (fresh[i] !== stored[i]) {
        differences.push(`${p.cacheKey}: history record ${i}: stored ${stored[i] ?? '(none)'}, log folds to ${fresh[i] ?? '(none)'}`);
        break;
      }
    }
  }
  return { profiles: profiles.length, differences };
}
