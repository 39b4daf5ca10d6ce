import { fullMessage, LedgerError } from '../errors.ts';

/**
 * The database is damaged (a page SQLite cannot read, a row that does not parse): the
 * command stops, says what it met and points at `verify`, which checks the whole file.
 */
export class DamageError extends LedgerError {
  constructor(path: string, what: string, cause: unknown) {
    // A file that is no SQLite database at all: verify would only say the same.
    const notADb = (cause as { code?: unknown } | null)?.code === 'SQLITE_NOTADB';
    super(
      notADb
        ? `${path} is no pgo-ledger database (nor any SQLite database): a mistyped --db, or a file damaged from its first page`
        : `${path} is damaged: ${what}: ${fullMessage(cause)}; run \`pgo-ledger verify --db ${path}\` to check the whole database`,
      { kind: 'input', cause },
    );
    this.name = 'DamageError';
  }
}

/** SQLite's codes for a file that is not (or no longer) a whole database. */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || code === 'SQLITE_IOERR_SHORT_READ');
}

/**
 * SQLite's words for a statement that names a table or column the file lacks: every statement
 * of ours names the ledger's own schema, so in a ledger that opened (its migrations recorded)
 * one is gone: damage, not a bug of ours (a table dropped by hand said "no such table: events").
 */
export function isMissingPart(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_ERROR' && /^no such (table|column): /.test((e as Error).message);
}

/** The error to throw for what was met: damage once (never wrapped twice). */
export function damaged(path: string, what: string, cause: unknown): DamageError {
  return cause instanceof DamageError ? cause : new DamageError(path, what, cause);
}
