import { fullMessage, inputError, LedgerError } from '../errors.ts';

/**
 * The database is damaged (a page SQLite cannot read, a row that does not parse): the
 * command stops, says what it met and points at `verify`, which checks the whole file.
 */
export class DamageError extends LedgerError {
  /** `next`: what to do, where more is known than that the file is damaged (a table missing). */
  constructor(path: string, what: string, cause: unknown, next = `run \`pgo-ledger verify --db ${path}\` to check the whole database`) {
    // A file that is no SQLite database at all: verify would only say the same.
    const notADb = (cause as { code?: unknown } | null)?.code === 'SQLITE_NOTADB';
    super(
      notADb
        ? `${path} is no pgo-ledger database (nor any SQLite database): a mistyped path, or a file damaged from its first page`
        : `${path} is damaged: ${what}${cause === undefined ? '' : `: ${fullMessage(cause)}`}; ${next}`,
      { kind: 'input', cause },
    );
    this.name = 'DamageError';
  }
}

/** The tables the log is kept in: what `copy` reads, and what every other table is folded or made from. */
const LOG_TABLES = ['events', 'bodies', 'profiles', 'codes', 'sources', 'runs', 'origins', 'imports'];
/** The ledger's other tables, on both backends: the views folded from the log, and watch's and the live merges' records. */
const OTHER_TABLES = ['code_states', 'history', 'checkpoints', 'why_checkpoints', 'profile_runs', 'profile_spans', 'meta', 'watch_cursors', 'live_merges'];

/** The ledger's tables a database lacks, given the tables it holds: those of the log first. */
export function missingTables(present: Iterable<string>): string[] {
  const has = new Set(present);
  return [...LOG_TABLES, ...OTHER_TABLES].filter((t) => !has.has(t));
}

/** Whether a missing table held part of the log (then nothing in the ledger can make it again). */
export const isLogTable = (t: string): boolean => LOG_TABLES.includes(t);

const RESTORE = 'restore the ledger from a backup';

/**
 * Tables of a ledger that are gone (dropped by hand): what is missing and what truly repairs it.
 * `replay` does not: it rebuilds the views' rows, not their tables. A table of the log held
 * what nothing else holds; without one of them only the views are lost, and `copy` folds a
 * whole new ledger from the log, live merges included (watch's cursors it leaves: copyLedger).
 */
export function tablesMissing(path: string, missing: readonly string[]): DamageError {
  const tables = `the ledger's table${missing.length === 1 ? '' : 's'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (dropped by hand?)`;
  const next = missing.some(isLogTable)
    ? `what the log kept there is lost and no command makes it again: ${RESTORE}`
    : `the log is whole: \`pgo-ledger copy --from ${path} --to NEW-LEDGER\` makes a whole ledger of it (\`replay\` cannot: it rebuilds the views' rows, not their tables), its live merges included; not watch's cursors: a watch on the new ledger reads its inputs again, and what the log holds adds nothing`;
  // no cause: the backend's own words ("no such table: events", 'relation "events" does not
  // exist') would follow the message, and both backends say the same
  return new DamageError(path, tables, undefined, next);
}

/**
 * A statement that named a table or column the ledger lacks (isMissingPart, or PostgreSQL's
 * 42P01 and 42703): the table it names, said as tablesMissing says it; a column, as damage
 * only a backup repairs.
 */
export function missingPart(path: string, cause: unknown): DamageError {
  if (cause instanceof DamageError) return cause;
  const m = /^no such table: (?:main\.)?(\w+)$|^relation "(\w+)" does not exist$/.exec((cause as Error).message);
  const table = m?.[1] ?? m?.[2];
  if (table && missingTables([]).includes(table)) return tablesMissing(path, [table]);
  return new DamageError(path, 'a table or column of the ledger is missing', cause, RESTORE);
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

/**
 * A database with tables but no record of migrations, given its tables' names, on either
 * backend: a ledger whose record was dropped (damaged), or another program's database, which a
 * write would make a ledger of (trial 17.3: `ingest` did, exit 0); null where it holds none.
 * `give`: how the caller names the path (OpenOptions.words).
 */
export function notALedger(path: string, tables: readonly string[], give: string, fresh = 'a new file'): LedgerError | null {
  const names = tables.filter((t) => !t.startsWith('sqlite_')).sort();
  if (!names.length) return null;
  const unrecorded = unrecordedLedger(path, names);
  if (unrecorded) return unrecorded;
  return inputError(`${path} is a database of something else (tables: ${shownTables(names)}), not a pgo-ledger ledger; it was left untouched: give ${fresh} as ${give}`);
}

/**
 * What a read (which never creates a ledger) says of a database that holds none, on either
 * backend, given its tables: a ledger's without its record (damaged), another program's, or
 * none at all. `named`: how the caller names the path (OpenOptions.named).
 */
export function noLedgerToRead(path: string, tables: readonly string[], named: string): LedgerError {
  const names = tables.filter((t) => !t.startsWith('sqlite_')).sort();
  const unrecorded = unrecordedLedger(path, names);
  if (unrecorded) return unrecorded;
  if (!names.length) return inputError(`${path} holds no pgo-ledger ledger (no tables at all): a read command never creates one (check ${named}; ingest or pull creates a ledger)`);
  return inputError(`${path} is a database of something else (tables: ${shownTables(names)}), not a pgo-ledger ledger: a read command never makes one (check ${named})`);
}

const shownTables = (names: readonly string[]) => names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} tables)` : '');

/** The ledger's tables there, its record of migrations (kysely_migration) gone: a damaged ledger, not a new database; else null. */
export function unrecordedLedger(path: string, tables: readonly string[]): LedgerError | null {
  if (!tables.includes('events') || !tables.includes('bodies')) return null;
  return inputError(`${path} holds a ledger's tables but no record of its migrations (kysely_migration): it is damaged, and was left untouched`);
}
