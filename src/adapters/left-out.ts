/**
 * Events appended of a run their profile retracted before (AppendResult.leftOut: a count by
 * run): the log keeps what came, and the retraction leaves them out of every answer, as it
 * leaves out its whole run, later events included. `ingest` and `watch` say so.
 */
export type LeftOut = Record<string, number>;

/** Adds `from`'s left-out events into `into`'s, for a sum of an input's results. */
export function addLeftOut(into: { leftOut?: LeftOut }, from: { leftOut?: LeftOut }): void {
  if (!from.leftOut) return;
  const sum = (into.leftOut ??= {});
  for (const [run, n] of Object.entries(from.leftOut)) sum[run] = (sum[run] ?? 0) + n;
}

/** The end of an input's text line: `; 2 of them of run r7, retracted before: ...` ('' when none). */
export function leftOutText(leftOut: LeftOut | undefined): string {
  if (!leftOut) return '';
  const runs = Object.entries(leftOut).map(([run, n], i) => `${n}${i ? '' : ' of them'} of run ${run}`);
  return `; ${runs.join(', ')}, retracted before: stored, and left out of every answer (a retract is for good)`;
}

/** The fields an input's JSON line gets: `left_out: [{run, appended}]`, none when there are none. */
export function leftOutJson(leftOut: LeftOut | undefined): { left_out?: { run: string; appended: number }[] } {
  return leftOut ? { left_out: Object.entries(leftOut).map(([run, appended]) => ({ run, appended })) } : {};
}
