import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from './support/cli.ts';
import { TORCH } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';
import { ingestFile } from '../src/adapters/ingest-file.ts';
import { openLedger } from '../src/store/ledger.ts';

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
});
