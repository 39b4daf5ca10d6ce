import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Kysely, MigrationProvider } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import { inputError, LedgerError, namingLedger } from '../errors.ts';
import { damaged, isCorruption, isMissingPart, missingPart, noLedgerToRead, notALedger } from './damage.ts';
import { createFresh, freshUsable } from './fresh-sqlite.ts';
import type { LedgerSchema } from './schema.ts';
import { isPostgresUrl, SERVED_DATABASES, unservedScheme, type Dialect } from './dialect/dialect.ts';
import { sqliteDialect } from './dialect/sqlite.ts';

/**
 * The small surface of the database the store uses (so better-sqlite3's and pg's types stay
 * out of it): SQLite in process, or PostgreSQL through dialect/postgres.ts's synchronous
 * bridge. SQL strings use `?` marks and portable SQL; what differs is in `dialect`.
 */
export interface Sql {
  /** The database file, or the PostgreSQL URL without its password (for messages). */
  readonly path: string;
  readonly dialect: Dialect;
  /** lastInsertRowid: SQLite only (PostgreSQL throws on reading it; portable code says `returning id`). */
  run(sql: string, ...params: unknown[]): { changes: number; lastInsertRowid: number };
  get<T>(sql: string, ...params: unknown[]): T | undefined;
  all<T>(sql: string, ...params: unknown[]): T[];
  /**
   * A prepared statement to run many times (the append's insert), its parameters one array:
   * a rest parameter would copy the 5,000 values of each 500-row insert into a new array a call.
   * `kept` false: not kept by the connection (a statement its caller holds, and lets go of).
   */
  statement(sql: string, kept?: boolean): { run(params: readonly unknown[]): { changes: number; lastInsertRowid: number } };
  /** Rows as arrays (cheaper than objects on the hot read paths). */
  allRaw(sql: string, ...params: unknown[]): unknown[][];
  /**
   * Each row's one column, no array per row (replay's scan of a million rows); on PostgreSQL a
   * column of numbers comes as the Float64Array that crossed from the worker.
   */
  pluck?(sql: string, ...params: unknown[]): unknown[];
  exec(sql: string): void;
  /**
   * Runs fn in a write transaction: SQLite's BEGIN IMMEDIATE (the write lock up front: two
   * writers queue, never deadlock); on PostgreSQL the lock is dialect.lock's, per profile.
   */
  immediate<T>(fn: () => T): T;
  /**
   * SQLite: the write transactions so far that met another writer (found its lock held, or
   * the file changed by another connection since this one's last commit). Absent where the
   * backend cannot tell.
   */
  writersMet?(): number;
  /** SQLite: the write transactions this connection committed. */
  writes?(): number;
  dataVersion(): number;
  close(): void;
}

export interface OpenedDatabase {
  sql: Sql;
  path: string;
  close(): Promise<void>;
}

export class DatabaseVersionError extends LedgerError {
  constructor(path: string, unknown: string[]) {
    super(
      `${path} was written by a newer pgo-ledger (unknown migrations: ${unknown.join(', ')}); ` +
        'it was left untouched: upgrade pgo-ledger to open it',
    );
    this.name = 'DatabaseVersionError';
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface OpenOptions {
  busyTimeoutMs?: number;
  /** Read only: the file must exist and hold a current ledger; nothing is created, migrated or written. */
  readonly?: boolean;
  /** Written to, but never created: a database with no ledger tables is an error (PostgreSQL; on SQLite the file's absence says it). */
  existing?: boolean;
  /** How the caller names the path in messages: the library's words by default, the command line's flags. */
  words?: PathWords;
}

/** The path as a message names it: where to check it (a mistyped one), and where to give another. */
export interface PathWords {
  check: string;
  give: string;
}
const PATH_FIELDS: PathWords = { check: 'the path', give: 'the path' };
export const pathWords = (o: OpenOptions): PathWords => o.words ?? PATH_FIELDS;

/**
 * Opens a ledger database. Written to (the default): created if needed and migrated, under
 * the write lock so that many processes opening one new file all succeed. Read only: never
 * created (a mistyped path is an error, not an empty ledger) and never migrated (so a file
 * the user may only read can be read).
 */
export async function openDatabase(path: string, options: OpenOptions = {}): Promise<OpenedDatabase> {
  // A new file another process removed from under this open before its ledger was made in it
  // (TakenBack): opened again, as a new file at the path.
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabaseOnce(path, options);
    } catch (e) {
      if (!(e instanceof TakenBack) || attempt === 3) throw e instanceof TakenBack ? inputError(`cannot create the ledger in ${path}: other processes removed the new file ${attempt} times as this one made it`, e.cause ?? e) : e;
    }
  }
}

