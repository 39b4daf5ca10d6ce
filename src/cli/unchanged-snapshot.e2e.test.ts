import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s32: the same profile file read after each run, under each run's --run (or none), was
// joined again with no word: a sighting more of each value, credited to a run that saw none.
// PyTorch writes a profile only when it changed (pgo.py's put_code_state: "no change,
// skipping"), so the file a run that changed nothing leaves is the write before it.
const dir = tempDir();
const RUN = (n: number) => join(FIXTURES, 'multirun', 'probe3', `run${n}`, 'code_state_probe3_None_.pkl');

/** The file as PyTorch leaves it after each run: one path, written over. */
function place(n: number): string {
  const d = join(dir, 'cache');
  mkdirSync(d, { recursive: true });
  const f = join(d, 'code_state_probe3_None_.pkl');
  copyFileSync(RUN(n), f);
  return f;
}

const ingest = (db: string, file: string, run?: string, job?: string) => {
  const r = cli(db, ['ingest', '--json', ...(run ? ['--run', run] : []), ...(job ? ['--job', job] : []), file]);
  assert.equal(r.status, 0, r.stderr);
  return { line: JSON.parse(r.stdout.trim()) as { appended: number; duplicates: number; notes?: string[] }, stderr: r.stderr };
};

/** why's counts of L['n'] of branchy (an int that turned dynamic) and the runs they name. */
const seen = (db: string) => {
  const r = cli(db, ['why', '--source', "L['n']", '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = (JSON.parse(r.stdout) as { code: { name: string }; values: { value: string; count: number; runs: string[] }[] }[]).find((x) => x.code.name === 'branchy')!;
  return s.values.map((v) => `${v.value}x${v.count} ${v.runs.join(',')}`);
};

describe('a profile file that is the profile now, joined before', () => {
  it('is not joined again under another --run, or none, and says so', () => {
    const db = join(dir, 'a.db');
    const f = place(1);
    const first = ingest(db, f, 'r1');
    assert.ok(first.line.appended > 0);
    const before = seen(db);
    // run r2 changed nothing: PyTorch left the file as it was
    const again = ingest(db, f, 'r2');
    assert.deepEqual([again.line.appended, again.line.duplicates], [0, first.line.appended]);
    assert.match(again.stderr, /--run r2 not used: the same snapshot as the profile now, joined before as run r1's: taken for that write read again \(PyTorch writes a profile only when it changed: a run that changed nothing leaves the write before it\), not joined again/);
    assert.ok(again.line.notes!.some((n) => /--run r2 not used/.test(n)), 'said in the JSON line too');
    const none = ingest(db, f);
    assert.equal(none.line.appended, 0);
    assert.match(none.stderr, /the same snapshot as the profile now, joined before as run r1's/);
    assert.deepEqual(seen(db), before, 'no sighting more, no run that saw none');
    assert.ok(!before.some((v) => /r2/.test(v)));
  });

  it('a newer write in between: the older file again is a write (joined); the newest again is not', () => {
    const db = join(dir, 'b.db');
    assert.ok(ingest(db, place(1), 'r1').line.appended > 0);
    assert.ok(ingest(db, place(2), 'r2').line.appended > 0);
    const same = ingest(db, place(2), 'r3');
    assert.equal(same.line.appended, 0, 'run 2 file again: the newest snapshot');
    // run 1's content after run 2's: not the newest, so a write of its own (PyTorch overwrote the
    // profile), joined as r4's
    const older = ingest(db, place(1), 'r4');
    assert.ok(older.line.appended > 0, older.stderr);
    assert.doesNotMatch(older.stderr, /same snapshot as the profile now/);
  });

  it("a run's folder (its log and the file it left) under its --run: nothing said of the run (trial s33b: '--run r1 not used', r1 being the log's run)", () => {
    const db = join(dir, 'd.db');
    const r = cli(db, ['ingest', '--run', 'r1', join(FIXTURES, 'multirun', 'probe3', 'run1')]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not used/);
    // another run given for the file alone: said, naming the log's run
    assert.match(cli(db, ['ingest', '--run', 'r9', RUN(1)]).stderr, /--run r9 not used: the profile's TORCH_TRACE logs hold this snapshot whole, written by their run, r1 \(already in the log\)/);
  });

  it("two ranks' files under --job alone: each rank's own profile, the rank from the file name, said (trial s33b: one profile, rank None's, and rank 1's write taken for rank 0's)", () => {
    const db = join(dir, 'e.db');
    const file = (rank: number) => join(FIXTURES, 'multirun', 'probe12', 'run2', `code_state_probe12_${rank}_.pkl`);
    for (const rank of [0, 1]) {
      const r = ingest(db, file(rank), `job7-rank${rank}`, 'probe12');
      assert.ok(r.line.appended > 0, r.stderr);
      assert.match(r.stderr, new RegExp(`code_state_probe12_${rank}_\\.pkl: profile key probe12:${rank}:: --job as given, its rank from the file name \\(give --rank to set it\\)`));
    }
    assert.deepEqual(JSON.parse(`[${cli(db, ['jobs', '--json']).stdout.trim().split('\n').join(',')}]`).map((j: { cache_key: string }) => j.cache_key), ['probe12:0:', 'probe12:1:']);
    // --rank given: as given
    assert.match(cli(join(dir, 'f.db'), ['ingest', '--job', 'probe12', '--rank', '1', file(0)]).stderr, /^(?![\s\S]*from the file name)/);
  });

  it("retracted: the same file read again under another run is joined as that run's, and said (trial s33b: silently, and why blamed that run)", () => {
    const db = join(dir, 'c.db');
    assert.ok(ingest(db, place(1), 'r1').line.appended > 0);
    assert.equal(ingest(db, place(1), 'r2').line.appended, 0);
    assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
    const r = ingest(db, place(1), 'r3');
    assert.ok(r.line.appended > 0);
    assert.match(r.stderr, /the same snapshot as run r1's, which its profile retracted: joined as run r3's \(retract that too to leave it out\)/);
  });

  it("retracted: read again with no run, it is joined with no run, and the note asks no retraction of it (trial s34a: \"retract that too\" of a join no retraction takes back)", () => {
    const db = join(dir, 'g.db');
    assert.ok(ingest(db, place(1), 'r1').line.appended > 0);
    assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
    const r = ingest(db, place(1));
    assert.ok(r.line.appended > 0);
    assert.match(r.stderr, /the same snapshot as run r1's, which its profile retracted: joined with no run, which no retraction leaves out \(ingest such a file with --run to keep it one a retraction can take back\)/);
    assert.doesNotMatch(r.stderr, /retract that too/);
  });
});
