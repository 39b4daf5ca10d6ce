import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

/**
 * Each profile's spans (profile_spans) in place of the index of every event by profile
 * (events_by_profile): a span is a maximal run of one profile's positions each at most 32
 * past the one before (src/store/profile-spans.ts, SPAN_GAP), so every event of a profile
 * lies in one of its spans, and a read of a profile walks the log by its primary key within
 * them. The index took an entry an event, each written where its profile's entries are (a
 * descent from the root each): the costliest of the events' indexes to keep, on PostgreSQL's
 * COPY most of all. The append keeps the spans, a row or two a profile and batch. Backfilled
 * here from the log (gaps and islands); the partial indexes (retractions, described inputs)
 * stay. Portable (SQLite and PostgreSQL).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('profile_spans')
    .addColumn('profile_id', 'bigint', (c) => c.notNull())
    .addColumn('first_position', 'bigint', (c) => c.notNull())
    .addColumn('last_position', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_spans_pk', ['profile_id', 'first_position'])
    .execute();
  await sql`insert into profile_spans(profile_id, first_position, last_position)
    select profile_id, min(position), max(position) from (
      select profile_id, position, sum(brk) over (partition by profile_id order by position rows unbounded preceding) island from (
        select profile_id, position, case when position - lag(position) over (partition by profile_id order by position) <= 32 then 0 else 1 end brk
        from events) a) b
    group by profile_id, island`.execute(db);
  await db.schema.dropIndex('events_by_profile').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index events_by_profile on events(profile_id, position)`.execute(db);
  } else {
    // SQLite: (profile_id), made before the partial indexes of the same shape (migration 2026-11-29T04-12 says why)
    await sql`drop index events_retractions`.execute(db);
    await sql`drop index events_described`.execute(db);
    await sql`create index events_by_profile on events(profile_id)`.execute(db);
    await sql`create index events_retractions on events(profile_id) where kind = 'run.retracted'`.execute(db);
    await sql`create index events_described on events(profile_id) where kind = 'shape.described'`.execute(db);
  }
  await db.schema.dropTable('profile_spans').execute();
}
