import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { TORCH } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';
import { ingestFile } from '../src/adapters/ingest-file.ts';
import { openLedger } from '../src/store/ledger.ts';
import { watch } from '../src/adapters/watch/watch.ts';
import { exportBytes, type ExportFormat } from '../src/adapters/export-profile.ts';
import { mergeProfiles } from '../src/adapters/merge-profiles.ts';
import type { IngestKind } from '../src/adapters/ingest-file.ts';
import type { PickleProtocol } from '../src/codecs/pickle/index.ts';
import { LedgerError } from '../src/errors.ts';

// Session 19: the library names its own fields in a message, the command line its flags
// (as matchCode and parseWindowLength take the flag's name from the command line).
const dir = tempDir();
const line = (o: Record<string, unknown>) =>
  JSON.stringify({ run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/srv/train.py', firstlineno: 24, name: 'f', file_hash: 'd02731e6' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1], ...o }) + '\n';

/** The message of what `f` throws (or rejects with). */
async function thrown(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('no error');
}

describe('session 19: library messages name fields, the command line flags', () => {
  it("a ledger's path: the library says 'the path', the command line --db or PGO_LEDGER_DB, copy its --from", async () => {
    const missing = join(dir, 'none.db');
    const lib = await thrown(() => openLedger(missing, { readonly: true }));
    assert.equal(lib, `no ledger at ${missing}: a read command never creates one (check the path; ingest or pull creates a ledger)`);
    assert.equal(await thrown(() => openLedger(dir, { readonly: true })), `${dir} is a folder, not a ledger database file (check the path)`);
    const r = cli(missing, ['show', '--job', 'x']);
    assert.equal(r.stderr, `pgo-ledger: no ledger at ${missing}: a read command never creates one (check --db or PGO_LEDGER_DB; ingest or pull creates a ledger)\n`);
    assert.match(cli(dir, ['jobs']).stderr, /is a folder, not a ledger database file \(check --db or PGO_LEDGER_DB\)\n$/);
    const copy = cli(join(dir, 'x.db'), ['copy', '--from', missing, '--to', join(dir, 'y.db')]);
    assert.match(copy.stderr, /a read command never creates one \(check --from; /);
    // another program's file: the library names the path, the command line --db (copy: --to)
    const foreign = join(dir, 'foreign.db');
    const { default: Database } = await import('better-sqlite3');
    const d = new Database(foreign);
    d.exec('create table t(x)');
    d.close();
    assert.match(await thrown(() => openLedger(foreign)), /it was left untouched: give a new file as the path$/);
    assert.match(cli(foreign, ['ingest', '-'], '').stderr, /it was left untouched: give a new file as --db\n$/);
    assert.match(cli(join(dir, 'x.db'), ['copy', '--from', foreign, '--to', foreign]).stderr, /--from and --to name the same ledger/);
  });

  it('the profile an input is for: the library names defaults.job and key, ingest --job and --key', async () => {
    const l = await openLedger(join(dir, 'words.db'));
    const noJob = join(dir, 'no-job.jsonl');
    writeFileSync(noJob, line({}));
    const value = join(dir, 'value');
    mkdirSync(value);
    const remote = join(value, 'some.json');
    // a remote value with no key file beside it, a pickle whose name names no key
    copyFileSync(join(TORCH, 'remote/redis_value.json'), remote);
    const pickle = join(dir, 'profile.pkl');
    copyFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'), pickle);
    const trace = join(dir, 'trace.log');
    // a glog line of a kind that names no profile key
    writeFileSync(trace, 'V1126 05:46:07.428000 576 torch/_dynamo/utils.py:2126] {"dynamo_start": {"stack": []}, "frame_id": 0, "frame_compile_id": 0, "attempt": 0}\n');
    try {
      assert.match(await thrown(() => ingestFile(l, noJob)), /field job: missing \(give it in the line or with defaults\.job\)/);
      assert.match(await thrown(() => ingestFile(l, remote, { kind: 'remote-json' })), /give key \(pt2:dynamo-pgo::<job>:<rank>:<tag>:c1\) or defaults\.job$/);
      assert.match(await thrown(() => ingestFile(l, remote, { kind: 'remote-json', key: 'a:b' })), /^key: /);
      assert.match(await thrown(() => ingestFile(l, pickle, { kind: 'pickle' })), /give defaults\.job \(and defaults\.rank\/defaults\.tag\)$/);
      assert.match(await thrown(() => ingestFile(l, trace, { kind: 'trace' })), /give defaults\.job$/);
    } finally {
      await l.close();
    }
    const db = join(dir, 'cli.db');
    const said = (args: string[]) => cli(db, ['ingest', ...args]).stderr;
    assert.match(said([noJob]), /field job: missing \(give it in the line or with --job\)/);
    assert.match(said(['--kind', 'remote-json', remote]), /give --key \(pt2:dynamo-pgo::<job>:<rank>:<tag>:c1\) or --job/);
    assert.match(said(['--kind', 'remote-json', '--key', 'a:b', remote]), /--key: /);
    assert.match(said(['--kind', 'pickle', pickle]), /give --job \(and --rank\/--tag\)/);
    assert.match(said(['--kind', 'trace', trace]), /give --job/);
    assert.doesNotMatch([noJob, remote, pickle, trace].map((f) => said([f])).join(''), /defaults\.|give key/);
  });

  // Trial 19.2: watch said "give --job" (and the library's "give defaults.job"), which watch does
  // not take: the advice names what does (ingest's, and the file's own fixes).
  it('watch, which takes no job or key, names what ingest takes and what the file can hold', async () => {
    const folder = join(dir, 'watched');
    mkdirSync(folder);
    writeFileSync(join(folder, 'no-job.jsonl'), line({}));
    copyFileSync(join(TORCH, 'remote/redis_value.json'), join(folder, 'redis_value.json'));
    copyFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'), join(folder, 'profile.pkl'));
    const r = cli(join(dir, 'watch.db'), ['watch', '--once', folder]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /field job: missing \(give it in the line or with --job of pgo-ledger ingest\)/);
    assert.match(r.stderr, /from the file name \(PyTorch names it code_state_<job>_<rank>_<tag>\.pkl\); give --job of pgo-ledger ingest \(and --rank\/--tag\)/);
    assert.match(r.stderr, /\(no redis_key\.txt or redis_value\.json\.key beside it holds the key\); give --key of pgo-ledger ingest \(pt2:dynamo-pgo::<job>:<rank>:<tag>:c1\) or --job of pgo-ledger ingest/);
    assert.doesNotMatch(r.stderr, /give --job(?! of)|or --job(?! of)|with --job(?! of)/);

    const l = await openLedger(join(dir, 'watch-lib.db'));
    const notes: string[] = [];
    try {
      await watch(l, {
        paths: [folder],
        intervalMs: 1000,
        settleMs: 1000,
        once: true,
        signal: new AbortController().signal,
        status: { input: () => {}, pass: () => {}, done: () => {}, note: (m) => void notes.push(m) },
      });
    } finally {
      await l.close();
    }
    const text = notes.join('\n');
    assert.match(text, /give it in the line or with defaults\.job of ingestFile\)/);
    assert.match(text, /give defaults\.job of ingestFile \(and defaults\.rank\/defaults\.tag\)/);
    assert.match(text, /give key of ingestFile \(pt2:dynamo-pgo::<job>:<rank>:<tag>:c1\) or defaults\.job of ingestFile/);
  });

  // Trial 19.2: what the types check for a TypeScript caller, a JavaScript one can still get
  // wrong: ingestFile's kind threw a TypeError ("handlers[kind] is not a function"), exportBytes
  // returned undefined for a format it has no case for and threw a RangeError for protocol 9,
  // and mergeProfiles said a bad `into` of the first profile joined ("profile fixture:None::").
  it("the library's fields a JavaScript caller gets wrong are input LedgerErrors naming the field", async () => {
    const l = await openLedger(join(dir, 'fields.db'));
    try {
      await ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'));
      const p = l.profileByKey('fixture:None:')!;
      const profile = l.fold(p.id).profile;
      const input = async (f: () => unknown, words: RegExp) => {
        const e = await thrownError(f);
        assert.ok(e instanceof LedgerError, `${e.name}: ${e.message}`);
        assert.equal(e.kind, 'input');
        assert.match(e.message, words);
      };
      await input(() => ingestFile(l, join(dir, 'no-job.jsonl'), { kind: 'nope' as IngestKind }), /^kind "nope": want observations, pickle, /);
      await input(() => exportBytes(profile, { format: 'bogus' as ExportFormat, cacheKey: p.cacheKey }), /^format "bogus": want pickle, megacache or remote-json/);
      await input(() => exportBytes(profile, { format: 'local-dir', cacheKey: p.cacheKey }), /^format local-dir: a folder, which writeLocalDir writes/);
      await input(() => exportBytes(profile, { format: 'pickle', cacheKey: p.cacheKey, protocol: 9 as PickleProtocol }), /^protocol 9: only pickle protocols 2 to 5/);
      await input(() => mergeProfiles(l, [p], 'joined'), /^into: not a PGO cache key \(want job:rank:tag\): "joined"$/);
      await input(() => mergeProfiles(l, [p], p.cacheKey), /^from fixture:None: is into itself/);
      assert.equal(exportBytes(profile, { format: 'pickle', cacheKey: p.cacheKey, protocol: 2 })[1], 2);
    } finally {
      await l.close();
    }
  });
});

/** What `f` throws (or rejects with). */
async function thrownError(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  assert.fail('no error');
}

describe('trial s28b: the library checks what it is given as the command line does, with the one error type', () => {
  const ingested = async (name: string) => {
    const l = await openLedger(join(dir, name));
    await ingestFile(l, join(TORCH, 'traces', 'cold-local.log'));
    return l;
  };
  /** What `f` throws (or rejects with). */
  async function error(f: () => unknown): Promise<LedgerError> {
    try {
      await f();
    } catch (e) {
      assert.ok(e instanceof LedgerError, `${String(e)} is a LedgerError`);
      assert.equal(e.kind, 'input');
      return e;
    }
    assert.fail('no error');
  }

  it('recompileStats refuses a window length that is no whole number of ms above 0 (it gave windows ending before they start, and null bounds)', async () => {
    const { recompileStats } = await import('../src/store/stats.ts');
    const l = await ingested('s28b-stats.db');
    for (const windowMs of [-5, 0, Number.NaN, 1.5]) assert.equal((await error(() => recompileStats(l, { windowMs }))).message, `windowMs ${String(windowMs)}: want a whole number of milliseconds above 0`);
    assert.ok(recompileStats(l, { windowMs: 1000 }).every((w) => w.end > w.start));
    await l.close();
  });

  it('retractRun of a run with no events throws, naming the runs there, as retract --run does (it retracted nothing, silently)', async () => {
    const { retractRun } = await import('../src/store/retract.ts');
    const l = await ingested('s28b-retract.db');
    const e = await error(() => retractRun(l, 'nope'));
    assert.match(e.message, /^run nope has no events \(runs there: fixture:pid\d+@\S+; runsByProfile\(ledger\.sql\) lists them by profile/);
    await l.close();
    const r = cli(join(dir, 's28b-retract.db'), ['retract', '--run', 'nope']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pgo-ledger: run nope has no events \(runs there: fixture:pid\d+@\S+; pgo-ledger jobs --json lists them by profile/);
  });

  it("retractedRuns gives a profile's retracted runs, as jobs --json's retracted (trial s28b: no library function)", async () => {
    const { retractRun, retractedRuns } = await import('../src/index.ts');
    const l = await ingested('s28b-retracted.db');
    const p = l.profileByKey('fixture:None:')!;
    assert.deepEqual(retractedRuns(l, p.id), []);
    const [run] = (await import('../src/store/profile-runs.ts')).runsByProfile(l.sql).get(p.id)!;
    retractRun(l, run);
    assert.deepEqual(retractedRuns(l, p.id), [run]);
    await l.close();
    const jobs = JSON.parse(cli(join(dir, 's28b-retracted.db'), ['jobs', '--json']).stdout) as { retracted: string[] };
    assert.deepEqual(jobs.retracted, [run]);
  });

  it("ingestFile refuses an empty defaults.job (it stored the events under the file name's job)", async () => {
    const l = await openLedger(join(dir, 's28b-job.db'));
    const e = await error(() => ingestFile(l, join(TORCH, 'local', 'code_state_fixture_None_.pkl'), { defaults: { job: '' } }));
    assert.match(e.message, /^defaults\.job is empty: an empty job id names no job/);
    assert.deepEqual(l.profiles(), []);
    await l.close();
  });

  it("ingestFile refuses defaults a JavaScript caller got wrong: a job that is no string (a TypeError from deep inside), a rank below 0 (a profile x:-1:) (trial s28c)", async () => {
    const l = await openLedger(join(dir, 's28c-defaults.db'));
    const pkl = join(TORCH, 'local', 'code_state_fixture_None_.pkl');
    assert.equal((await error(() => ingestFile(l, pkl, { defaults: { job: 5 as unknown as string } }))).message, 'defaults.job 5: want a string');
    assert.equal((await error(() => ingestFile(l, pkl, { defaults: { rank: -1 } }))).message, "defaults.rank -1: want a whole number, 0 or more, or null for PyTorch's None");
    assert.deepEqual(l.profiles(), []);
    await l.close();
  });

  it("openLedger('') is refused: SQLite's temporary database keeps nothing (trial s28c)", async () => {
    assert.equal((await error(() => openLedger(''))).message, "the ledger's path is empty: give the path (SQLite would open a temporary database, and what is written there is gone at exit)");
  });

  it("a remote value's bad key, or one whose key cannot be told, is a LedgerError that keeps its cause (a plain Error, read as a bug)", async () => {
    const l = await openLedger(join(dir, 's28b-key.db'));
    const bad = await error(() => ingestFile(l, join(TORCH, 'remote', 'redis_value.json'), { key: 'garbage' }));
    assert.match(bad.message, /not a PGO cache key/);
    assert.ok(bad.cause instanceof LedgerError);
    const value = join(dir, 's28b-value.json');
    copyFileSync(join(TORCH, 'remote', 'redis_value.json'), value);
    assert.match((await error(() => ingestFile(l, value))).message, /cannot tell the remote value's profile key/);
    await l.close();
  });

  it('a ledger used after close() says so, a LedgerError of kind input (better-sqlite3\'s TypeError, exit 70 on the command line)', async () => {
    const l = await ingested('s28b-closed.db');
    await l.close();
    const e = await error(() => l.profiles());
    assert.match(e.message, /^the ledger \S+s28b-closed\.db is closed: open it again \(openLedger\)/);
    assert.ok(e.cause instanceof TypeError);
  });

  it("a file that is no SQLite database: the library's message says the path, not --db", async () => {
    const junk = join(dir, 's28b-junk.db');
    writeFileSync(junk, 'not a database, a text file of some length '.repeat(200));
    const m = await thrown(() => openLedger(junk));
    assert.match(m, /is no pgo-ledger database \(nor any SQLite database\): a mistyped path, or a file damaged/);
    assert.doesNotMatch(m, /--db/);
  });
});
