/** The last millisecond of the year 9999: later times break date arithmetic and ISO output. */
export const LAST_TIME_MS = 253402300799999;

/** An event time the ledger can store, sort and print (ms since the epoch, 1970 to 9999). */
export function isEventTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= LAST_TIME_MS;
}

/**
 * The millisecond an instant falls in: a time counts to the millisecond, as every event time
 * does (an ISO time's digits past it are dropped). Seconds as a float times 1000 land a hair off
 * a whole millisecond (1795687320.123 * 1000): within a thousandth of one, that one.
 * Trial s33a: a file's mtime and an observation line's seconds kept their fraction, so
 * `--as-of` the millisecond `jobs` printed held none of it.
 */
export function eventMs(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-3 ? r : Math.floor(x);
}
