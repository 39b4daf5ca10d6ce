import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { ingestObservations } from '../adapters/ingest-observations.ts';
import { mergeProfiles } from '../adapters/merge-profiles.ts';
import { openLedger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { explain } from './why.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  it('why: when each dim turned dynamic, by which observation, and what would have kept it static', async () => {
    const dir = tempDir();
    const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
    const line = (run: string, size: number[], t: number) => JSON.stringify({ job: 'j', run, time: new Date(Date.UTC(2026, 10, 26, 9, 0, t)).toISOString(), code, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] });
    writeFileSync(join(dir, 'obs.jsonl'), [line('r1', [8, 64], 0), line('r1', [8, 64], 1), line('r2', [16, 64], 2), line('r1', [8, 64], 3)].join('\n'));
    const l = await openLedger(ledgerAt(dialect, dir, 'w.db'));
    await ingestObservations(l, join(dir, 'obs.jsonl'));
    const pid = l.profileByKey('j:None:')!.id;
    const [d0, d1] = explain(l, pid, { source: "L['x']" }).filter((s) => s.dim.field === 'size');
    assert.deepEqual(d0.dim, { field: 'size', index: 0 });
    assert.equal(d0.dynamic, true);
    assert.equal(d0.becameDynamic!.run, 'r2');
    assert.equal(d0.becameDynamic!.before, '8');
    assert.equal(d0.becameDynamic!.brought, '16');
    assert.equal(d0.becameDynamic!.originLine, 3);
    assert.equal(d0.becameDynamic!.time, Date.UTC(2026, 10, 26, 9, 0, 2));
    assert.deepEqual(d0.values, [
      { value: '8', runs: ['r1'], count: 3 },
      { value: '16', runs: ['r2'], count: 1 },
    ]);
    assert.match(d0.advice, /retracting run r2 .* would keep dim 0 of L\['x'\] static at 8/);
    assert.deepEqual(d1.dim, { field: 'size', index: 1 });
    assert.equal(d1.dynamic, false);
    assert.equal(d1.current, '64');
    // and retracting it does
    retractRun(l, 'r2');
    assert.equal(explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 0 } })[0].dynamic, false);
    await l.close();
  });
  it('why: a source that was a tensor in some events and an int in others is dynamic by that change of kind, not by a setting', async () => {
    // torch/_dynamo/pgo.py (v2.11.0), FrameStateSizeEntry.make_tensor / make_scalar and _merge_atom:
    // a tensor's entry has scalar=auto_dynamic, an int's has size=stride=auto_dynamic, so their |=
    // is auto_dynamic in every field; update_automatic_dynamic logs it as 'other' (size, stride)
    // or 'scalar change'. No config is involved: passing one kind keeps it static.
    const dir = tempDir();
    const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
    const at = (t: number) => new Date(Date.UTC(2026, 10, 26, 9, 0, t)).toISOString();
    const tensor = (source: string, t: number) => JSON.stringify({ job: 'k', run: 'r1', time: at(t), code, source, kind: 'tensor', size: [3, 4], stride: [4, 1] });
    const int = (source: string, t: number) => JSON.stringify({ job: 'k', run: 'r1', time: at(t), code, source, kind: 'scalar', value: 5 });
    writeFileSync(join(dir, 'obs.jsonl'), [tensor("L['x']", 0), int("L['x']", 1), int("L['n']", 2), tensor("L['n']", 3)].join('\n'));
    const l = await openLedger(ledgerAt(dialect, dir, 'k.db'));
    try {
      await ingestObservations(l, join(dir, 'obs.jsonl'));
      const stories = explain(l, l.profileByKey('k:None:')!.id);
      assert.deepEqual(stories.map((s) => `${s.source} ${s.dim.field}${s.dim.field === 'scalar' ? '' : s.dim.index ?? ''}`).sort(), ["L['n'] scalar", "L['n'] size", "L['n'] stride", "L['x'] scalar", "L['x'] size", "L['x'] stride"]);
      for (const s of stories) {
        assert.equal(s.dynamic, true);
        assert.doesNotMatch(s.advice, /job's own setting/, `${s.source} ${s.dim.field}: ${s.advice}`);
        assert.match(s.advice, new RegExp(`was a tensor in some events and an int in others`), `${s.source} ${s.dim.field}: ${s.advice}`);
      }
    } finally {
      await l.close();
    }
  });
  it('why: a merged profile where one profile had the source as a tensor and another as an int says which had which (it said "it came dynamic in an imported profile", or "in some events")', async () => {
    // torch/_dynamo/pgo.py (v2.11.0), FrameStateSizeEntry.__ior__ (the merge's |=): a tensor's
    // entry (scalar auto_dynamic) joined with an int's (size, stride auto_dynamic) is
    // auto_dynamic in every field, whatever values each profile had.
    const dir = tempDir();
    const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
    const at = (t: number) => new Date(Date.UTC(2026, 10, 26, 9, 0, t)).toISOString();
    const tensor = (job: string, run: string, n: number, t: number) => JSON.stringify({ job, run, time: at(t), code, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
    const int = (job: string, run: string, v: number, t: number) => JSON.stringify({ job, run, time: at(t), code, source: "L['x']", kind: 'scalar', value: v });
    // ib's int changed (its entry then dynamic in every field: the kind is its events'), id's did not; tc's size dim 0 changed
    const lines = [tensor('ta', 'a', 8, 0), int('ib', 'b1', 5, 1), int('ib', 'b2', 6, 2), tensor('tc', 'c1', 8, 3), tensor('tc', 'c2', 9, 4), int('id', 'd', 5, 5), tensor('te', 'e', 16, 6)];
    writeFileSync(join(dir, 'obs.jsonl'), lines.join('\n'));
    const l = await openLedger(ledgerAt(dialect, dir, 'mk.db'));
    try {
      await ingestObservations(l, join(dir, 'obs.jsonl'));
      const p = (job: string) => l.profileByKey(`${job}:None:`)!;
      for (const [from, into, tensorIn, intIn] of [[['ta', 'ib'], 'm1', 'ta', 'ib'], [['ib', 'ta'], 'm2', 'ta', 'ib'], [['tc', 'id'], 'm3', 'tc', 'id'], [['id', 'tc'], 'm4', 'tc', 'id']] as const) {
        mergeProfiles(l, from.map(p), `${into}:None:`);
        const stories = explain(l, p(into).id);
        const told = stories.map((s) => `${s.dim.field}${s.dim.field === 'scalar' ? '' : (s.dim.index ?? '')}`);
        // the whole size and stride always (an int's), the scalar where the merge shows it
        assert.ok(told.includes('size') && told.includes('stride'), `${into}: ${told}`);
        for (const s of stories.filter((x) => x.dim.field === 'scalar' || x.dim.index === undefined)) {
          assert.equal(s.dynamic, true);
          assert.match(s.advice, new RegExp(`^L\\['x'\\] was a tensor in ${tensorIn}:None: and an int in ${intIn}:None: \\(profiles merged into this one\\), and PyTorch's join of the two is dynamic in every field: passing it as one kind in each of them keeps .* static; then merge into a new target \\(pgo-ledger merge --from \\.\\.\\. --into NEW\\)`), `${into} ${s.dim.field}: ${s.advice}`);
        }
      }
      // two tensors merged keep the merge's own story (two static values joined)
      mergeProfiles(l, [p('ta'), p('te')], 'm5:None:');
      const [d0] = explain(l, p('m5').id, { source: "L['x']", dim: { field: 'size', index: 0 } });
      assert.match(d0.advice, /^the merge joined two static values \(8 from ta:None: and 16 from te:None:\)/);
    } finally {
      await l.close();
    }
  });
  it('why: a stride dim of a tensor with a dynamic size dim says PyTorch infers it (is_stride_dynamic), one of a static size does not', async () => {
    // torch/_dynamo/pgo.py (v2.11.0), FrameStateSizeEntry.is_stride_dynamic: strides are made
    // dynamic only while every size is an int; variables/builder.py's _automatic_dynamic then
    // gives them DimDynamic.INFER_STRIDE. L['x'] changes size and stride order, L['y'] only order.
    const dir = tempDir();
    const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
    const at = (t: number) => new Date(Date.UTC(2026, 10, 26, 9, 0, t)).toISOString();
    const line = (source: string, size: number[], stride: number[], t: number) => JSON.stringify({ job: 's', run: 'r1', time: at(t), code, source, kind: 'tensor', size, stride });
    writeFileSync(join(dir, 'obs.jsonl'), [line("L['x']", [3, 4], [4, 1], 0), line("L['x']", [5, 4], [1, 5], 1), line("L['y']", [3, 4], [4, 1], 2), line("L['y']", [3, 4], [1, 3], 3)].join('\n'));
    const l = await openLedger(ledgerAt(dialect, dir, 's.db'));
    try {
      await ingestObservations(l, join(dir, 'obs.jsonl'));
      const pid = l.profileByKey('s:None:')!.id;
      const x = explain(l, pid, { source: "L['x']" }).filter((s) => s.dim.field === 'stride');
      const y = explain(l, pid, { source: "L['y']" }).filter((s) => s.dim.field === 'stride');
      assert.equal(x.length, 2);
      assert.equal(y.length, 2);
      for (const s of x) {
        assert.equal(s.dynamic, true);
        assert.match(s.advice, /PyTorch infers the strides of L\['x'\] from its sizes while size dim 0 is dynamic \(is_stride_dynamic\): this stride is not compiled dynamic/);
      }
      for (const s of y) {
        assert.equal(s.dynamic, true);
        assert.doesNotMatch(s.advice, /infers the strides/);
      }
    } finally {
      await l.close();
    }
  });
  it("why names an imported entry's format (pickle, megacache) as the append wrote it: the same as a fresh fold from the log", async () => {
    // The append takes the format from the prepared event, not by reading the stored body back:
    // why-checkpoints written on the append path (one every 2 events) must say what the body says.
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '2';
    const dir = tempDir();
    const l = await openLedger(ledgerAt(dialect, dir, 'f.db'));
    try {
      await ingestFile(l, join(TORCH, 'local', 'code_state_fixture_None_.pkl'));
      await ingestFile(l, join(TORCH, 'megacache', 'single-pgo-artifact.bin'));
      const formats = new Set<string>();
      const stored = l.profiles().map((p) => explain(l, p.id));
      // a fresh fold: no checkpoint there to use
      l.sql.run('delete from why_checkpoints');
      assert.deepEqual(l.profiles().map((p) => explain(l, p.id)), stored);
      for (const d of stored.flat()) if (d.becameDynamic?.kind === 'entry.imported') formats.add(String(d.becameDynamic.format));
      assert.deepEqual([...formats].sort(), ['megacache', 'pickle']);
    } finally {
      delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
      await l.close();
    }
  });
});
