import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pgBin, startPgServer } from './postgres-server.ts';
import { tempDir } from './tmp.ts';

/** The backends every store, ingest, audit and CLI test runs against (as Kysely's own tests loop over dialects). */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type DialectName = (typeof DIALECTS)[number];

let adminUrl: string | undefined;

/**
 * The test server's superuser URL: `npm test`'s one server (scripts/with-postgres.mjs sets
 * PGO_LEDGER_TEST_PG), or one started for this test process and stopped on exit.
 */
export function pgAdminUrl(): string {
  adminUrl ??= process.env.PGO_LEDGER_TEST_PG || startPgServer().adminUrl;
  return adminUrl;
}

/** The URL of another database of the test server. */
export function pgUrl(database: string): string {
  const u = new URL(pgAdminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs SQL as the superuser (psql, so that helpers stay synchronous); rows as tab-separated lines. */
export function psql(text: string, database = 'postgres'): string[] {
  const out = execFileSync(pgBin('psql'), ['-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl(database), '-c', text], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

/** A new empty PostgreSQL database (the DBA's `createdb`; pgo-ledger never creates one): its URL. */
export function freshPgDatabase(): string {
  const name = `l_${randomBytes(6).toString('hex')}`;
  psql(`create database ${name} template template0`);
  return pgUrl(name);
}

const named = new Map<string, string>();

/**
 * Where the ledger `name` of a test goes: the file dir/name (SQLite), or a new empty database,
 * the same one each time the test names it (PostgreSQL).
 */
export function ledgerAt(dialect: DialectName, dir: string, name: string): string {
  if (dialect === 'sqlite') return join(dir, name);
  const key = `${dir}\u0000${name}`;
  let url = named.get(key);
  if (!url) named.set(key, (url = freshPgDatabase()));
  return url;
}

/** A fresh ledger's place: a temp file path (SQLite) or a new empty database's URL (PostgreSQL). */
export function freshLedger(dialect: DialectName, dir?: string): string {
  return ledgerAt(dialect, dir ?? tempDir(), `l-${randomBytes(4).toString('hex')}.db`);
}

/** Whether anything was created there: the file (SQLite), or any table in the database (PostgreSQL). */
export function ledgerCreated(db: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(db)) return existsSync(db);
  const name = new URL(db).pathname.slice(1);
  return Number(psql("select count(*) from information_schema.tables where table_schema = 'public'", name)[0]) > 0;
}

/** The first row of a query on a ledger of either backend, as numbers (counts and positions in tests). */
export function numbersOf(db: string, text: string): number[] {
  if (/^postgres(ql)?:\/\//.test(db)) return psql(text, new URL(db).pathname.slice(1))[0].split('\t').map(Number);
  const raw = new Database(db, { readonly: true });
  try {
    return Object.values(raw.prepare(text).get() as Record<string, unknown>).map(Number);
  } finally {
    raw.close();
  }
}

/** Runs a statement on a ledger of either backend (a test's tampering). */
export function execOn(db: string, text: string): void {
  if (/^postgres(ql)?:\/\//.test(db)) {
    psql(text, new URL(db).pathname.slice(1));
    return;
  }
  const raw = new Database(db);
  try {
    raw.exec(text);
  } finally {
    raw.close();
  }
}

/** Every row of a query on a ledger of either backend, as text. */
export function textRows(db: string, text: string): string[][] {
  if (/^postgres(ql)?:\/\//.test(db)) return psql(text, new URL(db).pathname.slice(1)).map((l) => l.split('\t'));
  const raw = new Database(db, { readonly: true });
  try {
    return (raw.prepare(text).raw(true).all() as unknown[][]).map((r) => r.map(String));
  } finally {
    raw.close();
  }
}
