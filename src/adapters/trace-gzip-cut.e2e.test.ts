import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir('pgo-trace-gz-');

describe('a .gz trace that cannot be read to its end keeps its whole lines before that, as the same log cut uncompressed (trial 19)', () => {
  const whole = readFileSync(join(TORCH, 'traces', 'warm-local.log'));
  const gz = gzipSync(whole);
  const cut = gz.subarray(0, gz.length >> 1);
  // what the cut inflates to, up to its last whole line: the uncompressed log cut there
  const inflated = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
  const plain = whole.subarray(0, inflated.lastIndexOf(0x0a) + 1);
  const jobs = (db: string) => cli(db, ['jobs', '--json']).stdout;
  const shown = (db: string) => cli(db, ['show', '--job', 'fixture']).stdout;

  it('a cut gzip: the entries before the cut go in, exit 2, the rest said unreadable; again stops at the same place', () => {
    writeFileSync(join(dir, 'cut.log.gz'), cut);
    writeFileSync(join(dir, 'plain.log'), plain);
    const db = join(dir, 'cut.db');
    const r = cli(db, ['ingest', join(dir, 'cut.log.gz')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`cut\\.log\\.gz: failed: gzip: unexpected end of file: cut off after compressed byte ${cut.length}, \\d+ bytes inflated before it\n  the trace entries of \\S*cut\\.log\\.gz before it were ingested \\((\\d+) events appended, 0 already in the log\\), and stay; the rest of the file cannot be read \\(the failure above\\), so ingesting it again stops at the same place\n`));
    const base = join(dir, 'plain.db');
    assert.equal(cli(base, ['ingest', join(dir, 'plain.log')]).status, 0);
    assert.ok(JSON.parse(jobs(base)).events > 0);
    assert.equal(JSON.parse(jobs(db)).events, JSON.parse(jobs(base)).events, 'as many events as the uncompressed cut');
    assert.equal(shown(db), shown(base));
    const again = cli(db, ['ingest', join(dir, 'cut.log.gz')]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /\(0 events appended, \d+ already in the log\)/);
  });

  it("a gzip whose CRC-32 fails, or whose deflate data is damaged, gives nothing: its check vouches for none of it (trial s27b: a flipped size went in)", () => {
    // stored (level 0) so a byte of the log can be changed in place: a size [2, 3] made [2, 9]
    const stored = gzipSync(whole, { level: 0 });
    const at = stored.indexOf(Buffer.from('"size": [2, 3]'));
    assert.ok(at > 0);
    const flipped = Buffer.from(stored);
    flipped[at + '"size": [2, '.length] = '9'.charCodeAt(0);
    // the CRC field alone changed, the content whole
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 8] ^= 1;
    for (const [name, bytes] of [['flipped.log.gz', flipped], ['bad-crc.log.gz', badCrc]] as const) {
      writeFileSync(join(dir, name), bytes);
      const db = join(dir, `${name}.db`);
      const r = cli(db, ['ingest', join(dir, name)]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${name.replace(/\./g, '\\.')}: failed: gzip: incorrect data check: member 1's CRC-32 or length at compressed byte \\d+ is not that of what it inflated to, \\d+ bytes inflated before it; nothing of it taken: a failed check vouches for none of what it inflated to\n`));
      assert.match(r.stderr, /nothing was written/);
    }
  });

  it("watch --once of a folder holding a cut gzip takes what ingest of the folder takes, and says it partly ingested (trials s27b, s27c: it took nothing)", () => {
    const folder = join(dir, 'watch-cut');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a-cut.log.gz'), cut);
    writeFileSync(join(folder, 'b-cold.log'), readFileSync(join(TORCH, 'traces', 'cold-local.log')));
    // written a while ago: final to a watch at once
    const old = new Date(Date.now() - 60_000);
    for (const f of ['a-cut.log.gz', 'b-cold.log']) utimesSync(join(folder, f), old, old);
    const watched = join(dir, 'watch-cut.db');
    const w = cli(watched, ['watch', folder, '--once']);
    assert.equal(w.status, 2, w.stderr);
    assert.match(w.stderr, /a-cut\.log\.gz: partly ingested: gzip: unexpected end of file: .*\n  the trace entries of \S*a-cut\.log\.gz before it were ingested \(\d+ events appended/);
    const ingested = join(dir, 'ingest-cut.db');
    assert.equal(cli(ingested, ['ingest', folder]).status, 2);
    assert.equal(JSON.parse(jobs(watched)).events, JSON.parse(jobs(ingested)).events);
    assert.equal(cli(watched, ['history', '--job', 'fixture', '--json']).stdout.replace(/"position":\d+,?/g, ''), cli(ingested, ['history', '--job', 'fixture', '--json']).stdout.replace(/"position":\d+,?/g, ''));
    // --json counts what went in of it in the pass (trial s36b: "appended":0, "failed":1, no input line)
    const jw = join(dir, 'watch-cut-json.db');
    const j = cli(jw, ['watch', folder, '--once', '--json']);
    const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report?: string; input?: string; appended?: number; failed?: number });
    const cutIn = lines.find((l) => l.report === 'input' && l.input!.endsWith('a-cut.log.gz'));
    assert.ok(cutIn && cutIn.appended! > 0, j.stdout);
    const pass = lines.find((l) => l.report === 'pass')!;
    assert.equal(pass.failed, 1);
    assert.equal(pass.appended, JSON.parse(jobs(ingested)).events);
    // said once: the next pass leaves it (its cursor), as a bad file until it changes
    const again = cli(watched, ['watch', folder, '--once']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(jobs(watched)).events, JSON.parse(jobs(ingested)).events);
  });

  it('a gzip bomb (a log, then 100 MiB of newlines: 250 times its size and more) is refused, nothing of it taken, by ingest and watch alike (trial s27b: minutes, and watch held it all)', () => {
    const bomb = gzipSync(Buffer.concat([whole, Buffer.alloc(100 << 20, 0x0a)]), { level: 9 });
    const folder = join(dir, 'bomb');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'bomb.log.gz');
    writeFileSync(file, bomb);
    const r = cli(join(dir, 'bomb.db'), ['ingest', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bomb\.log\.gz: failed: gzip: inflates to more than 250 times its compressed size \(\d+ bytes from at most \d+ compressed\): a gzip bomb, or nothing a log or profile holds; refused, \d+ bytes inflated before it; nothing of it taken/);
    assert.match(r.stderr, /nothing was written/);
    const w = cli(join(dir, 'bomb-watch.db'), ['watch', folder, '--once', '--settle', '0.1']);
    assert.equal(w.status, 2, w.stderr);
    assert.match(w.stderr, /bomb\.log\.gz: not ingested: gzip: inflates to more than 250 times its compressed size/);
  });

  it('in a folder too, the others ingested', () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a-cut.log.gz'), cut);
    writeFileSync(join(folder, 'b-cold.log'), readFileSync(join(TORCH, 'traces', 'cold-local.log')));
    const db = join(dir, 'folder.db');
    const r = cli(db, ['ingest', folder]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /a-cut\.log\.gz: trace: failed: gzip: unexpected end of file: .*\n  the trace entries of \S*a-cut\.log\.gz before it were ingested \(\d+ events appended/);
    assert.match(r.stderr, /1 input failed \(the others were ingested\)/);
    assert.ok(JSON.parse(jobs(db)).events > JSON.parse(jobs(join(dir, 'plain.db'))).events);
    // the folder's count holds the cut log's events too, and its failure says how many (trial s27b: left out)
    const json = join(dir, 'folder-json.db');
    const j = cli(json, ['ingest', '--json', folder]);
    const [line, failure] = j.stdout.trim().split('\n').map((l) => JSON.parse(l)) as [{ appended: number; failed: { input: string; appended?: number }[] }, { error: string }];
    assert.match(failure.error, /^1 input failed/);
    const cutEvents = Number(/before it were ingested \((\d+) events appended/.exec(r.stderr)![1]);
    assert.equal(line.failed[0].appended, cutEvents);
    assert.equal(line.appended, JSON.parse(jobs(json)).events);
    assert.ok(line.appended > cutEvents);
    // and a file named alone: its failure line says what went in
    const alone = cli(join(dir, 'alone-json.db'), ['ingest', '--json', join(folder, 'a-cut.log.gz')]);
    assert.equal((JSON.parse(alone.stdout.trim().split('\n')[0]) as { appended?: number }).appended, cutEvents);
  });
});
