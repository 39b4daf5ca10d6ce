// Which characters a name the ledger keeps (a source, a code's field, a run) may not hold, and
// how a message shows one: one rule for every input (observation lines, traces, snapshots).

/** A control character: C0, DEL and C1 (U+0085 is a line break to some readers). */
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;
const BAD_ID = new RegExp(`${CONTROL_CHAR.source}|[\\ufffd]|\\p{Cs}`, 'u');
/**
 * Whether an id (a source, a code's field, a run) holds what the ledger refuses: a control
 * character, a lone surrogate, or U+FFFD, which bytes that are no UTF-8 decode to (PyTorch
 * writes a trace's JSON as ASCII, escapes and all, and a pickle's strings as UTF-8: a name
 * holding it was damaged where it was read; trial s27b: stored silently).
 */
export const holdsBadId = (v: string): boolean => BAD_ID.test(v);
/**
 * A sighting with no run, among the runs `why` keeps of a value (why-fold.ts whyCount): a NUL,
 * which no run the ledger holds can contain (holdsBadId refuses it on every input), so it never
 * stands for a run's name. Answers give it as null (a JSON event's run) or "no run".
 */
export const NO_RUN = '\u0000';
/** An id as a message shows it: JSON, C1 controls escaped too (JSON leaves them raw, and a terminal may act on them). */
export function idText(v: string): string {
  return JSON.stringify(v.length > 200 ? v.slice(0, 200) : v).replace(/[\u0080-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
/** What is wrong with an id holdsBadId refuses, in the words the messages use. */
export function badIdWhy(v: string): string {
  return v.includes('\ufffd') ? 'holds U+FFFD, the replacement character that bytes which are no UTF-8 decode to' : 'holds a control character or a lone surrogate';
}
