import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startPgServer } from './postgres-server.ts';
import { tempDir } from './tmp.ts';

/** The backends every store, ingest, audit and CLI test runs against (as Kysely's own tests loop over dialects). */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type DialectName = (typeof DIALECTS)[number];

let adminUrl: string | undefined;

/**
 * The test server's superuser URL: `npm test`'s one server (scripts/with-postgres.mjs sets
 * PGO_LEDGER_TEST_PG), or one started for this test file and stopped on exit.
 */
export function pgAdminUrl(): string {
  adminUrl ??= process.env.PGO_LEDGER_TEST_PG || startPgServer().adminUrl;
  return adminUrl;
}

/** The URL of a database (another name, same server and superuser). */
export function pgUrl(database: string, admin = pgAdminUrl()): string {
  const u = new URL(admin);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs SQL as the superuser on the server's `postgres` database. */
export async function pgAdmin<T = unknown>(text: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
  const c = new pg.Client({ connectionString: pgUrl(database) });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A new empty PostgreSQL database (no tables): its URL. */
export async function freshPgDatabase(): Promise<string> {
  const name = `l_${randomBytes(6).toString('hex')}`;
  await pgAdmin(`create database ${name} template template0`);
  return pgUrl(name);
}

/** Where a fresh ledger goes: a temp file path (SQLite) or a new empty database's URL (PostgreSQL). */
export async function freshLedger(dialect: DialectName, dir?: string): Promise<string> {
  if (dialect === 'sqlite') return join(dir ?? tempDir(), `l-${randomBytes(4).toString('hex')}.db`);
  return freshPgDatabase();
}
