import type { FoldFilter, HistoryRow, Ledger } from './ledger.ts';

/** The recompile-reason records as of a point, from a fresh fold (the stored history is for now). */
export function historyAsOf(ledger: Ledger, profileId: number, filter: FoldFilter): HistoryRow[] {
  const rows: HistoryRow[] = [];
  ledger.fold(profileId, filter, (step, ev) => {
    for (const r of step.records) {
      rows.push({ ...r, position: ev.position, code: step.code, codeSeq: step.codeSeq, run: ev.run, time: ev.time, compileId: ev.compileId, origin: ev.origin, originLine: ev.originLine, guard: step.guard });
    }
  });
  return rows;
}
