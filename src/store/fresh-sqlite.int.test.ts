import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../../test/support/tmp.ts';
import { migratedSchema } from '../../scripts/sqlite-fresh.ts';
import { migrations } from '../../migrations/index.ts';
import { FRESH_SQLITE } from '../../migrations/sqlite-fresh.ts';
import { openDatabase } from './database.ts';
import { captureSchema, freshUsable } from './fresh-sqlite.ts';
import { openLedger } from './ledger.ts';

const dir = tempDir();

describe('sqlite: a new database from the migrations\' record', () => {
  it('the record is what running every migration through Kysely makes (after a new migration: node --import tsx scripts/sqlite-fresh.ts)', async () => {
    assert.deepEqual(FRESH_SQLITE, await migratedSchema());
    assert.ok(freshUsable());
  });

  it('a database created from the record has the schema, rows and migration list the migrations give', async () => {
    const path = join(dir, 'fresh.db');
    const d = await openDatabase(path);
    await d.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.deepEqual(captureSchema(db), await migratedSchema());
      const stamps = db.prepare('select name, timestamp from kysely_migration order by name').all() as { name: string; timestamp: string }[];
      assert.deepEqual(stamps.map((r) => r.name), Object.keys(migrations));
      for (const r of stamps) assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('a database created from the record opens as current, read only too, and takes events', async () => {
    const path = join(dir, 'fresh2.db');
    (await (await openDatabase(path)).close());
    const r = await openDatabase(path, { readonly: true });
    await r.close();
    const l = await openLedger(path);
    const res = l.append([{ kind: 'shape.observed', cacheKey: 'j:0:', payload: { code: { filename: 'f.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", shape: { kind: 'tensor', size: [2], stride: [1] }, automatic_dynamic: false }, idempotencyKey: 'k1' }]);
    assert.equal(res.appended, 1);
    await l.close();
  });
});
