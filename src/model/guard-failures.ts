/**
 * A compile's guard failures as one line: the first line of each reason PyTorch gave, joined
 * by '; ' (`1/1: tensor 'a' stride mismatch at index 1. …; 1/0: tensor 'a' stride mismatch at
 * index 0. …`).
 *
 * A trace's `recompile_reasons` holds one reason per cache entry whose guards failed (a frame
 * compiled twice has two), and the ledger keeps them joined by newlines; a reason may run on
 * over several lines (its user stack trace). Each reason starts with the compile id of the
 * entry that failed (CompileId's str: `0/1`, or `!0/0/1` under compiled autograd), so a line
 * that does starts the next reason. The first line is kept whatever it holds.
 */
export function guardFailures(guard: string): string {
  const lines = guard.split('\n');
  return [lines[0], ...lines.slice(1).filter((l) => REASON_START.test(l))].join('; ');
}

const REASON_START = /^(?:\d+\/\d+|!\d+(?:\/\d+\/\d+)?): /;
