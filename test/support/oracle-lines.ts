import type { NextOracleCase, OracleCase } from './fixtures.ts';

/** An oracle case as observation JSONL (one job per case); runs alternate when asked. */
export function caseLines(c: OracleCase, opts: { runs?: (i: number) => string } = {}): string[] {
  return c.observations.map((o, i) => {
    const { code, ...shape } = o;
    return JSON.stringify({
      job: `case-${c.id}`,
      ...(opts.runs ? { run: opts.runs(i) } : {}),
      time: new Date(Date.UTC(2026, 10, 26, 10, 0, i)).toISOString(),
      code: c.codes[code],
      automatic_dynamic: c.automatic_dynamic_shapes,
      ...shape,
    });
  });
}

/** A case of oracle/next as observation JSONL: closure_hash in `code` (past 2**53 as a string). */
export function nextCaseLines(c: NextOracleCase): string[] {
  return c.observations.map((o, i) => {
    const { code, ...shape } = o;
    const id = c.codes[code];
    return JSON.stringify({
      job: `next-${c.id}`,
      time: new Date(Date.UTC(2026, 10, 28, 10, 0, i)).toISOString(),
      code: { ...id, closure_hash: typeof id.closure_hash === 'bigint' ? id.closure_hash.toString() : id.closure_hash },
      automatic_dynamic: c.automatic_dynamic_shapes,
      ...shape,
    });
  });
}
