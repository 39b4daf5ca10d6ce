import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { tempDir } from '../../test/support/tmp.ts';
import { migrations } from '../../migrations/index.ts';
import { openDatabase } from './database.ts';

const dir = tempDir();

/** A profile's reads (log.ts, log-counts.ts, window.ts, checkpoints.ts, history.ts, described-shapes.ts, retract.ts) and the index each must use ('' for a span's range of the events' own key: profile-spans.ts). */
const READS: [string, string][] = [
  ['select position, profile_id, code_id, source_id, body_id, run_id, time from events where profile_id = 1 and position > 5 and position <= 9000 order by position limit 2000', ''],
  ['select code_id, source_id, run_id, kind, count(*) from events where profile_id = 1 and position > 5 and position <= 9000 group by code_id, source_id, run_id, kind', ''],
  ["select position, time, body_id from events where profile_id = 1 and kind = 'run.retracted' order by position", 'events_retractions'],
  ["select 1 from events where profile_id = 1 and kind = 'run.retracted' limit 1", 'events_retractions'],
  ["select 1 from events where profile_id = 1 and kind = 'run.retracted' and position > 5 limit 1", 'events_retractions'],
  ["select position, time from events where profile_id = 1 and kind = 'run.retracted' and position > 5", 'events_retractions'],
  ["select b.payload from events e join profiles p on p.id = e.profile_id join bodies b on b.id = e.body_id where p.cache_key = 'j' and e.kind = 'run.retracted'", 'events_retractions'],
  ["select position, time, run_id, compile_id, code_id, source_id, body_id from events where profile_id = 1 and kind = 'shape.described' order by position", 'events_described'],
  // source-sightings.ts: whether a trace gave the profile events, as of a point
  ['select 1 from events where profile_id = 1 and compile_id is not null and position <= 9000 limit 1', 'events_compiled'],
  ['select 1 from events where profile_id = 1 and compile_id is not null and 1 = 1 limit 1', 'events_compiled'],
  // described-scalars.ts
  ["select position, time, run_id, compile_id, code_id, source_id, body_id from events where profile_id = 1 and compile_id is not null and kind = 'scalar.described' order by position", 'events_compiled'],
];

const columns = (db: Database.Database, index: string) => (db.pragma(`index_info('${index}')`) as { name: string }[]).map((c) => c.name);

function check(path: string): void {
  const db = new Database(path, { readonly: true });
  try {
    for (const index of ['events_retractions', 'events_described', 'events_compiled']) {
      assert.deepEqual(columns(db, index), ['profile_id'], index);
    }
    // no index of every event by profile (migration 2026-11-29T09-24-profile-spans): spans in its place
    assert.deepEqual(columns(db, 'events_by_profile'), []);
    for (const [q, index] of READS) {
      const plan = (db.prepare(`explain query plan ${q}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
      assert.match(plan, index ? new RegExp(`USING (COVERING )?INDEX ${index} \\(`) : /SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/, `${q}: ${plan}`);
      assert.doesNotMatch(plan, /TEMP B-TREE FOR ORDER BY/, `${q}: ${plan}`);
    }
  } finally {
    db.close();
  }
}

describe('sqlite: the indexes of a profile\'s events: (profile_id) alone, the rowid (position) ending each entry; none of every event (spans)', () => {
  it('a new database: the indexes hold profile_id alone, and each read of a profile uses the index meant for it (the partial ones for retractions and described inputs; a span\'s range of positions for the rest), in position order with no sort', async () => {
    const path = join(dir, 'new.db');
    await (await openDatabase(path)).close();
    check(path);
  });

  it('a database made before the change is migrated to the same, its events kept', async () => {
    const path = join(dir, 'old.db');
    const raw = new Database(path);
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    const { error } = await new Migrator({ db: kysely, provider: { getMigrations: async () => migrations } }).migrateTo('2026-11-28T22-39-position-blocks');
    assert.equal(error, undefined);
    raw.exec("insert into profiles(id, cache_key, job, tag) values (1, 'j', 'j', ''); insert into bodies(id, kind, version, payload) values (1, 'shape.observed', 1, '{}')");
    const insert = raw.prepare("insert into events(profile_id, kind, body_id, time, idempotency_key) values (1, ?, 1, 1000, ?)");
    for (let k = 0; k < 300; k++) insert.run(k % 100 === 7 ? 'shape.described' : 'shape.observed', k);
    assert.deepEqual(columns(raw, 'events_by_profile'), ['profile_id', 'position']);
    await kysely.destroy();
    await (await openDatabase(path)).close();
    check(path);
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare("select position from events where profile_id = 1 and kind = 'shape.described' order by position").pluck().all(), [8, 108, 208]);
    assert.deepEqual(db.prepare('select profile_id, first_position, last_position from profile_spans').raw().all(), [[1, 1, 300]]);
    db.close();
  });
});
