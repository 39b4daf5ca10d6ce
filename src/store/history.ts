import type { HistoryRow, Ledger } from './ledger.ts';
import { knownPoints } from './known.ts';
import { isWholeLog, type Window } from './window.ts';

/**
 * The recompile-reason records of a window. The stored history folds the whole log; its rows up
 * to a position are that window's answer too unless a later retraction takes back events
 * before it (then, and for times and excluded runs, the log is folded afresh).
 */
export function historyAsOf(ledger: Ledger, profileId: number, window: Window = {}): HistoryRow[] {
  if (isWholeLog(window)) return ledger.history(profileId);
  // (the stored rows' path below reads no fold, which checks the window)
  knownPoints(window);
  const until = window.untilPosition;
  if (until !== undefined && window.untilTime === undefined && !window.excludeRuns?.length) {
    const later = ledger.sql.get("select 1 from events where profile_id = ? and kind = 'run.retracted' and position > ? limit 1", profileId, until);
    if (!later) return ledger.history(profileId).filter((h) => h.position <= until);
  }
  const rows: HistoryRow[] = [];
  ledger.fold(profileId, window, (step, ev) => {
    for (const r of step.records) {
      rows.push({ ...r, position: ev.position, code: step.code, codeSeq: step.codeSeq, run: ev.run, time: ev.time, compileId: ev.compileId, origin: ev.origin, originLine: ev.originLine, guard: step.guard, kind: ev.kind });
    }
  });
  return rows;
}
