/** Adds `from`'s events of retracted runs (AppendResult.leftOut: by run) into `into`'s, for a sum of an input's results. */
export function addLeftOut(into: { leftOut?: Record<string, number> }, from: { leftOut?: Record<string, number> }): void {
  if (!from.leftOut) return;
  const sum = (into.leftOut ??= {});
  for (const [run, n] of Object.entries(from.leftOut)) sum[run] = (sum[run] ?? 0) + n;
}
