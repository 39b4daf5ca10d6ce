import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s28b: a failure had a JSON shape in ingest alone (`{input, error}`); read commands
// printed nothing on stdout, and a ledger that could not be opened gave ingest's and watch's
// --json readers no line.
const dir = tempDir();

describe('--json: a command that fails says `{error}` on stdout, its message as on stderr', () => {
  const db = join(dir, 'a.db');
  const said = (r: { status: number; stdout: string; stderr: string }) => {
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    const { error } = JSON.parse(lines[0]) as { error: string };
    assert.equal(`pgo-ledger: ${error}\n`, r.stderr);
    return error;
  };

  it('read commands (show, why, history, diff, stats, jobs, verify) and the writers that open no ledger', () => {
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    for (const args of [['show'], ['why'], ['history'], ['diff', '--from', '1'], ['stats']]) {
      const r = cli(db, [...args, '--job', 'nope', '--json']);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(said(r), /^no profile for job nope \(/);
    }
    const missing = join(dir, 'none.db');
    for (const args of [['jobs', '--json'], ['verify', '--json']]) assert.match(said(cli(missing, args)), /^no ledger at .*none\.db/);
    const noDir = join(dir, 'no', 'such', 'x.db');
    for (const args of [['ingest', '--json', join(TORCH, 'traces', 'cold-local.log')], ['watch', '--once', '--json', join(TORCH, 'traces')]]) {
      const r = cli(noDir, args);
      assert.equal(r.status, 2);
      assert.match(said(r), /^cannot open database .*x\.db/);
    }
    // without --json stdout stays empty
    assert.equal(cli(db, ['show', '--job', 'nope']).stdout, '');
  });
});

describe("trial s28b: a folder's failed input names its kind once", () => {
  it('a truncated pickle in a folder: `failed: pickle: truncated …`, as one named alone (it said `pickle: failed: pickle: …`)', () => {
    const folder = join(dir, 'mixed');
    mkdirSync(folder);
    const pkl = join(folder, 'code_state_x_None_.pkl');
    writeFileSync(pkl, Buffer.from([0x80, 0x04, 0x95]));
    const inFolder = cli(join(dir, 'm.db'), ['ingest', folder]);
    const alone = cli(join(dir, 'm2.db'), ['ingest', pkl]);
    const line = `${pkl}: failed: pickle: truncated: opcode FRAME needs 8 more bytes, 0 left (at byte 2)\n`;
    assert.ok(inFolder.stderr.startsWith(line), inFolder.stderr);
    assert.ok(alone.stderr.startsWith(line), alone.stderr);
  });
});

describe('trial s28c: a refused flag is said on stderr only; an empty ledger path is refused', () => {
  it('a required option left out under --json: stderr, no {error} line', () => {
    const db = join(dir, 'req.db');
    assert.equal(cli(db, ['ingest', join(TORCH, 'traces', 'cold-local.log')]).status, 0);
    for (const args of [['diff', '--job', 'fixture', '--json'], ['report', '--json']]) {
      const r = cli(db, args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, /^error: required option '(--from|-o, --output) <[^>]*>' not specified/);
    }
  });

  it("--db '' (or an empty PGO_LEDGER_DB) is refused before anything is read: SQLite's temporary database kept nothing, and ingest said 8 events appended", () => {
    const r = cli('', ['ingest', join(TORCH, 'traces', 'cold-local.log')]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "pgo-ledger: the ledger's path is empty: give --db (SQLite would open a temporary database, and what is written there is gone at exit)\n");
    assert.equal(r.stdout, '');
    assert.equal(cli('', ['jobs', '--json']).stdout, `${JSON.stringify({ error: "the ledger's path is empty: give --db (SQLite would open a temporary database, and what is written there is gone at exit)" })}\n`);
  });
});
