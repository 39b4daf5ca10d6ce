import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import { classify, fullMessage, LedgerError } from '../errors.ts';
import { isPostgresUrl } from '../store/dialect/dialect.ts';

/** The files SQLite makes beside a ledger. */
const SIDECARS = ['-wal', '-shm', '-journal'];

export interface CopyTarget {
  /**
   * Takes back what a failed copy wrote where the target was new, and throws `e` with what is
   * left of the target said: `copied`, the source's events appended (or there already) in whole
   * batches; `sourceEvents`, read only when told.
   */
  failed(e: unknown, copied: number, sourceEvents: () => number): never;
}

/**
 * What a failed `copy` leaves of its target (`--to`), looked at before it is opened. A SQLite
 * file that was new (absent, or empty, which a ledger may be made in) is put back as it was,
 * with the sidecars its open made: a copy cut by a full disk or a file-size limit left a file
 * that was no ledger (its making cut) or a ledger of part of the log, a half-write. An existing
 * ledger keeps the whole batches appended (an append is for good, and one transaction for a
 * whole copy would hold its write lock from every other writer for as long): the message says
 * how many, and the same copy again adds the rest. A PostgreSQL target is left as it is.
 */
export function copyTarget(to: string): CopyTarget {
  if (isPostgresUrl(to)) return { failed: (e) => { throw e; } };
  let size: number | null = null;
  try {
    size = statSync(to).size;
  } catch {
    /* not there */
  }
  const had = new Set(SIDECARS.filter((s) => existsSync(to + s)));
  return {
    failed(e, copied, sourceEvents) {
      let left: string;
      if (size === null || size === 0) {
        try {
          for (const s of SIDECARS) if (!had.has(s)) rmSync(to + s, { force: true });
          if (size === null) rmSync(to, { force: true });
          else truncateSync(to, 0);
          left = size === null ? `nothing was written: the new ledger ${to} is removed` : `nothing was written: ${to} is left empty, as it was`;
        } catch (r) {
          left = `${to} was new, and could not be taken back (${fullMessage(r)}): remove it before a copy again`;
        }
      } else {
        left = `${to} was a ledger before: ${copied ? `the events copied before it are in it, in whole transactions (${copied} of the source's ${sourceEvents()})` : 'no event of the copy is in it'}, and the same copy again adds the rest`;
      }
      throw new LedgerError(`${fullMessage(e)}; ${left}`, { kind: classify(e), cause: e });
    },
  };
}
