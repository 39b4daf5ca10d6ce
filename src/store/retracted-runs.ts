import type { Ledger } from './ledger.ts';
import { dictionaries } from './log.ts';
import { leftOutRuns } from './window.ts';

/**
 * The runs a profile retracted (`retract --run`, `retractRun`), whose events its answers leave
 * out: what `jobs --json` gives as `retracted` (trial s28b: the library had no way to ask).
 */
export function retractedRuns(ledger: Ledger, profileId: number): string[] {
  return [...leftOutRuns(ledger.sql, profileId, {}, dictionaries(ledger.sql))];
}
