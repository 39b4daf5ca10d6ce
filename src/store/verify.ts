import { entryToJson } from '../codecs/entry-json.ts';
import type { Ledger } from './ledger.ts';
import type { StreamView } from './fold.ts';
import { DamageError } from './damage.ts';

export interface VerifyResult {
  profiles: number;
  differences: string[];
}

function viewRows(v: StreamView): string[] {
  return [...v.profile.codes].map(([key, { id, state }]) =>
    JSON.stringify([v.codeSeq.get(key), id, [...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])]),
  );
}

/** Folds the whole log afresh and lists every difference from the stored views. */
export function verifyLedger(ledger: Ledger): VerifyResult {
  const differences: string[] = [];
  // The file itself first: damage a fold never meets (a free page, an index) is damage all the same.
  let check: string[];
  try {
    check = ledger.sql.all<{ quick_check: string }>('pragma quick_check').map((r) => r.quick_check);
  } catch (e) {
    check = [e instanceof DamageError ? (e.cause as Error).message : (e as Error).message];
  }
  if (check.length !== 1 || check[0] !== 'ok') {
    for (const c of check) differences.push(`damaged: ${c}`);
    return { profiles: 0, differences };
  }
  const profiles = ledger.profiles();
  for (const p of profiles) {
    try {
      verifyProfile(ledger, p, differences);
    } catch (e) {
      if (!(e instanceof DamageError)) throw e;
      differences.push(`${p.cacheKey}: ${e.message.replace(/; run `pgo-ledger verify.*$/s, '')}`);
    }
  }
  return { profiles: profiles.length, differences };
}

function verifyProfile(ledger: Ledger, p: ReturnType<Ledger['profiles']>[number], differences: string[]): void {
  {
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
}
