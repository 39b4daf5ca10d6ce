import Database from 'better-sqlite3';

/** A SQLite ledger's rows, table by table in rowid order: the named tables, or every one but Kysely's. */
export function storedTables(path: string, names?: readonly string[]): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const all = names ?? (db.prepare("select name from sqlite_master where type = 'table' and name not like 'kysely%' order by name").pluck().all() as string[]);
    return Object.fromEntries(all.map((t) => [t, db.prepare(`select * from "${t}" order by rowid`).raw(true).all()]));
  } finally {
    db.close();
  }
}
