import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { inputError, LedgerError } from '../errors.ts';

/**
 * Writes a file whole or not at all: a temporary file beside it, then a rename. Errors name
 * the file asked for, never the temporary one, and leave nothing behind.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, o: { ledger?: string } = {}): void {
  if (path === '') throw inputError('the output path is empty');
  // rename(2) onto a folder fails as ENOTDIR ("outdir/") or EISDIR: either way it is a folder
  if (isFolder(path)) throw inputError(`cannot write ${path}: it is a folder`);
  if (/[/\\]$/.test(path)) throw inputError(`cannot write ${path}: a name ending in / is a folder's, not a file's`);
  if (o.ledger !== undefined) refuseLedgerFile(path, o.ledger);
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* missing */
  }
  if (!isDir) throw inputError(`cannot write ${path}: the folder ${dir} does not exist`);
  const tmp = join(dir, `.${basename(path)}.tmp.${process.pid}`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw inputError(`cannot write ${path}: ${describeFsError(e, tmp, path)}`);
  }
}

/**
 * An output named as the ledger's own file (or its -wal, -shm or -journal) would be renamed
 * over it: the whole ledger lost to an export. The same file by device and inode, any name.
 */
function refuseLedgerFile(path: string, ledger: string): void {
  let out: { dev: number; ino: number };
  try {
    out = statSync(path);
  } catch {
    return; // nothing there: no ledger to lose (a PostgreSQL ledger's URL is no file either)
  }
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    try {
      const f = statSync(ledger + suffix);
      if (f.dev === out.dev && f.ino === out.ino) throw inputError(`cannot write ${path}: it is the ledger's own file (${ledger + suffix}), which the output would replace`);
    } catch (e) {
      if (e instanceof LedgerError) throw e;
    }
  }
}

/** A file system error in words, with the temporary file's name put back to the real one. */
export function describeFsError(e: unknown, tmp: string, path: string): string {
  const words: Record<string, string> = { EACCES: 'permission denied', EPERM: 'permission denied', EISDIR: 'it is a folder', ENOSPC: 'no space left on the device', EROFS: 'the file system is read-only', EDQUOT: 'over the disk quota', EFBIG: 'larger than this process may write (ulimit -f)', ENOTDIR: 'a part of its path is a file, not a folder' };
  const code = (e as NodeJS.ErrnoException).code;
  return (code && words[code]) || String((e as Error).message).split(tmp).join(path);
}


/** Whether a folder is at the path (false where nothing, or nothing this user may see, is there). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
