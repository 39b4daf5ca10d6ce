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
  if (m === null) return NaN;
  // a date alone: ECMAScript reads it as UTC already
  if (m[2] === undefined) return Date.parse(m[1]);
  const z = m[3];
  const offset = z === undefined || z === 'z' || z === 'Z' ? 'Z' : z.length === 5 ? `${z.slice(0, 3)}:${z.slice(3)}` : z;
  return Date.parse(`${m[1]}T${m[2]}${offset}`);
}

/** A duration in seconds, to the millisecond as every time printed is: an mtime's fraction of a millisecond is float noise (1.996044921875). */
export const toMillisecond = (s: number | null) => (s === null ? null : Math.round(s * 1000) / 1000);
