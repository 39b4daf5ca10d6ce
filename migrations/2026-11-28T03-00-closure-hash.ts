import { sql, type Kysely } from 'kysely';

// Frozen: never edit a migration once released; add a new dated one instead.
//
// PyTorch after 2.11: CodeId.closure_hash takes part in code identity, and a newer layout's
// unknown CodeId fields are kept (`extra`). Both become columns of codes (and of the
// code_states cache). closure_hash is text, to hold any Python int: '' = the field is absent
// (the 2.11 layout), 'None' = Python None, else the decimal int. extra is '' or JSON.
// The unique constraint of codes must include them, so the table is rebuilt (same ids).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop view events_readable`.execute(db);
  await sql`create table codes_next (
    id integer primary key,
    filename text not null,
    firstlineno integer not null,
    name text not null,
    file_hash text not null,
    closure_hash text not null default '',
    extra text not null default '',
    constraint codes_unique unique (file_hash, firstlineno, name, filename, closure_hash, extra)
  )`.execute(db);
  await sql`insert into codes_next(id, filename, firstlineno, name, file_hash) select id, filename, firstlineno, name, file_hash from codes`.execute(db);
  await sql`drop table codes`.execute(db);
  await sql`alter table codes_next rename to codes`.execute(db);
  await sql`alter table code_states add column closure_hash text not null default ''`.execute(db);
  await sql`alter table code_states add column extra text not null default ''`.execute(db);
  await sql`create view events_readable as
    select e.position, p.cache_key, e.kind, b.version, c.filename, c.firstlineno, c.name, c.file_hash, c.closure_hash, s.source,
           case when typeof(b.payload) = 'text' then b.payload else '(deflated)' end as body,
           e.time, r.run, o.origin, e.origin_line, e.compile_id
    from events e join profiles p on p.id = e.profile_id join bodies b on b.id = e.body_id
    left join codes c on c.id = e.code_id left join sources s on s.id = e.source_id
    left join runs r on r.id = e.run_id left join origins o on o.id = e.origin_id`.execute(db);
}

export async function down(): Promise<void> {
  // Going back would merge closure-distinct code ids silently.
  throw new Error('no way down from 2026-11-28T03-00-closure-hash: restore a copy of the database from before it');
}
