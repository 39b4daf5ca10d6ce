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

  // Dictionaries of the log: each distinct source name, run id and event body stored once.
  // Logs repeat the same few shapes and sources millions of times; an event is then a row
  // of integers, quick to append and to replay.
  await db.schema
    .createTable('sources')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema
    .createTable('runs')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('run', 'text', (c) => c.notNull().unique())
    .execute();
  // A body is the event payload less its code id and source: JSON text, or deflated JSON
  // (a blob) past 4 KiB. kind and version say which zod schema reads it.
  await db.schema
    .createTable('bodies')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('payload', 'blob', (c) => c.notNull())
    .addUniqueConstraint('bodies_unique', ['kind', 'version', 'payload'])
    .execute();

  // The event log: append-only, the single source of truth. position is the rowid, so
  // it is global and gapless (nothing is ever deleted; a rolled-back batch leaves no hole).
  await db.schema
    .createTable('events')
    .addColumn('position', 'integer', (c) => c.primaryKey())
    .addColumn('profile_id', 'integer', (c) => c.notNull().references('profiles.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code_id', 'integer', (c) => c.references('codes.id'))
    .addColumn('source_id', 'integer', (c) => c.references('sources.id'))
    .addColumn('body_id', 'integer', (c) => c.notNull().references('bodies.id'))
    .addColumn('time', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'integer', (c) => c.references('runs.id'))
    .addColumn('origin_id', 'integer', (c) => c.references('origins.id'))
    .addColumn('origin_line', 'integer')
    .addColumn('compile_id', 'text')
    .addColumn('idempotency_key', 'integer', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('events_by_profile').on('events').columns(['profile_id', 'position']).execute();
  await db.schema.createIndex('events_by_run').on('events').columns(['run_id']).execute();
  await sql`create index events_retractions on events(profile_id, position) where kind = 'run.retracted'`.execute(db);

  // A readable view of the log, for anyone looking with the sqlite3 shell.
  await sql`create view events_readable as
    select e.position, p.cache_key, e.kind, b.version, c.filename, c.firstlineno, c.name, c.file_hash, s.source,
           case when typeof(b.payload) = 'text' then b.payload else '(deflated)' end as body,
           e.time, r.run, o.origin, e.origin_line, e.compile_id
    from events e join profiles p on p.id = e.profile_id join bodies b on b.id = e.body_id
    left join codes c on c.id = e.code_id left join sources s on s.id = e.source_id
    left join runs r on r.id = e.run_id left join origins o on o.id = e.origin_id`.execute(db);

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
    .addColumn('code_id', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('dim_changed', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('cached', 'text', (c) => c.notNull())
    .addColumn('new', 'text', (c) => c.notNull())
    // PyTorch's guard failure text, where a trace gave it
    .addColumn('guard', 'text')
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
  await db.schema.dropView('events_readable').execute();
  for (const t of ['meta', 'imports', 'history', 'code_states', 'events', 'bodies', 'runs', 'sources', 'codes', 'origins', 'profiles']) await db.schema.dropTable(t).execute();
}
