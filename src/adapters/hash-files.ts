import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileHash } from '../model/file-hash.ts';

/** Bigger than any Python source file; a file past it is not read (its path stands in). */
export const HASH_FILE_LIMIT = 64 << 20;

const hashes = new Map<string, string>();

/**
 * PyTorch's file_hash for a code whose input left it out (issue 9.6). Ingested data never
 * makes pgo-ledger open a path it names: without `--hash-files DIR` the hash is the path
 * itself (what PyTorch writes when the file is not there). With it, only a regular file
 * under DIR (after symlinks), at most HASH_FILE_LIMIT bytes, opened without blocking
 * (a FIFO or device is never read).
 */
export function hashOfCodeFile(path: string, root: string | undefined): string {
  if (root === undefined) return fileHash(path, undefined);
  const k = `${root}\u0000${path}`;
  let h = hashes.get(k);
  if (h === undefined) hashes.set(k, (h = fileHash(path, readUnder(path, root))));
  return h;
}

function readUnder(path: string, root: string): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    const top = realpathSync(root);
    const real = realpathSync(resolve(top, path));
    if (!real.startsWith(top.endsWith(sep) ? top : top + sep)) return undefined;
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > HASH_FILE_LIMIT) return undefined;
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < st.size) {
      const r = readSync(fd, buf, n, st.size - n, n);
      if (r === 0) break;
      n += r;
    }
    return n === st.size ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
