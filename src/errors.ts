import { readFileSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The one error type of pgo-ledger. It keeps its cause (so a pickle's byte offset or
 * SQLite's own message reaches the user) and says what kind of failure it is, which is
 * what the command line's exit code is made from.
 *   input: the input or the usage is bad (exit 2)
 *   check: a check found a difference (exit 1)
 *   bug:   pgo-ledger itself is wrong (exit 70)
 */
export type FailureKind = 'input' | 'check' | 'bug';

/** What went in of an input that failed part way (LedgerError.partial). */
export type PartIngested = { appended: number; duplicates: number; records: number };

export class LedgerError extends Error {
  readonly kind: FailureKind;
  /** A failed input whose events went in in part (batches committed before a bad line, a trace's entries before a cut): what did, for the summaries. */
  readonly partial?: PartIngested;
  /** Its message says its cause in words of its own (`no such file or folder` for ENOENT): the cause is kept, not said again. */
  readonly saysCause?: true;
  constructor(message: string, options: { kind?: FailureKind; cause?: unknown; partial?: PartIngested; saysCause?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LedgerError';
    this.kind = options.kind ?? 'input';
    if (options.partial) this.partial = options.partial;
    if (options.saysCause) this.saysCause = true;
  }
}

/** Bad input or usage: a LedgerError of kind 'input'. */
export function inputError(message: string, cause?: unknown): LedgerError {
  return new LedgerError(message, { kind: 'input', cause });
}

const INPUT_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ENOSPC', 'EROFS', 'EEXIST', 'ELOOP', 'ENAMETOOLONG', 'EMFILE', 'ECONNREFUSED', 'ETIMEDOUT']);
/** Errors of JavaScript itself: when one escapes, the code is wrong, not the input. */
const BUG_NAMES = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'AssertionError', 'EvalError', 'InternalError']);

/**
 * Says where an error happened ("x.pkl: pgo artifact 2") and keeps it as the cause: its
 * words (a pickle's byte offset) stay in the message, and a bug below stays a bug.
 */
export function withContext(context: string, cause: unknown): LedgerError {
  return new LedgerError(`${context}: ${fullMessage(cause)}`, { kind: classify(cause), cause });
}

/** How an error thrown anywhere below the command line is to be told to the user. */
export function classify(e: unknown): FailureKind {
  if (e instanceof LedgerError) return e.kind;
  if (!(e instanceof Error)) return 'bug';
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (INPUT_CODES.has(code) || code.startsWith('SQLITE_'))) return 'input';
  // Errors our codecs and adapters raise for bad data carry their own class names.
  if (BUG_NAMES.has(e.name) && e.constructor.name === e.name) return 'bug';
  return 'input';
}

/** The message with its causes, each once: "reading x.pkl: at byte 12: unknown opcode". */
export function fullMessage(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur !== undefined && i < 8; i++) {
    const m = cur instanceof Error ? cur.message : String(cur);
    if (!parts.some((p) => p.includes(m))) parts.push(m);
    cur = cur instanceof Error && !(cur instanceof LedgerError && cur.saysCause) ? cur.cause : undefined;
  }
  return parts.join(': ');
}

/** How a message names an input: its path, or "standard input" for '-' (a "-:4:" read as a typo). */
export function inputName(input: string): string {
  return input === '-' ? 'standard input' : input;
}

/**
 * An input's failure as a line that names the input once: `${input}: ${what}` with the message
 * less the input's name where it starts with it (readers name their file, for callers that do
 * not; ingest and watch lines name it themselves).
 */
export function aboutInput(path: string, what: string, e: unknown): string {
  const input = inputName(path);
  const m = fullMessage(e);
  return `${input}: ${what}${m.startsWith(`${input}: `) ? m.slice(input.length + 2) : m}`;
}

/**
 * Whether an error is about the ledger's own database (read-only, locked, full, damaged; a
 * PostgreSQL server refusing the role or gone: postgres.ts names those PostgresRefusal)
 * rather than the input being read: then no further input can fare better.
 */
export function isDatabaseFailure(e: unknown): boolean {
  for (let cur = e, i = 0; cur instanceof Error && i < 8; cur = cur.cause, i++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if ((typeof code === 'string' && code.startsWith('SQLITE_')) || cur.name === 'DamageError' || cur.name === 'PostgresRefusal' || cur.name === 'LedgerTakenBack') return true;
  }
  return false;
}

/**
 * Whether a SQLite ledger this command had open was taken back under it before it wrote (a
 * new ledger another process made and removed, having failed with nothing written: writers
 * started together on one new path): the command may run again on the path (trial s29b).
 */
export function ledgerTakenBack(e: unknown): boolean {
  for (let cur = e, i = 0; cur instanceof Error && i < 8; cur = cur.cause, i++) if (cur.name === 'LedgerTakenBack') return true;
  return false;
}

/**
 * A failure of a SQLite ledger's file (full, read-only, an I/O error) with the file named:
 * SQLite's own words ("database or disk is full") name none. Others (PostgreSQL's name the
 * server already) as they are. An I/O error under a file-size limit says the limit: SQLite's
 * words ("disk I/O error") name no cause, and the limit is the one a user set without knowing
 * that a read too writes (the -shm file every connection to a WAL ledger maps).
 */
export function namingLedger(ledgerPath: string, e: unknown): unknown {
  for (let cur = e, i = 0; cur instanceof Error && i < 8; cur = cur.cause, i++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) continue;
    const named = fullMessage(e).includes(ledgerPath) ? e : withContext(`the ledger ${ledgerPath}`, e);
    const limit = code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL' ? fileSizeLimit() : undefined;
    // with no limit, a -shm that cannot grow is a full disk: a read command too then failed
    // with a bare "disk I/O error" (trial 20)
    const free = limit === undefined && code === 'SQLITE_IOERR_SHMSIZE' ? freeBytes(dirname(ledgerPath)) : undefined;
    if (limit === undefined && (free === undefined || free >= SHM_BYTES)) return named;
    const shm = `${ledgerPath}-shm, which SQLite maps for every reader and writer (32 KiB at least), cannot grow`;
    const why =
      limit === undefined
        ? `${shm}: the file system that holds it is full (${free} bytes free)`
        : code === 'SQLITE_IOERR_SHMSIZE'
          ? `${shm} past this process's file-size limit of ${limit} bytes (ulimit -f)`
          : `this process may write no file past ${limit} bytes (its file-size limit, ulimit -f), the likely cause`;
    // right after SQLite's words, before any note that follows them (the lines committed); its
    // cause SQLite's error, whose words it holds: one whose words it split (the note's) would
    // be said again after it
    const m = fullMessage(named);
    const at = m.indexOf(cur.message) + cur.message.length;
    return new LedgerError(`${m.slice(0, at)}: ${why}${m.slice(at)}`, { kind: classify(e), cause: cur });
  }
  return e;
}

/** What a -shm file takes at least: SQLite maps it in 32 KiB pieces. */
const SHM_BYTES = 32 << 10;

/** The bytes the user may still write in a folder's file system, where the system tells it. */
function freeBytes(folder: string): number | undefined {
  try {
    const s = statfsSync(folder);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** This process's limit on the size of a file it writes (RLIMIT_FSIZE), where Linux tells it; none when unlimited. */
function fileSizeLimit(): number | undefined {
  try {
    const m = /^Max file size\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