/**
 * The file a connection opened, by device and inode. A process whose making of a new ledger
 * failed removes the file (new-ledger-file.ts), under the write lock, where no ledger was made
 * in it; one that opened the file before then and makes the ledger after would make it in a
 * file no path names any more, and write its events there, lost: it looks again under the lock.
 */
interface FileIdentity {
  dev: number;
  ino: number;
}
const identityOf = (path: string): FileIdentity | null => {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
};
/** This open's file is no longer at its path (see FileIdentity): opened again. */
class TakenBack extends Error {
  // (a name isDatabaseFailure and ledgerTakenBack know it by: the ledger, not the input, failed)
  override name = 'LedgerTakenBack';
}
/**
 * Whether a file SQLite could not open or read is a new one another process is taking back:
 * a file of a few pages (a ledger's making cut short by a full disk or a file-size limit, in
 * another process) that is removed, replaced or emptied within 3 seconds. A ledger that is
 * damaged for good is said so after them.
 */
function beingTakenBack(path: string, opened: FileIdentity | null): boolean {
  const first = opened ?? identityOf(path);
  if (first === null) return true;
  try {
    if (statSync(path).size > 64 << 10) return false;
  } catch {
    return true;
  }
  // (3 s: on a loaded machine the other process's take-back came later than 1 s.) A file that
  // was empty before the other made its ledger in it is emptied again, not removed: the same
  // file, of 0 bytes (trial s24: "left empty, as it was", and this open said it was damaged)
  for (let waited = 0; waited < 3000; waited += 10) {
    if (removedUnder(path, first) || emptied(path)) return true;
    Atomics.wait(pause, 0, 0, 10);
  }
  return false;
}

/** Whether the file at a path is there, of 0 bytes. */
function emptied(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}

/** Whether the file this connection opened is no longer the one at its path. */
function removedUnder(path: string, opened: FileIdentity | null): boolean {
  if (opened === null) return false;
  const now = identityOf(path);
  return now === null || now.dev !== opened.dev || now.ino !== opened.ino;
}
/**
 * Connections to files removed from under them (here, and by a take-back: new-ledger-file.ts):
 * never closed, as SQLite's close removes a -wal and -shm by name, which a new file at the path
 * may own by then (the process ends soon after, which closes nothing).
 */
const removedFiles: object[] = [];
// (typed `object`: the library's declarations name no better-sqlite3 type, which its users need not have)
export const keepOpen = (db: object): void => void removedFiles.push(db);
const keptOpen = (db: Database.Database, e: TakenBack): TakenBack => (keepOpen(db), e);
/** What SQLite says of a file it cannot read: damage, or an I/O error (its -wal or -shm gone too). */
const unreadable = (e: unknown): boolean => isCorruption(e) || String((e as { code?: unknown }).code).startsWith('SQLITE_IOERR');
function stillThere(path: string, opened: FileIdentity | null): void {
  if (removedUnder(path, opened)) throw new TakenBack(`${path} was removed as this process opened it`);
}

