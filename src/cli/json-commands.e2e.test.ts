import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { startRedis } from '../../test/support/redis-server.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s28b: merge, export, replay, report and pull took no --json (a tool read their prose),
// and verify --json gave its differences as text, each beginning with its profile's key.
const dir = tempDir();
const db = join(dir, 'j.db');
const one = (r: { status: number | null; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  return JSON.parse(lines[0]) as Record<string, unknown>;
};

describe('--json on the commands that write: one object each, in the vocabulary of the rest', () => {
  it('ingest, then replay: the events, profiles and recompile reasons', () => {
    copyFileSync(join(TORCH, 'traces', 'cold-local.log'), join(dir, 'cold.log'));
    assert.equal(cli(db, ['ingest', join(dir, 'cold.log')]).status, 0);
    const r = one(cli(db, ['replay', '--json']));
    const ingested = one(cli(db, ['jobs', '--json']));
    assert.deepEqual(Object.keys(r), ['events', 'profiles', 'records']);
    assert.equal(r.events, ingested.events);
    assert.equal(r.profiles, 1);
    assert.ok((r.records as number) > 0);
  });

  it('export: the profile, format, file, protocol, bytes and code ids; -o - with --json is refused', () => {
    const out = join(dir, 'p.pkl');
    const r = one(cli(db, ['export', '--job', 'fixture', '--format', 'pickle', '-o', out, '--json']));
    assert.deepEqual(r, { cache_key: 'fixture:None:', format: 'pickle', output: out, protocol: 4, bytes: statSync(out).size, codes: r.codes });
    assert.ok((r.codes as number) > 0);
    const mega = one(cli(db, ['export', '--job', 'fixture', '--format', 'megacache', '-o', join(dir, 'c.bin'), '--json']));
    assert.equal(mega.protocol, undefined, 'a mega-cache has no protocol to give');
    assert.equal(mega.bytes, statSync(join(dir, 'c.bin')).size);
    const local = one(cli(db, ['export', '--job', 'fixture', '--format', 'local-dir', '-o', join(dir, 'cache'), '--json']));
    assert.ok(readFileSync(local.output as string).length > 0, 'local-dir names the file it wrote');
    const refused = cli(db, ['export', '--job', 'fixture', '--format', 'pickle', '-o', '-', '--json']);
    assert.equal(refused.status, 2);
    assert.match(JSON.parse(refused.stdout.trim()).error, /--json with -o -/);
  });

  it('report: the file, its profiles, jobs and bytes', () => {
    const r = one(cli(db, ['report', '--all', '-o', join(dir, 'site') + '/', '--json']));
    // `profiles` a count, as replay's and verify's (trial s29c), the keys apart
    assert.deepEqual(r, { output: join(dir, 'site', 'index.html'), profiles: 1, cache_keys: ['fixture:None:'], jobs: 1, bytes: statSync(join(dir, 'site', 'index.html')).size });
  });

  it("report of one profile (no --all): jobs counts that profile's job", () => {
    // trial s32: `jobs` counted the --all index's jobs, 0 for one profile
    const r = one(cli(db, ['report', '-o', join(dir, 'one.html'), '--json']));
    assert.deepEqual([r.profiles, r.jobs], [1, 1]);
  });

  it("ingest: what it says of an input on stderr is in the input's line too (notes)", () => {
    // trial s32: `--run … not used` (and the key read from the file name) were only prose
    const pkl = join(dir, 'code_state_fixture_None_.pkl');
    copyFileSync(join(TORCH, 'local', 'code_state_fixture_None_.pkl'), pkl);
    const r = cli(db, ['ingest', '--json', '--run', 'r5', pkl]);
    const line = one(r);
    const notes = line.notes as string[];
    assert.equal(notes.length, 2, r.stderr);
    assert.match(notes[0], /profile key fixture:None: derived from the file name/);
    assert.match(notes[1], /--run r5 not used/);
    for (const n of notes) assert.ok(r.stderr.includes(n), 'each note is said on stderr as before');
    // an input with nothing to say has no notes field (the lines keep their shape)
    assert.equal('notes' in one(cli(db, ['ingest', '--json', join(dir, 'cold.log')])), false);
  });

  it('merge: the target, the profiles joined, the events appended, the live patterns; --stop-live: how many stopped', () => {
    const r = one(cli(db, ['merge', '--from', 'fixture', '--into', 'joined', '--live', '--json']));
    assert.deepEqual(r, { into: 'joined:None:', from: ['fixture:None:'], appended: r.appended, records: r.records, live: ['fixture:None:'] });
    assert.ok((r.appended as number) > 0);
    assert.deepEqual(one(cli(db, ['merge', '--into', 'joined', '--stop-live', '--json'])), { into: 'joined:None:', stopped: 1 });
  });

  it("verify: each difference with its profile's key apart from its text", () => {
    const copy = join(dir, 'v.db');
    copyFileSync(db, copy);
    const raw = new Database(copy);
    raw.exec("update code_states set entries = '[]' where profile_id = (select id from profiles where cache_key = 'fixture:None:')");
    raw.close();
    const r = cli(copy, ['verify', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const v = JSON.parse(r.stdout) as { ok: boolean; differences: { cache_key: string | null; difference: string }[] };
    assert.equal(v.ok, false);
    assert.ok(v.differences.length > 0);
    for (const d of v.differences) {
      assert.deepEqual(Object.keys(d), ['cache_key', 'difference']);
      assert.equal(d.cache_key, 'fixture:None:');
      assert.doesNotMatch(d.difference, /^fixture:None:/);
    }
    // the text says the same, each line with its key
    const text = cli(copy, ['verify']).stdout.trim().split('\n').slice(0, -1);
    assert.deepEqual(text, v.differences.map((d) => `${d.cache_key}: ${d.difference}`));
  });

  it("ingest: a folder whose file failed ends stdout with {error}, after the folder's line (trial s28b: its summary came last)", () => {
    const folder = join(dir, 'some-bad');
    mkdirSync(folder);
    copyFileSync(join(TORCH, 'traces', 'cold-local.log'), join(folder, 'a.log'));
    writeFileSync(join(folder, 'b.jsonl'), '{"job": 1}\n');
    const r = cli(join(dir, 'folder.db'), ['ingest', '--json', folder]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2, r.stdout);
    assert.equal(lines[0].failed.length, 1);
    assert.match(lines[1].error, /^1 input failed \(the others were ingested\): .*some-bad\/b\.jsonl$/);
    assert.equal(r.stderr.trim().split('\n').at(-1), `pgo-ledger: ${lines[1].error}`);
  });

  it('pull: the entries pulled, those not set and those bad, the events appended', async () => {
    const redis = await startRedis();
    after(() => redis.stop());
    assert.equal(cli(db, ['publish', redis.url, '--job', 'fixture']).status, 0);
    const pulled = join(dir, 'pulled.db');
    const r = one(cli(pulled, ['pull', redis.url, '--all', '--json']));
    assert.deepEqual(Object.keys(r), ['pulled', 'missing', 'bad', 'appended', 'duplicates', 'records']);
    assert.deepEqual(r.pulled, ['pt2:dynamo-pgo::fixture:None::c1']);
    assert.ok((r.appended as number) > 0);
    // the same entry under a run, as ingest says it of a file (trial s33b: pull said nothing)
    const again = cli(pulled, ['pull', redis.url, '--all', '--run', 'r4', '--json']);
    const notes = one(again).notes as string[];
    assert.equal(notes.length, 1, again.stderr);
    assert.match(notes[0], /^pt2:dynamo-pgo::fixture:None::c1: --run r4 not used: the same snapshot as the profile now, joined before with no run/);
    assert.ok(again.stderr.includes(notes[0]));
    const missing = cli(pulled, ['pull', redis.url, '--job', 'nobody', '--json']);
    assert.equal(missing.status, 2);
    const [said, failed] = missing.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(said, { pulled: [], missing: ['pt2:dynamo-pgo::nobody:None::c1'], bad: [], appended: 0, duplicates: 0, records: 0 });
    // a failure ends stdout with {error}, as every command's under --json
    assert.deepEqual(failed, { error: 'pt2:dynamo-pgo::nobody:None::c1: not set' });
  });
});
