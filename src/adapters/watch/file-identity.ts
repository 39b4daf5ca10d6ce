import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, type Stats } from 'node:fs';

/** A file's cursor name: its device and inode, so a rename keeps it and a new file gets its own. */
export const fileInput = (st: Stats): string => `file:${st.dev}:${st.ino}`;

/** How many first bytes tell a file apart from another at the same inode (a reused inode, a copy-truncate rotation). */
export const HEAD_BYTES = 256;

/** `head:<n>:<sha1 of the first n bytes>`, n at most HEAD_BYTES (fewer while the file is shorter). */
export function headIdentity(path: string, n: number): string {
  const buf = readRange(path, 0, Math.min(n, HEAD_BYTES));
  return `head:${buf.length}:${sha1(buf)}`;
}

/** Whether the file still starts with the bytes an identity was taken from. */
export function sameHead(path: string, identity: string): boolean {
  const m = /^head:(\d+):/.exec(identity);
  return m !== null && headIdentity(path, Number(m[1])) === identity;
}

/**
 * `before:<to>:<n>:<sha1>` of the HEAD_BYTES bytes (fewer near the start) before byte `to`:
 * where a follower read to. A file cut and written again past that point keeps its head but
 * seldom these bytes, so it is told from one that only grew.
 */
export function bytesBefore(path: string, to: number): string {
  const buf = readRange(path, Math.max(0, to - HEAD_BYTES), to);
  return `before:${to}:${buf.length}:${sha1(buf)}`;
}

/** Whether the file still holds, before the same byte, the bytes an identity was taken from. */
export function sameBytesBefore(path: string, identity: string): boolean {
  const m = /^before:(\d+):/.exec(identity);
  return m !== null && bytesBefore(path, Number(m[1])) === identity;
}

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** Bytes [from, to) of a file. */
export function readRange(path: string, from: number, to: number): Buffer {
  const buf = Buffer.alloc(to - from);
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
