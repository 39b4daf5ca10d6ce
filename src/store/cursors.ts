import type { Sql } from './database.ts';

/**
 * Where a follower (`watch`) is in one input. Written in the same transaction as the events
 * the input gave (Ledger.appendWith), so after any stop, kill -9 included, the cursor and
 * the log agree: a restart goes on from the cursor, and what it reads again adds nothing.
 */
export interface WatchCursor {
  /** 'file:<dev>:<ino>' or 'redis:<url without password>:<key>'. */
  input: string;
  /** Tells a replaced or truncated input from the one the cursor was for. */
  identity: string;
  /** A log: the bytes read, up to the last complete line. */
  offset: number;
  /** A whole file's or a Redis value's content hash. */
  hash: string | null;
  /** Everything up to offset gave its events (a log: its last entry too). */
  complete: boolean;
  /** The path or key last seen for the input (for people reading the table). */
  path: string | null;
  updatedAt: number;
}

type Row = { input: string; identity: string; byte_offset: number | string; hash: string | null; complete: number | string; path: string | null; updated_at: number | string };

export function readCursor(sql: Sql, input: string): WatchCursor | undefined {
  const r = sql.get<Row>('select input, identity, byte_offset, hash, complete, path, updated_at from watch_cursors where input = ?', input);
  // bigint columns may come back as strings (PostgreSQL): positions here stay far below 2**53
  return r && { input: r.input, identity: r.identity, offset: Number(r.byte_offset), hash: r.hash, complete: Number(r.complete) === 1, path: r.path, updatedAt: Number(r.updated_at) };
}

/** Inserts or replaces a cursor; call inside the transaction that appends the input's events. */
export function writeCursor(sql: Sql, c: WatchCursor): void {
  sql.run(
    'insert into watch_cursors(input, identity, byte_offset, hash, complete, path, updated_at) values (?, ?, ?, ?, ?, ?, ?) ' +
      'on conflict (input) do update set identity = excluded.identity, byte_offset = excluded.byte_offset, hash = excluded.hash, complete = excluded.complete, path = excluded.path, updated_at = excluded.updated_at',
    c.input,
    c.identity,
    c.offset,
    c.hash,
    c.complete ? 1 : 0,
    c.path,
    c.updatedAt,
  );
}

/** How many inputs the ledger holds a cursor for. */
export function cursorCount(sql: Sql): number {
  return Number(sql.get<{ n: number | string }>('select count(*) as n from watch_cursors')!.n);
}