async function openDatabaseOnce(path: string, options: OpenOptions): Promise<OpenedDatabase> {
  if (isPostgresUrl(path)) return (await import('./dialect/postgres.ts')).openPostgres(path, options);
  const scheme = unservedScheme(path);
  if (scheme) throw inputError(`a ${scheme}: URL is not a database pgo-ledger serves: give ${SERVED_DATABASES}`);
  const readonly = options.readonly === true;
  if (readonly && path !== ':memory:' && !existsSync(path)) {
    throw inputError(`no ledger at ${path}: a read command never creates one (check ${pathWords(options).check}; ingest or pull creates a ledger)`);
  }
  // SQLite says only "disk I/O error" or "unable to open database file" for a folder
  if (path !== ':memory:' && isFolder(path)) throw inputError(`${path} is a folder, not a ledger database file (check ${pathWords(options).check})`);
  // SQLite opens a file this user may not write read-only, unsaid, and writes its -wal and
  // -shm beside it; only the first write then fails, as "attempt to write a readonly database"
  if (!readonly && path !== ':memory:' && existsSync(path)) {
    const denied = notWritable(path, 'the file', path, true);
    if (denied) throw denied;
  }
  let db: Database.Database;
  let opened: FileIdentity | null = null;
  try {
    db = readonly ? openReadonly(path) : new Database(path);
    if (!readonly && path !== ':memory:') opened = identityOf(path);
  } catch (e) {
    // a new file removed as SQLite opened it (another process taking back the ledger it failed to make)
    if (!readonly && path !== ':memory:' && unreadable(e) && beingTakenBack(path, null)) throw new TakenBack(`${path} was removed as this process opened it`, { cause: e });
    if (isCorruption(e)) throw damaged(path, 'cannot open it', e);
    throw cannotOpen(path, readonly, e);
  }
  let state: MigrationState;
  const busyMs = options.busyTimeoutMs ?? 30000;
  try {
    db.pragma(`busy_timeout = ${busyMs}`);
    // Refuse a newer database before writing anything to it.
    state = migrationState(db, path);
    if (readonly && state === 'new') {
      // a ledger whose record of migrations was dropped holds the tables all the same
      throw noLedgerToRead(path, tableNames(db), pathWords(options).check);
    }
    if (state === 'new') refuseForeign(db, path, pathWords(options).give);
    if (readonly && state === 'behind') {
      throw inputError(`${path} was written by an older pgo-ledger and must be upgraded, which a read command never does: run a write command on it once (e.g. pgo-ledger replay)`);
    }
    if (!readonly) {
      walMode(db, busyMs);
      db.pragma('synchronous = NORMAL');
    }
    // References are documented in the schema but not enforced: the store alone writes these
    // tables, and three parent lookups per appended event cost a third of the insert.
    db.pragma('foreign_keys = OFF');
  } catch (e) {
    // the file removed from under this open (its -wal and -shm too: SQLite then fails on them)
    if (removedUnder(path, opened) || (!readonly && unreadable(e) && beingTakenBack(path, opened))) {
      throw keptOpen(db, new TakenBack(`${path} was removed as this process opened it`, { cause: e }));
    }
    db.close();
    if (e instanceof DatabaseVersionError || e instanceof LedgerError) throw e;
    if (isCorruption(e)) throw damaged(path, 'cannot open it', e);
    throw cannotOpen(path, readonly, e);
  }
  let kysely: Kysely<LedgerSchema> | undefined;
  if (state === 'new' && freshUsable()) state = createIfNew(db, path, opened);
  if (state !== 'current') {
    const { Kysely, SqliteDialect } = await import('kysely');
    kysely = new Kysely<LedgerSchema>({ dialect: new SqliteDialect({ database: db }) });
    await migrate(db, kysely, path, opened);
  }
  // A multi-row insert inside a transaction keeps a statement journal (to undo just that
  // statement should it fail); past 64 KiB SQLite spills it to a file in /var/tmp, and an
  // ingest wrote a third of its pages there (~80k writes per 1M events). Kept in memory, it is
  // a statement's pages at most. Set after migrating: an index built over a big log sorts in
  // temporary files, not in memory.
  if (!readonly) db.pragma('temp_store = MEMORY');
  // Closing Kysely closes the connection it was given.
  return { sql: wrap(db, path, busyMs, opened), path, close: async () => void (kysely ? await kysely.destroy() : db.close()) };
}

