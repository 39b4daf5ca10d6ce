import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * PostgreSQL only (SQLite: nothing): each transaction that wrote events, with the first and
 * last position it wrote, in place of the index of every event by transaction
 * (events_by_transaction), whose upkeep was a fifth of the server's work in an ingest. The
 * follower's read (issue 11.3) finds the next committed transactions here, in order, and each
 * one's events by position in its range (the primary key), keeping those of the transaction.
 * The append writes a row per batch, in the batch's transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create table event_transactions (
    transaction_id xid8 primary key,
    first_position bigint not null,
    last_position bigint not null)`.execute(db);
  await sql`insert into event_transactions(transaction_id, first_position, last_position)
    select transaction_id, min(position), max(position) from events group by transaction_id`.execute(db);
  await sql`drop index events_by_transaction`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create index events_by_transaction on events(transaction_id, position)`.execute(db);
  await sql`drop table event_transactions`.execute(db);
}
