import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial 19: `ingest --job other` on a trace or a mega-cache, which name their own profile key,
// stored the events under that key and said nothing, while a pickle or a remote value took
// --job: the flag a user gave passed unseen.
const dir = tempDir();
const trace = join(TORCH, 'traces', 'warm-local.log');
const bundle = join(TORCH, 'megacache', 'eager-warm-run.bin');
const keys = (db: string) => cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l).cache_key);

describe('--job/--rank/--tag on an input that names its own profile key', () => {
  it('a trace: stored under its own key, and stderr says the flags were not used', () => {
    const db = join(dir, 'trace.db');
    const r = cli(db, ['ingest', '--job', 'other', '--rank', '3', trace]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warm-local\.log: --job other --rank 3 not used: the trace names its profile key fixture:None: \(they name the profile of an input that names none\)/);
    assert.deepEqual(keys(db), ['fixture:None:']);
  });

  it('a mega-cache: the same, once a key', () => {
    const db = join(dir, 'bundle.db');
    const r = cli(db, ['ingest', '--job', 'other', bundle]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/not used/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /eager-warm-run\.bin: --job other not used: the mega-cache names its profile key fixture:None:/);
    assert.deepEqual(keys(db), ['fixture:None:']);
  });

  it('flags that name the key the input names say nothing', () => {
    const db = join(dir, 'agree.db');
    const r = cli(db, ['ingest', '--job', 'fixture', trace, bundle]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not used/);
  });
});

describe('stats --help', () => {
  it('says that --job, --rank and --tag left out take every profile, as stats does', () => {
    const help = cli(join(dir, 'none.db'), ['stats', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(help, /--rank <rank> rank \(omit for every rank\)/);
    assert.match(help, /--job <job> job id \(torch\.compiler\.config\.job_id; omit for every job\)/);
    assert.doesNotMatch(help, /PyTorch's None/);
  });
});

describe("a command's --help (session 24 trial: only the top level's named --db)", () => {
  it('lists --db and PGO_LEDGER_DB, and says a time with no offset is UTC', () => {
    for (const command of ['show', 'why', 'history', 'ingest', 'watch']) {
      const help = cli(join(dir, 'none.db'), [command, '--help']).stdout.replace(/\s+/g, ' ');
      assert.match(help, /--db <path> the ledger database: .*env: PGO_LEDGER_DB/, command);
      if (command !== 'ingest' && command !== 'watch') assert.match(help, /--as-of <pos\|time> as of a log position or an ISO 8601 time \(UTC where it names no offset\)/, command);
    }
  });
});

// Trial s36a: on observation lines that name their own job and run, `--job other` and
// `--run rZ` did nothing and said nothing ("0 events appended, 6 already in the log").
describe('--job/--run on observation lines that name their own', () => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ time: '2026-11-26T10:00:00Z', code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'aa' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1], ...o });
  it('every line names them: said, once, naming the flags; a line that takes one: nothing said', () => {
    const own = join(dir, 'own.jsonl');
    writeFileSync(own, [line({ job: 'ja', run: 'r1', tag: 'v1' }), line({ job: 'ja', run: 'r2', tag: 'v1', size: [9] })].join('\n') + '\n');
    const db = join(dir, 'lines.db');
    const r = cli(db, ['ingest', '--job', 'other', '--run', 'rZ', '--tag', 'v2', own]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/not used/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /own\.jsonl: --job other --tag v2 --run rZ not used: every line names its own job, tag, run \(they name what a line leaves out\)/);
    // "tag": null is a tag left out (it takes --tag): only --job and --run go unused
    const mixed = join(dir, 'mixed.jsonl');
    writeFileSync(mixed, [line({ job: 'jb', run: 'r1', tag: null }), line({ job: 'jb', run: 'r2', size: [9] })].join('\n') + '\n');
    const m = cli(db, ['ingest', '--job', 'other', '--run', 'rZ', '--tag', 'v2', mixed]);
    assert.match(m.stderr, /mixed\.jsonl: --job other --run rZ not used: every line names its own job, run/);
    const some = join(dir, 'some.jsonl');
    writeFileSync(some, [line({ job: 'jc', run: 'r1' }), line({ run: 'r2', size: [9] })].join('\n') + '\n');
    const t = cli(db, ['ingest', '--job', 'other', some]);
    assert.equal(t.status, 0, t.stderr);
    assert.doesNotMatch(t.stderr, /not used/);
    assert.ok(keys(db).includes('other:None:'));
  });
});
