import { closeSync, openSync, readSync } from 'node:fs';

const BACK = 64 << 10;

/**
 * Where the complete lines of bytes [from, size) of a file end: after its last newline, where a
 * writer (PyTorch's logger, a recorder appending observation lines) may be in the middle of the
 * next line. watch reads a file only this far, and the rest waits for its newline (one rule for
 * logs and observation lines). `wholeLastLine`: a last line without its newline that the kind
 * reads as whole all the same (an observation line that parses: a cut JSON object never does,
 * as its closing brace is its last byte), so a file ended without a newline is not held back.
 */
export function linesEnd(path: string, from: number, size: number, wholeLastLine?: (tail: Buffer) => boolean): number {
  if (size <= from) return size;
  const fd = openSync(path, 'r');
  try {
    // backwards from the end: a last line is short, the file may not be
    const buf = Buffer.allocUnsafe(Math.min(BACK, size - from));
    for (let to = size; to > from; ) {
      const at = Math.max(from, to - buf.length);
      const n = readAt(fd, buf, to - at, at);
      const nl = buf.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) return tailEnd(fd, at + nl + 1, size, wholeLastLine);
      to = at;
    }
    return tailEnd(fd, from, size, wholeLastLine);
  } finally {
    closeSync(fd);
  }
}

function tailEnd(fd: number, end: number, size: number, wholeLastLine: ((tail: Buffer) => boolean) | undefined): number {
  if (end === size || !wholeLastLine) return end;
  const tail = Buffer.allocUnsafe(size - end);
  return wholeLastLine(tail.subarray(0, readAt(fd, tail, tail.length, end))) ? size : end;
}

function readAt(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
