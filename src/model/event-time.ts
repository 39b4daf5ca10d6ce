/** The last millisecond of the year 9999: later times break date arithmetic and ISO output. */
export const LAST_TIME_MS = 253402300799999;

/** An event time the ledger can store, sort and print (ms since the epoch, 1970 to 9999). */
export function isEventTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= LAST_TIME_MS;
}
