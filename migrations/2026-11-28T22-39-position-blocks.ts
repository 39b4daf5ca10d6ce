import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * PostgreSQL only (SQLite: nothing): take_positions(n), the first of n consecutive positions
 * taken from events.position's sequence at once, in place of n calls of nextval (a batch's
 * 10,000 cost the server ~3 ms, on the append's critical path, where this costs ~0.1). A
 * sequence cannot hand out a block in one step, so nextval and setval run under a session
 * advisory lock that every taker of positions holds (the append's two ways in, postgres.ts):
 * no nextval of another lands inside the block. Held only within the call, never while waiting
 * for anything else, and released should the call fail. A pgo-ledger from before this
 * migration, which would take positions one by one without the lock, refuses the database
 * (a migration it does not know). The positions are those n calls of nextval would have taken
 * with no other writer between them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  // 0x70676f73 ('pgos'): one bigint key, a space apart from the profile locks' two int4 keys
  await sql`create or replace function take_positions(n bigint) returns bigint language plpgsql volatile as $$
    declare
      seq regclass := pg_get_serial_sequence('events', 'position')::regclass;
      first bigint;
    begin
      perform pg_advisory_lock(1885826931);
      begin
        first := nextval(seq);
        if n > 1 then perform setval(seq, first + n - 1); end if;
      exception when others or query_canceled then
        perform pg_advisory_unlock(1885826931);
        raise;
      end;
      perform pg_advisory_unlock(1885826931);
      return first;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function take_positions(bigint)`.execute(db);
}
