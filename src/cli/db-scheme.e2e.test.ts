import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

describe('--db: a URL of a scheme not served is refused, naming those served', () => {
  const obs = join(dir, 'obs.jsonl');
  writeFileSync(obs, JSON.stringify({ job: 'j', run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'abc' }, source: "L['x']", kind: 'tensor', size: [8, 4], stride: [4, 1] }) + '\n');

  it('by read and write commands alike, exit 2, no password printed, nothing created', () => {
    for (const db of ['mysql://u:secret@x/db', 'sqlite:///tmp/a.db', `file:${join(dir, 'f.db')}`, `FILE://${join(dir, 'g.db')}`]) {
      for (const args of [['show', '--job', 'j'], ['ingest', obs], ['replay'], ['copy', '--to', join(dir, 'c.db')]]) {
        const r = cli(db, args);
        assert.equal(r.status, 2, `${db} ${args[0]}: ${r.stderr}`);
        const scheme = /^[a-z]+/i.exec(db)![0];
        assert.equal(r.stderr, `pgo-ledger: a ${scheme}: URL is not a database pgo-ledger serves: give a SQLite file path, or a postgres:// or postgresql:// URL\n`, `${db} ${args[0]}`);
      }
    }
    assert.deepEqual(readdirSync(dir), ['obs.jsonl']);
    assert.equal(existsSync(join(process.cwd(), 'file:')), false);
  });

  it('a path with a colon that is no URL is still a SQLite path', () => {
    const db = join(dir, 'a:b.db');
    assert.equal(cli(db, ['ingest', obs]).status, 0);
    assert.equal(cli(db, ['show', '--job', 'j']).status, 0);
  });
});
