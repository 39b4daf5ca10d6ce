import { lstatSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { inputError, LedgerError } from '../errors.ts';

/**
 * Writes a file whole or not at all: a temporary file beside it, then a rename. Errors name
 * the file asked for, never the temporary one, and leave nothing behind.
 */
export function writeFileAtomic(asked: string, bytes: Uint8Array, o: { ledger?: string } = {}): { fd?: number } {
  if (asked === '') throw inputError('the output path is empty');
  // rename(2) onto a folder fails as ENOTDIR ("outdir/") or EISDIR: either way it is a folder
  if (isFolder(asked)) throw inputError(`cannot write ${asked}: it is a folder`);
  if (/[/\\]$/.test(asked)) throw inputError(`cannot write ${asked}: a name ending in / is a folder's, not a file's`);
  if (o.ledger !== undefined) refuseLedgerFile(asked, o.ledger);
  // A rename replaces what is at the name: a link (the file it names is what was meant), a
  // device or a pipe (`-o /dev/stdout`, `/dev/null`: as root, trial s25c replaced /dev/null
  // with a file). Those are written through instead; a link to a file is followed to it.
  const target = outputTarget(asked);
  if (typeof target !== 'string') {
    writeThrough(asked, target, bytes);
    // (the caller's own words then go elsewhere than its output: `-o /dev/stdout` as `-o -`)
    return 'fd' in target ? { fd: target.fd } : {};
  }
  const path = target;
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* missing */
  }
  if (!isDir) throw inputError(`cannot write ${asked}: the folder ${dir} does not exist`);
  const tmp = join(dir, `.${basename(path)}.tmp.${process.pid}`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw inputError(`cannot write ${asked}: ${describeFsError(e, tmp, asked)}`);
  }
  return {};
}

/**
 * Where an output goes by rename: the path, or the file its links name (followed one by one,
 * so a link to a name not made yet makes it); else what is written through: a device or a
 * pipe (`{ path }`), or this process's own descriptor (`{ fd }`: /dev/stdout names
 * /proc/self/fd/1, whose target is no path, and a socket there cannot be opened again).
 */
function outputTarget(path: string): string | { path: string } | { fd: number } {
  let p = path;
  for (let i = 0; i < 40; i++) {
    const fd = /^\/(?:proc\/self|dev)\/fd\/(\d+)$/.exec(p);
    if (fd) return { fd: Number(fd[1]) };
    let l;
    try {
      l = lstatSync(p);
    } catch {
      return p; // nothing there yet
    }
    if (l.isFile()) return p;
    if (!l.isSymbolicLink()) return { path: p };
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw inputError(`cannot write ${path}: too many levels of links`);
}

/** An output to a device, a pipe or a descriptor, written as it is (a pipe waits for its reader, as any writer's would). */
function writeThrough(asked: string, to: { path: string } | { fd: number }, bytes: Uint8Array): void {
  try {
    if ('path' in to) writeFileSync(to.path, bytes);
    else {
      for (let at = 0; at < bytes.length; ) {
        try {
          at += writeSync(to.fd, bytes, at);
        } catch (e) {
          // a descriptor left non-blocking (a pipe Node made): wait for its reader, as a blocking write would
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
      }
    }
  } catch (e) {
    throw inputError(`cannot write ${asked}: ${describeFsError(e, asked, asked)}`);
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
