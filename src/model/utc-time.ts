/** A date and a time of day with no offset: what Date.parse would read in the machine's zone. */
const NO_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * A time's text as ms since the epoch (NaN when it is none). Every time pgo-ledger reads or
 * prints is UTC: one written with no offset is UTC too, so the same line or `--as-of` means
 * the same instant on every machine (Date.parse alone reads it in the local zone).
 */
export function parseUtcTime(s: string): number {
  const last = s.charCodeAt(s.length - 1);
  // 'Z' (the common case) or a digit ending an offset or a time of day: only the latter may lack one
  if (last === 90 /* Z */ || last === 122 /* z */) return Date.parse(s);
  const m = NO_OFFSET.exec(s);
  return Date.parse(m ? `${m[1]}T${m[2]}Z` : s);
}
