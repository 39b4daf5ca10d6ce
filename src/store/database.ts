import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type CompiledQuery, type MigrationProvider } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import type { LedgerSchema } from './schema.ts';

/** The small surface of SQLite the store uses (so better-sqlite3's types stay in here). */
export interface Sql {
  run(sql: string, ...params: unknown[]): { changes: number; lastInsertRowid: number };
  get<T>(sql: string, ...params: unknown[]): T | undefined;
  all<T>(sql: string, ...params: unknown[]): T[];
  /** A prepared statement to run many times (the append's insert). */
  statement(sql: string): { run(...params: unknown[]): { changes: number; lastInsertRowid: number } };
  /** Rows as arrays (cheaper than objects on the hot read paths). */
  allRaw(sql: string, ...params: unknown[]): unknown[][];
  exec(sql: string): void;
  /** Runs fn in BEGIN IMMEDIATE (the write lock up front: two writers queue, never deadlock). */
  immediate<T>(fn: () => T): T;
  dataVersion(): number;
  close(): void;
}

export interface OpenedDatabase {
  sql: Sql;
  kysely: Kysely<LedgerSchema>;
  path: string;
}

/**
 * Runs a query built (and typed) with Kysely's builder on the synchronous connection: the
 * builder compiles without touching the database, so reads stay typed and synchronous.
 */
export function rows<R>(sql: Sql, q: { compile(): CompiledQuery<R> }): R[] {
  const c = q.compile();
  return sql.all<R>(c.sql, ...c.parameters);
}

export class DatabaseVersionError extends Error {
  constructor(path: string, unknown: string[]) {
    super(
      `${path} was written by a newer pgo-ledger (unknown migrations: ${unknown.join(', ')}); ` +
        'it was left untouched: upgrade pgo-ledger to open it',
    );
    this.name = 'DatabaseVersionError';
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Opens (creating if needed) and migrates a ledger database. */
export async function openDatabase(path: string, options: { busyTimeoutMs?: number } = {}): Promise<OpenedDatabase> {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (e) {
    throw new Error(`cannot open database ${path}: ${(e as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30000}`);
    // Refuse a newer database before writing anything to it.
    const hasTable = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    if (hasTable) {
      const done = (db.prepare('select name from kysely_migration').all() as { name: string }[]).map((r) => r.name);
      const unknown = done.filter((n) => !(n in migrations));
      if (unknown.length) throw new DatabaseVersionError(path, unknown);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // References are documented in the schema but not enforced: the store alone writes these
    // tables, and three parent lookups per appended event cost a third of the insert.
    db.pragma('foreign_keys = OFF');
  } catch (e) {
    db.close();
    if (e instanceof DatabaseVersionError) throw e;
    throw new Error(`cannot open database ${path}: ${(e as Error).message}`);
  }
  const kysely = new Kysely<LedgerSchema>({ dialect: new SqliteDialect({ database: db }) });
  const { error, results } = await new Migrator({ db: kysely, provider }).migrateToLatest();
  if (error) {
    db.close();
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`cannot migrate ${path}${failed ? ` (${failed.migrationName})` : ''}: ${(error as Error).message ?? error}`);
  }
  return { sql: wrap(db), kysely, path };
}

function wrap(db: Database.Database): Sql {
  const cache = new Map<string, Database.Statement>();
  const rawCache = new Map<string, Database.Statement>();
  const stmt = (s: string) => {
    let st = cache.get(s);
    if (!st) cache.set(s, (st = db.prepare(s)));
    return st;
  };
  return {
    run: (s, ...p) => {
      const r = stmt(s).run(...p);
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    },
    get: <T>(s: string, ...p: unknown[]) => stmt(s).get(...p) as T | undefined,
    all: <T>(s: string, ...p: unknown[]) => stmt(s).all(...p) as T[],
    statement: (s) => {
      const st = stmt(s);
      return {
        run: (...p: unknown[]) => {
          const r = st.run(...p);
          return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
        },
      };
    },
    allRaw: (s, ...p) => {
      let st = rawCache.get(s);
      if (!st) rawCache.set(s, (st = db.prepare(s).raw(true)));
      return st.all(...p) as unknown[][];
    },
    exec: (s) => db.exec(s),
    immediate: <T>(fn: () => T) => db.transaction(fn).immediate(),
    dataVersion: () => db.pragma('data_version', { simple: true }) as number,
    close: () => db.close(),
  };
}
