import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * PostgreSQL only (SQLite: nothing): take_positions runs as its owner (SECURITY DEFINER).
 * Its setval needs UPDATE on the events' sequence, which the README's writer role lacks (it
 * has USAGE, all nextval needs): a writer's every append was refused, "permission denied for
 * sequence events_position_seq". As the owner's, the function is what a writer calls; since
 * it is, it checks that its caller may append events (INSERT on events), so a reader cannot
 * take positions. search_path is pinned to the ledger's schema, as a definer function must.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create or replace function take_positions(n bigint) returns bigint language plpgsql volatile as $$
    declare
      seq regclass := pg_get_serial_sequence('events', 'position')::regclass;
      first bigint;
    begin
      if not has_table_privilege(session_user, 'events', 'INSERT') then
        raise insufficient_privilege using message = format('permission denied: role %s may not take positions (it needs INSERT on table events)', session_user);
      end if;
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
  await sql`do $$ begin
    execute format('alter function take_positions(bigint) security definer set search_path = %I, pg_temp', current_schema());
  end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
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
  await sql`alter function take_positions(bigint) security invoker reset search_path`.execute(db);
}