/**
 * A ledger SQLite could not open, named. Opened to write, where the file or its folder may not be
 * written, says which and why: SQLite says only "unable to open database file" (a read-only
 * mount) or "attempt to write a readonly database" (a folder the user may not write, where the
 * WAL's -wal and -shm files go), which named neither (trial 20).
 */
function cannotOpen(path: string, readonly: boolean, e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (!readonly && typeof code === 'string' && (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY'))) {
    const folder = dirname(path);
    const exists = existsSync(path);
    for (const [what, p] of [['the file', path], [`its folder ${folder}`, folder]] as const) {
      if (p === path && !exists) continue;
      const denied = notWritable(path, what, p, exists, e);
      if (denied) return denied;
    }
  }
  return namingLedger(path, inputError(`cannot open database ${path}`, e));
}

/** Where `p` (the ledger's file or folder, `what`) may not be written, the input error that says so and why; else null. */
function notWritable(path: string, what: string, p: string, exists: boolean, cause?: unknown): LedgerError | null {
  try {
    accessSync(p, constants.W_OK);
    return null;
  } catch (denied) {
    const why = (denied as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only file system (EROFS)' : `may not be written by this user (${(denied as NodeJS.ErrnoException).code})`;
    return inputError(`cannot write the ledger ${path}: ${what} ${why}; a write command writes the file and its -wal and -shm beside it${exists ? ' (read commands still read it)' : ''}`, cause ?? denied);
  }
}

/**
 * A read-only connection. SQLite reads a WAL database only with its `-shm` file beside it;
 * a folder the user may only read cannot hold one, and when no writer made one (no writer
 * is at work), the file alone is the whole database: it is then read from a copy in memory.
 */
function openReadonly(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.prepare('select count(*) from sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code;
    // a hot journal: a write stopped midway (kill -9 while a new ledger was being made, before
    // it turned to WAL) that SQLite rolls back on the next open that may write (trial 20: the
    // read said only "attempt to write a readonly database")
    if (code === 'SQLITE_READONLY_ROLLBACK') {
      throw inputError(`a write to it was stopped midway and ${path}-journal holds what undoes it, which a read command (it opens the ledger read-only) cannot apply: run a write command on it once (pgo-ledger ingest, replay), which rolls it back`, e);
    }
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN') throw e;
    let wal = 0;
    try {
      wal = statSync(`${path}-wal`).size;
    } catch {
      /* none */
    }
    if (wal > 0) throw inputError(`${path}-wal holds changes that need ${path}-shm, which cannot be created in that folder: run a write command on it once`, e);
    const bytes = readFileSync(path);
    if (bytes.length >= 20 && bytes[18] === 2) bytes[18] = bytes[19] = 1; // the header's WAL mark: the copy has no WAL
    return new Database(bytes, { readonly: true });
  }
}

type MigrationState = 'new' | 'behind' | 'current';

/**
 * A file with tables but none of the ledger's is another program's database: making a ledger
 * in it would add the ledger's tables and switch it to WAL (trial 17.3: `ingest` did, exit 0).
 * One read of the schema, so a ledger another process made meanwhile is seen as one.
 */
function refuseForeign(db: Database.Database, path: string, give: string): void {
  const names = tableNames(db);
  if (names.includes('kysely_migration')) return;
  const not = notALedger(path, names, give);
  if (not) throw not;
}

const tableNames = (db: Database.Database): string[] => (db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name);

/** How far the file's schema is: no ledger tables, older migrations only, or all of ours. */
function migrationState(db: Database.Database, path: string): MigrationState {
  const hasTable = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
  if (!hasTable) return 'new';
  const done = new Set((db.prepare('select name from kysely_migration').all() as { name: string }[]).map((r) => r.name));
  const unknown = [...done].filter((n) => !(n in migrations));
  if (unknown.length) throw new DatabaseVersionError(path, unknown);
  return Object.keys(migrations).every((n) => done.has(n)) ? 'current' : 'behind';
}

/**
 * A new file made what the migrations make of it from their record (fresh-sqlite.ts), under
 * the write lock; the state found under the lock otherwise. Writers started together on a new
 * file wait for the first to make it and find it current: no migration to run, so no Kysely to
 * load (a tenth of a CPU second a process).
 */
function createIfNew(db: Database.Database, path: string, opened: FileIdentity | null): MigrationState {
  try {
    db.exec('BEGIN IMMEDIATE');
    stillThere(path, opened);
    const state = migrationState(db, path);
    if (state !== 'new') {
      db.exec('ROLLBACK');
      return state;
    }
    createFresh(db);
    db.exec('COMMIT');
    return 'current';
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    if (e instanceof TakenBack) throw keptOpen(db, e);
    // (a file another process's making left half-written, found under the lock it gave up,
    // before its take-back empties or removes it: as the open's own read above)
    if (removedUnder(path, opened) || (unreadable(e) && beingTakenBack(path, opened))) throw keptOpen(db, new TakenBack(`${path} was removed as this process made its ledger`, { cause: e }));
    db.close();
    if (e instanceof LedgerError) throw e;
    if (isCorruption(e)) throw damaged(path, 'cannot open it', e);
    throw namingLedger(path, inputError(`cannot create the ledger in ${path}`, e));
  }
}

/**
 * Runs the migrations holding the write lock (BEGIN IMMEDIATE) and looks again under it:
 * another process may have migrated the file between our look and the lock. Kysely's
 * Migrator takes no lock on SQLite, and running outside a transaction (SQLite's adapter has
 * no transactional DDL), it runs inside ours.
 */
async function migrate(db: Database.Database, kysely: Kysely<LedgerSchema>, path: string, opened: FileIdentity | null): Promise<void> {
  try {
    db.exec('BEGIN IMMEDIATE');
    stillThere(path, opened);
    if (migrationState(db, path) !== 'current') {
      const { Migrator } = await import('kysely');
      const { error, results } = await new Migrator({ db: kysely, provider }).migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error');
        throw inputError(`cannot migrate ${path}${failed ? ` (${failed.migrationName})` : ''}`, error);
      }
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    if (e instanceof TakenBack) throw keptOpen(db, e);
    await kysely.destroy();
    if (e instanceof DatabaseVersionError || e instanceof LedgerError) throw e;
    throw inputError(`cannot migrate ${path}`, e);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * journal_mode = WAL, retried while busy until the busy timeout. On a file still in rollback
 * mode (a new one another writer is making, or one another tool holds) the change reads the
 * header and then asks for the write lock inside that read, where SQLite returns SQLITE_BUSY at
 * once, not through the busy handler: 4 writers started together on a new file failed so
 * ("cannot open database: database is locked") on a 16-core machine.
 */
function walMode(db: Database.Database, busyMs: number): void {
  whileBusy(busyMs, 8, () => db.pragma('journal_mode = WAL'));
}

/**
 * BEGIN IMMEDIATE, waiting for another writer's lock in steps of at most 2 ms: SQLite's own
 * busy handler sleeps 25 to 100 ms a step once a wait grows, and while it sleeps a lock that
 * was given back stays idle (writers-4 spent a third of its time so). Every other statement
 * keeps the busy timeout. True when it had to wait.
 */
export function beginImmediate(db: { pragma(s: string): unknown; exec(s: string): unknown }, busyMs: number): boolean {
  db.pragma('busy_timeout = 0');
  try {
    return whileBusy(busyMs, 2, () => db.exec('BEGIN IMMEDIATE'));
  } finally {
    db.pragma(`busy_timeout = ${busyMs}`);
  }
}

/**
 * Runs `attempt` again while it fails busy, sleeping 0.25 ms and doubling up to `maxStepMs`,
 * until `busyMs` have passed; true when it had to wait. Any kind of busy
 * (SQLITE_BUSY_RECOVERY: another connection rebuilding the WAL index), as SQLite's own handler
 * retries them; any other error at once.
 */
function whileBusy(busyMs: number, maxStepMs: number, attempt: () => unknown): boolean {
  const deadline = Date.now() + busyMs;
  for (let wait = 0.25; ; wait = Math.min(maxStepMs, wait * 2)) {
    try {
      attempt();
      return wait > 0.25;
    } catch (e) {
      if (!String((e as { code?: string }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw e;
    }
    Atomics.wait(pause, 0, 0, wait);
  }
}

function wrap(db: Database.Database, path: string, busyMs: number, opened: FileIdentity | null): Sql {
  const cache = new Map<string, Database.Statement>();
  const rawCache = new Map<string, Database.Statement>();
  const pluckCache = new Map<string, Database.Statement>();
  // A page SQLite cannot read is damage, said as such wherever a command meets it.
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      // a ledger used after close(): better-sqlite3's TypeError, read as a bug (trial s28b)
      if (!db.open && e instanceof TypeError) throw inputError(`the ledger ${path} is closed: open it again (openLedger) to read or write it`, e);
      throw isCorruption(e) ? damaged(path, 'SQLite cannot read it', e) : isMissingPart(e) ? missingPart(path, e) : e;
    }
  };
  let met = 0;
  let writes = 0;
  let committed: number | undefined; // data_version after this connection's last commit
  // prepared once: better-sqlite3's pragma() prepares its statement at every call (an append
  // asks twice a batch, and a folder of traces is a batch a file)
  let versionStmt: Database.Statement | undefined;
  const version = () => (versionStmt ??= db.prepare('PRAGMA data_version').pluck()).get() as number;
  // one transaction function for every nested append (a savepoint): better-sqlite3's
  // transaction() makes four wrappers at each call
  let nested: Database.Transaction<(fn: () => unknown) => unknown> | undefined;
  const stmt = (s: string) => {
    let st = cache.get(s);
    if (!st) cache.set(s, (st = guard(() => db.prepare(s))));
    return st;
  };
  return {
    path,
    dialect: sqliteDialect,
    run: (s, ...p) =>
      guard(() => {
        const r = stmt(s).run(...p);
        return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
      }),
    get: <T>(s: string, ...p: unknown[]) => guard(() => stmt(s).get(...p) as T | undefined),
    all: <T>(s: string, ...p: unknown[]) => guard(() => stmt(s).all(...p) as T[]),
    statement: (s, kept = true) => {
      const st = kept ? stmt(s) : guard(() => db.prepare(s));
      return {
        run: (p: readonly unknown[]) => {
          // guard's catch, written out: no closure made a call of the append's hot insert
          try {
            // spread, not the array: better-sqlite3 reads an array's elements one generic lookup each
            const r = st.run(...p);
            return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
          } catch (e) {
            throw isCorruption(e) ? damaged(path, 'SQLite cannot read it', e) : e;
          }
        },
      };
    },
    allRaw: (s, ...p) =>
      guard(() => {
        let st = rawCache.get(s);
        if (!st) rawCache.set(s, (st = db.prepare(s).raw(true)));
        return st.all(...p) as unknown[][];
      }),
    pluck: (s, ...p) =>
      guard(() => {
        let st = pluckCache.get(s);
        if (!st) pluckCache.set(s, (st = db.prepare(s).pluck(true)));
        return st.all(...p);
      }),
    exec: (s) => guard(() => db.exec(s)),
    immediate: <T>(fn: () => T) =>
      guard(() => {
        // Nested: better-sqlite3 makes it a savepoint of the transaction already open.
        if (db.inTransaction) return (nested ??= db.transaction((f: () => unknown) => f())).immediate(fn) as T;
        const waited = beginImmediate(db, busyMs);
        if (waited || (committed !== undefined && version() !== committed)) met++;
        try {
          // the file removed or replaced under this connection (another process took back a new
          // ledger it wrote nothing to: new-ledger-file.ts): a write here would reach no path
          try {
            stillThere(path, opened);
          } catch (e) {
            throw inputError(`the ledger ${path} was removed or replaced while this command had it open: nothing of this write was committed; run the command again`, e);
          }
          const r = fn();
          db.exec('COMMIT');
          writes++;
          committed = version();
          return r;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      }),
    writersMet: () => met,
    writes: () => writes,
    dataVersion: () => guard(version),
    close: () => db.close(),
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
