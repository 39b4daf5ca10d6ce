/**
 * A value as JSON.stringify writes it within an array (undefined and functions: null), for the
 * checkpoint texts written by hand (why's dims, the log counts): a finite number is its String,
 * and a string holding nothing JSON escapes (control characters, quote, backslash; a surrogate,
 * which may be a lone one) is quoted as it is. Most values (`8`, `?`, `S(1)`, run rows) are such:
 * no call into JSON.stringify for each.
 */
export function jsonItem(x: unknown): string {
  if (typeof x === 'number' && Number.isFinite(x)) return String(x);
  if (typeof x === 'string') {
    for (let i = 0; i < x.length; i++) {
      const c = x.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(x);
    }
    return `"${x}"`;
  }
  return x === null ? 'null' : (JSON.stringify(x) ?? 'null');
}
