import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import Database from 'better-sqlite3';
import { keepOpen } from './database.ts';
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
      // Looked at, and taken back, holding the write lock (its open may make the -shm, taken
      // back below with the others): another process making its ledger in the file holds the
      // lock until the ledger is whole, and one that opened the file and has yet to make it
      // finds the file gone when it takes the lock (database.ts stillThere), as does one that
      // opened the made ledger and writes to it.
      // unlessWritten, looked at first: a -wal or -shm made since is another process's that has
      // the file open (the last connection to close removes them; this one's is closed)
      if (o?.unlessWritten && SIDECARS.some((s) => !had.has(s) && existsSync(path + s))) return null;
      const lock = o?.unlessLedger || o?.unlessWritten ? writeLock(path) : null;
      let removed = false;
      try {
        if (o?.unlessLedger && (lock ? lock.holdsLedger : holdsLedger(path))) return null;
        if (o?.unlessWritten && (lock ? lock.holdsWrites() : holdsWrites(path))) return null;
        removed = true;
        return removeMade();
      } finally {
        lock?.release(removed);
      }
    },
  };

  function removeMade(): string | null {
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
  }
}

/**
 * The file's write lock (BEGIN IMMEDIATE, waiting up to 30 s as any writer does), and whether
 * the file holds a ledger made whole; null where it cannot be taken (a file cut short, no room
 * for its -shm), where the look without the lock is all there is.
 */
function writeLock(path: string): { holdsLedger: boolean; holdsWrites(): boolean; release(removed: boolean): void } | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 30000 });
    db.exec('BEGIN IMMEDIATE');
    const holds = !!db.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    const held = db;
    return {
      holdsLedger: holds,
      holdsWrites: () => writtenIn(held),
      release: (removed) => {
        try {
          held.exec('ROLLBACK');
        } catch {
          /* released with the connection */
        }
        // not closed once the files are removed (database.ts keepOpen says why)
        if (removed) keepOpen(held);
        else held.close();
      },
    };
  } catch {
    db?.close();
    return null;
  }
}

/** The tables a write leaves a row in (a ledger's making fills only meta and its migrations'). */
const WRITTEN = ['events', 'imports', 'watch_cursors', 'live_merges'];

/** Whether a connection's file holds a row a command wrote. */
function writtenIn(db: Database.Database): boolean {
  const has = db.prepare("select 1 from sqlite_master where type = 'table' and name = ?");
  return WRITTEN.some((t) => has.get(t) !== undefined && db.prepare(`select 1 from ${t} limit 1`).get() !== undefined);
}

/** Whether the file holds a row a command wrote; true where it cannot be read (left alone, as not surely empty). */
function holdsWrites(path: string): boolean {
  try {
    // not read-only: the last connection to close (this one: none other has it open) removes the -wal and -shm a read makes
    const db = new Database(path, { fileMustExist: true });
    try {
      return writtenIn(db);
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
