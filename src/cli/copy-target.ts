import { classify, fullMessage, LedgerError } from '../errors.ts';
import { isPostgresUrl } from '../store/dialect/dialect.ts';
import { ledgerFileBefore } from '../store/new-ledger-file.ts';

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
 * with the sidecars its open made (new-ledger-file.ts, as openLedger does with a ledger it could
 * not finish making): a copy cut by a full disk or a file-size limit left a ledger of part of the
 * log, a half-write. An existing ledger keeps the whole batches appended (an append is for good,
 * and one transaction for a whole copy would hold its write lock from every other writer for as
 * long): the message says how many, and the same copy again adds the rest. A PostgreSQL target
 * is left as it is.
 */
export function copyTarget(to: string): CopyTarget {
  if (isPostgresUrl(to)) return { failed: (e) => { throw e; } };
  const before = ledgerFileBefore(to);
  return {
    failed(e, copied, sourceEvents) {
      // a new ledger whose making failed was taken back by openLedger, which said so
      const left = before.isNew
        ? before.takeBack()
        : `${to} was a ledger before: ${copied ? `the events copied before it are in it, in whole transactions (${copied} of the source's ${sourceEvents()})` : 'no event of the copy is in it'}, and the same copy again adds the rest`;
      if (left === null) throw e;
      throw new LedgerError(`${fullMessage(e)}; ${left}`, { kind: classify(e), cause: e });
    },
  };
}
