import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isPostgresUrl } from './dialect/dialect.ts';

/** The files SQLite makes beside a ledger. */
const SIDECARS = ['-wal', '-shm', '-journal'];

export interface LedgerFileBefore {
  /** The path held no ledger before (no file, or an empty one, which a ledger may be made in): what is there now is this process's. */
  readonly isNew: boolean;
  /**
   * Puts a new file back as it was (removed, or emptied) with the sidecars made since, and
   * says so; null where nothing was made (or the file was no new one: it is never touched).
   * `unlessLedger`: left as it is where it holds a ledger made whole (a ledger's making is one
   * transaction): another process's, made meanwhile, which writers started together on one new
   * path do. `unlessWritten`: left as it is where it holds anything written (an event, an
   * import, a watch cursor) or another connection still has it open (its -wal or -shm left
   * after this process closed it: the last connection to close removes them): a command that
   * made a ledger and failed before writing anything takes it back (`pull --all` of bad entries
   * only left an empty ledger behind, trial s23). Never throws: a file that cannot be taken
   * back is said, with what to do.
   */
  takeBack(o?: { unlessLedger?: boolean; unlessWritten?: boolean }): string | null;
}

/**
 * What was at a SQLite ledger's path before this process opened it to write, looked at before
 * the open: the one place that tells "a ledger this command made" and takes it back whole when
 * its making (openLedger) or a copy into it (copy) failed. A file cut by a full disk or a
 * file-size limit is no ledger (a 4 KiB header, or tables without their rows), which a later
 * command then meets; a file that held anything before is never removed. A PostgreSQL URL or
 * `:memory:` is nothing to take back.
 */
export function ledgerFileBefore(path: string): LedgerFileBefore {
  if (path === ':memory:' || isPostgresUrl(path)) return { isNew: false, takeBack: () => null };
  let size: number | null = null;
  try {
    size = statSync(path).size;
  } catch {
    /* not there */
  }
  if (size !== null && size > 0) return { isNew: false, takeBack: () => null };
  const had = new Set(SIDECARS.filter((s) => existsSync(path + s)));
  return {
    isNew: true,
    takeBack(o) {
      // looked at first: its read may make the -shm, taken back below with the others
      if (o?.unlessLedger && holdsLedger(path)) return null;
      if (o?.unlessWritten && (SIDECARS.some((s) => !had.has(s) && existsSync(path + s)) || holdsWrites(path))) return null;
      const made = SIDECARS.filter((s) => !had.has(s) && existsSync(path + s));
      const there = existsSync(path);
      // a file that could not even be made (its folder may not be written): nothing to say
      if (!made.length && (size === null ? !there : !there || statSync(path).size === 0)) return null;
      try {
        for (const s of made) rmSync(path + s, { force: true });
        if (size === null) rmSync(path, { force: true });
        else truncateSync(path, 0);
        return size === null ? `nothing was written: the new ledger ${path} is removed` : `nothing was written: ${path} is left empty, as it was`;
      } catch (r) {
        return `${path} was new, and could not be taken back (${r instanceof Error ? r.message : String(r)}): remove it before trying again`;
      }
    },
  };
}

/** The tables a write leaves a row in (a ledger's making fills only meta and its migrations'). */
const WRITTEN = ['events', 'imports', 'watch_cursors', 'live_merges'];

/** Whether the file holds a row a command wrote; true where it cannot be read (left alone, as not surely empty). */
function holdsWrites(path: string): boolean {
  try {
    // not read-only: the last connection to close (this one: none other has it open) removes the -wal and -shm a read makes
    const db = new Database(path, { fileMustExist: true });
    try {
      const has = db.prepare("select 1 from sqlite_master where type = 'table' and name = ?");
      return WRITTEN.some((t) => has.get(t) !== undefined && db.prepare(`select 1 from ${t} limit 1`).get() !== undefined);
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}

/** Whether the file reads as a SQLite database that holds the ledger's tables; false where it cannot be read (cut short, or no room for its -shm). */
function holdsLedger(path: string): boolean {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return !!db.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}
