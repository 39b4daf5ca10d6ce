/**
 * ISO 8601 as pgo-ledger reads it: a date, or a date and a time of day with 'Z', an offset or
 * none. Date.parse also takes many other forms ("1", "May 2", "Nov 26 2026 10:00"), read in the
 * machine's zone: those name no one instant, so they are no time here.
 */
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/** Whether a text has the form of a time pgo-ledger reads (parseUtcTime may still find no such day). */
export function isIsoTime(s: string): boolean {
  return ISO.test(s);
}

/**
 * A time's text as ms since the epoch (NaN when it is none). Every time pgo-ledger reads or
 * prints is UTC: one written with no offset is UTC too, so the same line or `--as-of` means
 * the same instant on every machine (Date.parse alone reads it in the local zone).
 */
export function parseUtcTime(s: string): number {
  const m = ISO.exec(s);
  if (m === null || !isDay(m[1])) return NaN;
  // a date alone: ECMAScript reads it as UTC already
  if (m[2] === undefined) return Date.parse(m[1]);
  const z = m[3];
  const offset = z === undefined || z === 'z' || z === 'Z' ? 'Z' : z.length === 5 ? `${z.slice(0, 3)}:${z.slice(3)}` : z;
  return Date.parse(`${m[1]}T${m[2]}${offset}`);
}

/**
 * Whether a YYYY-MM-DD names a day of the calendar: Date.parse rolls a day past its month's
 * last into the next month (2026-02-30 read as March 2) while it refuses hour 25, so a mistyped
 * day passed unseen (trial s23).
 */
function isDay(date: string): boolean {
  const y = Number(date.slice(0, 4));
  const mo = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days;
}

/** A duration in seconds, to the millisecond as every time printed is: an mtime's fraction of a millisecond is float noise (1.996044921875). */
export const toMillisecond = (s: number | null) => (s === null ? null : Math.round(s * 1000) / 1000);
