import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** What one walk of folders found; one walk may span several paths (watch's), each file once. */
export interface FolderWalk {
  /** Regular files by path, with their stats (a link's target's), in the order found. */
  files: Map<string, Stats>;
  /** Entries not read, each with why: no regular file (a pipe, a socket, a device: never opened, as opening a pipe blocks), or a link that leads to none. */
  skipped: { path: string; why: string }[];
  /** Folders that could not be listed: failures, as a file that fails. */
  closed: { path: string; why: string }[];
  /** Device and inode of each folder listed and file taken: a second way to one (a link, a loop of links, a hard link) reads it not again. */
  seen: Set<string>;
}

export const newFolderWalk = (): FolderWalk => ({ files: new Map(), skipped: [], closed: [], seen: new Set() });

const identity = (st: Stats) => `${st.dev}:${st.ino}`;

/** What a path that is neither a regular file nor a folder is, said the one way ingest and watch say it; null for a file or folder. */
export function notAFile(st: Stats): string | null {
  if (st.isFile() || st.isDirectory()) return null;
  const what = st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'a special file';
  return `${what}, not a regular file`;
}

/** Why a symbolic link leads to nothing that can be read, from stat's error. */
function deadLink(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'a symbolic link in a loop of links, not a regular file';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'a symbolic link to nothing there, not a regular file';
  return `a symbolic link that cannot be followed (${(e as Error).message}), not a regular file`;
}

/**
 * The regular files under a path (a folder, or a file: itself), the one walk ingest and watch
 * list a folder with: depth first in name order (readingOrder then puts the logs first); no
 * dot files, as the shell's `*` lists none. Symbolic links are followed, to files and to
 * folders (Kubernetes' projected volumes and "latest" folders are made of them), but each file
 * and folder is read once, by device and inode: by its name outside any link where it has one
 * (the tree itself is walked before its links), else by the first link to it in name order, so
 * a loop of links ends and a link to a folder read already reads it not again. What is no
 * regular file is only stat'ed, never opened (a pipe blocks its opener until a writer comes).
 */
export function filesUnder(dir: string, walk: FolderWalk = newFolderWalk()): FolderWalk {
  const links: string[] = [];
  const take = (p: string, st: Stats) => {
    if (st.isDirectory()) {
      if (walk.seen.has(identity(st))) return;
      walk.seen.add(identity(st));
      let names: string[];
      try {
        names = readdirSync(p).sort();
      } catch (e) {
        walk.closed.push({ path: p, why: `cannot list the folder: ${(e as Error).message}` });
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const entry = join(p, name);
        let est: Stats;
        try {
          est = lstatSync(entry);
        } catch {
          continue; // gone since the folder was listed
        }
        if (est.isSymbolicLink()) links.push(entry);
        else take(entry, est);
      }
    } else if (st.isFile()) {
      if (walk.seen.has(identity(st))) return;
      walk.seen.add(identity(st));
      walk.files.set(p, st);
    } else walk.skipped.push({ path: p, why: notAFile(st)! });
  };
  let top: Stats;
  try {
    top = statSync(dir);
  } catch {
    return walk; // the caller says why a path it was given cannot be read (watch: not there yet)
  }
  take(dir, top);
  // the links last, so a file or folder is named as it is outside them; a folder a link leads to adds its own
  for (let i = 0; i < links.length; i++) {
    let st: Stats;
    try {
      st = statSync(links[i]);
    } catch (e) {
      walk.skipped.push({ path: links[i], why: deadLink(e) });
      continue;
    }
    take(links[i], st);
  }
  return walk;
}
