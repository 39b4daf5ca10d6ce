import type { HistoryRow, Ledger } from './ledger.ts';
import { isWholeLog, type Window } from './window.ts';

/** The recompile-reason records of a window: the stored history for the whole log, else a fresh fold. */
export function historyAsOf(ledger: Ledger, profileId: number, window: Window = {}): HistoryRow[] {
  if (isWholeLog(window)) return ledger.history(profileId);
  const rows: HistoryRow[] = [];
  ledger.fold(profileId, window, (step, ev) => {
    for (const r of step.records) {
      rows.push({ ...r, position: ev.position, code: step.code, codeSeq: step.codeSeq, run: ev.run, time: ev.time, compileId: ev.compileId, origin: ev.origin, originLine: ev.originLine, guard: step.guard });
    }
  });
  return rows;
}
