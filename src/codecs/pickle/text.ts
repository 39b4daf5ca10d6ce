/** UTF-8 decode as CPython's 'surrogatepass': lone surrogates allowed, anything else malformed is null. */
const fatal = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(b: Buffer, start: number, end: number): string | null {
  // ASCII dominates profiles: a native latin1 slice is then exact and allocates once.
  for (let i = start; i < end; i++) if (b[i] >= 0x80) return slow(b, start, end);
  return b.toString('latin1', start, end);
}

function slow(b: Uint8Array, start: number, end: number): string | null {
  try {
    return fatal.decode(b.subarray(start, end));
  } catch {
    return surrogatePass(b, start, end);
  }
}

function surrogatePass(b: Uint8Array, i: number, end: number): string | null {
  const out: number[] = [];
  while (i < end) {
    const c = b[i];
    let cp: number, n: number;
    if (c < 0x80) { cp = c; n = 1; }
    else if (c >= 0xc2 && c < 0xe0) { cp = c & 0x1f; n = 2; }
    else if (c >= 0xe0 && c < 0xf0) { cp = c & 0x0f; n = 3; }
    else if (c >= 0xf0 && c < 0xf5) { cp = c & 0x07; n = 4; }
    else return null;
    if (i + n > end) return null;
    for (let k = 1; k < n; k++) {
      const cc = b[i + k];
      if ((cc & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n === 3 && cp < 0x800) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff))) return null;
    out.push(cp);
    i += n;
  }
  let s = '';
  for (let k = 0; k < out.length; k += 4096) s += String.fromCodePoint(...out.slice(k, k + 4096));
  return s;
}

/** UTF-8 encode as 'surrogatepass' (lone surrogates become their 3-byte forms). */
const enc = new TextEncoder();
export function encodeUtf8(s: string): Uint8Array {
  if (!/[\ud800-\udfff]/.test(s)) return enc.encode(s);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); i++; }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

/** Protocol 0's UNICODE opcode: raw-unicode-escape (\uXXXX, \UXXXXXXXX, else Latin-1). */
export function decodeRawUnicodeEscape(b: Uint8Array, start: number, end: number): string | null {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x5c && i + 1 < end && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
      const n = b[i + 1] === 0x75 ? 4 : 8;
      if (i + 2 + n > end) return null;
      let hex = '';
      for (let k = 0; k < n; k++) hex += String.fromCharCode(b[i + 2 + k]);
      if (!/^[0-9a-fA-F]+$/.test(hex)) return null;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return null;
      s += String.fromCodePoint(cp);
      i += 1 + n;
    } else {
      s += String.fromCharCode(c);
    }
  }
  return s;
}
