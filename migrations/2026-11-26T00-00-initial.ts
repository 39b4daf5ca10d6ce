import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('profiles')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('cache_key', 'text', (c) => c.notNull().unique())
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('rank', 'integer')
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_position', 'integer')
    .addColumn('last_time', 'integer')
    .execute();

  await db.schema
    .createTable('origins')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('origin', 'text', (c) => c.notNull().unique())
    .execute();

  // Code objects, each distinct CodeId (filename included) once; events point at them.
  await db.schema
    .createTable('codes')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('firstlineno', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('file_hash', 'text', (c) => c.notNull())
    .addUniqueConstraint('codes_unique', ['file_hash', 'firstlineno', 'name', 'filename'])
    .execute();

  // The event log: append-only, the single source of truth. position is the rowid, so
  // it is global and gapless (nothing is ever deleted; a rolled-back batch leaves no hole).
  await db.schema
    .createTable('events')
    .addColumn('position', 'integer', (c) => c.primaryKey())
    .addColumn('profile_id', 'integer', (c) => c.notNull().references('profiles.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // A payload's code id and source live in columns (normalised); the rest is JSON.
    .addColumn('code_id', 'integer', (c) => c.references('codes.id'))
    .addColumn('source', 'text')
    .addColumn('payload', 'blob', (c) => c.notNull())
    .addColumn('encoding', 'integer', (c) => c.notNull())
    .addColumn('time', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'integer', (c) => c.notNull())
    .addColumn('run', 'text')
    .addColumn('origin_id', 'integer', (c) => c.references('origins.id'))
    .addColumn('origin_line', 'integer')
    .addColumn('compile_id', 'text')
    .addColumn('idempotency_key', 'integer', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('events_by_profile').on('events').columns(['profile_id', 'position']).execute();

  // Views, folded from the log (a cache of the fold: `replay` rebuilds them).
  await db.schema
    .createTable('code_states')
    .addColumn('profile_id', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('firstlineno', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('file_hash', 'text', (c) => c.notNull())
    .addColumn('entries', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('code_states_pk', ['profile_id', 'seq'])
    .execute();

  await db.schema
    .createTable('history')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('profile_id', 'integer', (c) => c.notNull())
    .addColumn('code_seq', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('dim_changed', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('cached', 'text', (c) => c.notNull())
    .addColumn('new', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('history_by_profile').on('history').columns(['profile_id', 'position']).execute();

  await db.schema
    .createTable('imports')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('digest', 'text', (c) => c.notNull().unique())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('bytes', 'blob', (c) => c.notNull())
    .addColumn('recorded_at', 'integer', (c) => c.notNull())
    .execute();
  // Settings of the views (a replay's --until / --exclude-run), so verify folds the same way.
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await sql`select 1`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['meta', 'imports', 'history', 'code_states', 'events', 'codes', 'origins', 'profiles']) await db.schema.dropTable(t).execute();
}
