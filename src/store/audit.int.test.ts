import assert from 'node:assert/strict';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { cli } from '../../test/support/cli.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { mergeProfiles } from '../adapters/merge-profiles.ts';
import { reportProfile } from '../report/report-data.ts';
import { codeKey } from '../model/code-id.ts';
import { renderProfile } from '../model/render.ts';
import { diffProfiles } from './diff.ts';
import { historyAsOf } from './history.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';
import { dimKey, explain, type DimStory } from './why.ts';
import { readFileSync } from 'node:fs';
import { DIALECTS, ledgerAt, ledgerCreated } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();
  let n = 0;
  async function ledgerWith(...files: string[]): Promise<Ledger> {
    const l = await openLedger(ledgerAt(dialect, dir, `a${n++}.db`));
    // rank None given: fixture2's rank-0 file goes into the traces' profile (issue 8.1 below)
    for (const f of files) await ingestFile(l, f, { defaults: { job: 'fixture', rank: null } });
    return l;
  }
  const story = (ss: DimStory[], source: string, dim: string, code?: string) => ss.find((s) => s.source === source && dimKey(s.dim) === dim && (!code || s.code.name === code));

  /** Every dim of every entry `show` lists, as `why` names it. */
  function dimsShown(l: Ledger, pid: number): { code: string; source: string; dims: string[] }[] {
    const out = [];
    for (const { id, state } of l.view(pid).profile.codes.values()) {
      for (const [source, e] of state.automaticDynamic) {
        const dims: string[] = [];
        if (!Array.isArray(e.size)) dims.push(e.size === e.stride && typeof e.scalar !== 'symbol' ? 'scalar' : '');
        for (const f of ['size', 'stride'] as const) {
          const v = e[f];
          if (Array.isArray(v)) v.forEach((_, i) => dims.push(`${f}[${i}]`));
        }
        out.push({ code: codeKey(id), source, dims: dims.filter(Boolean) });
      }
    }
    return out;
  }

  describe('issue 8.1: why answers for every source and dim that show lists', () => {
    const snapshots: [string, string][] = [
      ['profile pickle', join(TORCH, 'local/code_state_fixture_None_.pkl')],
      ['mega-cache', join(TORCH, 'megacache/eager-cold-run.bin')],
      ['Redis value', join(TORCH, 'remote/redis_value.json')],
    ];
    for (const [what, file] of snapshots) {
      it(`issue 8.1: ${what}: a dynamic dim names the snapshot's origin, position and time; a static one its count`, async () => {
        const l = await ledgerWith(file);
        const p = l.profileByKey('fixture:None:')!;
        const all = explain(l, p.id, { source: "L['x']", code: 'f' });
        const d0 = story(all, "L['x']", 'size[0]')!;
        assert.equal(d0.dynamic, true);
        assert.ok(d0.becameDynamic, 'a position for the change');
        assert.equal(d0.becameDynamic!.kind, 'entry.imported');
        assert.ok(d0.becameDynamic!.origin?.includes(file.split('/').pop()!), d0.becameDynamic!.origin ?? '');
        assert.ok(d0.becameDynamic!.position >= 1 && Number.isFinite(d0.becameDynamic!.time));
        const d1 = story(all, "L['x']", 'size[1]')!;
        assert.equal(d1.dynamic, false);
        assert.equal(d1.current, '3');
        assert.ok(d1.values[0].count >= 1);
        // every dim show lists has an answer
        for (const e of dimsShown(l, p.id)) {
          const got = explain(l, p.id, { source: e.source }).filter((s) => codeKey(s.code) === e.code).map((s) => dimKey(s.dim));
          for (const d of e.dims) assert.ok(got.includes(d), `${e.source} ${d} in ${got.join(',')}`);
        }
        await l.close();
      });
    }

    it('issue 8.1: a snapshot first and a trace later: static 2 in the snapshot, dynamic where PyTorch logged it', async () => {
      const l = await ledgerWith(join(TORCH, 'workload2/code_state_fixture2_0_.pkl'));
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const s = story(explain(l, p.id, { source: "L['x']", code: 'train.py:20:forward' }), "L['x']", 'size[0]')!;
      assert.equal(s.dynamic, true);
      assert.equal(s.becameDynamic!.kind, 'dynamic.logged');
      assert.equal(s.staticBefore!.value, '2');
      assert.equal(s.logged!.compileId, '3/1');
      await l.close();
    });

    it("issue 8.1: a second run keeps PyTorch's record of the change, and the value that caused it is among the values seen", async () => {
      const l = await ledgerWith(join(TORCH, 'traces/cold-local.log'), join(TORCH, 'traces/cold-remote.log'));
      const p = l.profileByKey('fixture:None:')!;
      for (const [source, code, dim, compile] of [["L['n']", 'f', 'scalar', '0/1'], ["L['a']", 'g', 'size[1]', '1/1'], ["L['mask_len']", 'forward', 'scalar', '3/1']]) {
        const s = story(explain(l, p.id, { source, code }), source, dim)!;
        assert.equal(s.becameDynamic!.kind, 'dynamic.logged', source);
        assert.equal(s.logged?.compileId, compile, source);
        assert.match(s.advice, /^PyTorch's profile held /, source);
        assert.ok(s.values.some((v) => v.value === s.logged!.new), `${source}: ${JSON.stringify(s.values)}`);
      }
      await l.close();
    });

    it('issue 8.1: strides and rank changes are explained from the records they came from', async () => {
      const l = await ledgerWith(join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const a = explain(l, p.id, { source: "L['a']", code: 'g' });
      for (const d of ['stride[0]', 'stride[1]']) {
        const s = story(a, "L['a']", d)!;
        assert.equal(s.dynamic, true, d);
        assert.equal(s.logged!.reason, 'stride change');
        assert.equal(s.logged!.compileId, '1/2');
      }
      const t = story(explain(l, p.id, { source: "L['t']" }), "L['t']", 'size')!;
      assert.equal(t.dynamic, true);
      assert.equal(t.logged!.reason, 'dimensionality change');
      assert.equal(t.staticBefore!.value, '[3, 4]');
      await l.close();
    });

    it('issue 8.1: --code matches a name exactly, file:line:name picks one, an ambiguous name lists the candidates', async () => {
      const l = await ledgerWith(join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      // `f` is not `forward`
      assert.deepEqual([...new Set(explain(l, p.id, { source: "L['x']", code: 'f' }).map((s) => s.code.name))], ['f']);
      assert.deepEqual([...new Set(explain(l, p.id, { source: "L['x']", code: 'train.py:20:forward' }).map((s) => s.code.name))], ['forward']);
      assert.throws(() => explain(l, p.id, { source: "L['x']", code: 'nope' }), /no code id matches code nope/);
      const obs = join(dir, 'two-f.jsonl');
      const line = (filename: string, size: number) =>
        JSON.stringify({ job: 'amb', code: { filename, firstlineno: 1, name: 'f', file_hash: 'h' + filename.length }, source: "L['x']", kind: 'tensor', size: [size], stride: [1] });
      writeFileSync(obs, [line('/a.py', 2), line('/bb.py', 3)].join('\n'));
      await ingestFile(l, obs);
      const q = l.profileByKey('amb:None:')!;
      assert.throws(() => explain(l, q.id, { code: 'f' }), /ambiguous: .*\/a\.py:1:f.*\/bb\.py:1:f/);
      assert.equal(explain(l, q.id, { source: "L['x']", code: '/bb.py:1:f' })[0].current, '3');
      await l.close();
    });

    it('issue 8.1: why --job with no --source explains every dynamic dim, most recent first', async () => {
      const l = await ledgerWith(join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const all = explain(l, p.id);
      assert.ok(all.every((s) => s.dynamic));
      const positions = all.map((s) => s.becameDynamic!.position);
      assert.deepEqual(positions, [...positions].sort((x, y) => y - x));
      // the 11 records PyTorch logged, each one dim
      assert.equal(all.length, 11);
      const r = cli(ledgerAt(dialect, dir, 'cli-why.db'), ['ingest', join(TORCH, 'traces/cold-local.log')]);
      assert.equal(r.status, 0, r.stderr);
      const w = cli(ledgerAt(dialect, dir, 'cli-why.db'), ['why', '--job', 'fixture']);
      assert.equal(w.status, 0, w.stderr);
      assert.match(w.stdout, /L\['mask_len'\] in .*forward:\n {2}the int itself: static 3 in #\d+ .*dynamic in #\d+ \(compile 3\/1, PyTorch's record/);
      // issue 8.8: why shows what each compile saw
      const wf = cli(ledgerAt(dialect, dir, 'cli-why.db'), ['why', '--job', 'fixture', '--source', "L['x']", '--code', 'f']);
      assert.match(wf.stdout, /compile 0\/0 saw L\['x'\] \[2, 3\]; 0\/1 saw \[4, 3\]/);
      await l.close();
    });
  });

  describe('issue 8.2: one change, one position', () => {
    it("issue 8.2: history, why, show --as-of, diff and the report agree where L['a'] dim 1 turned dynamic", async () => {
      const l = await ledgerWith(join(TORCH, 'traces/cold-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const h = l.history(p.id).find((r) => r.name === "L['a']" && r.dim_changed === 1)!;
      const w = story(explain(l, p.id, { source: "L['a']" }), "L['a']", 'size[1]')!;
      assert.equal(w.becameDynamic!.position, h.position);
      const at = (pos: number) => renderProfile(l.fold(p.id, { untilPosition: pos }).profile);
      assert.match(at(h.position - 1), /L\['a'\]: tensor size=\[4, 6\]/);
      assert.match(at(h.position), /L\['a'\]: tensor size=\[4, \?\]/);
      const d = diffProfiles(l.fold(p.id, { untilPosition: h.position - 1 }).profile, l.fold(p.id, { untilPosition: h.position }).profile);
      assert.deepEqual(d.map((c) => [c.source, c.dims.map((x) => `${x.dim} ${x.to}`)]), [["L['a']", ['size[1] ?']]]);
      const r = cli(ledgerAt(dialect, dir, 'pos.db'), ['ingest', join(TORCH, 'traces/cold-local.log')]);
      assert.equal(r.status, 0, r.stderr);
      const dd = cli(ledgerAt(dialect, dir, 'pos.db'), ['diff', '--job', 'fixture', '--from', String(h.position - 1), '--to', String(h.position), '--json']);
      assert.equal(JSON.parse(dd.stdout.trim()).dims[0].position, h.position);
      const rep = reportProfile(l, p);
      const cell = rep.codes.flatMap((c) => c.sources).find((s) => s.source === "L['a']")!.dims.find((x) => x.label === 'size[1]')!;
      assert.equal(cell.since!.position, h.position);
      assert.deepEqual(verifyLedger(l).differences, []);
      await l.close();
    });
  });

  describe('issue 8.2: the report names the same position (found by a second tryout)', () => {
    const cell = (rep: ReturnType<typeof reportProfile>, code: string, source: string, label: string) =>
      rep.codes.find((c) => c.code.includes(`:${code}`))!.sources.find((x) => x.source === source)!.dims.find((d) => d.label === label)!;

    it('issue 8.2: after an overwrite (automatic_dynamic false) made a dim static again, the report names the later change, as why does', async () => {
      const l = await openLedger(ledgerAt(dialect, dir, `ow-${n++}.db`));
      const line = (k: number, auto: boolean) => JSON.stringify({ job: 'mx', time: new Date(Date.UTC(2026, 10, 26, 10, 0, k)).toISOString(), code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [k + 2, 8], stride: [8, 1], automatic_dynamic: auto });
      writeFileSync(join(dir, 'mx.jsonl'), [line(0, true), line(1, true), line(2, false), line(3, true)].join('\n'));
      await ingestFile(l, join(dir, 'mx.jsonl'));
      const p = l.profileByKey('mx:None:')!;
      const w = story(explain(l, p.id, { source: "L['x']" }), "L['x']", 'size[0]')!;
      assert.equal(w.becameDynamic!.position, 4);
      assert.equal(cell(reportProfile(l, p), 'f', "L['x']", 'size[0]').since!.position, 4);
      await l.close();
    });

    it('issue 8.2: a dim a mark_dynamic snapshot made dynamic has the position why names in the report too', async () => {
      const l = await openLedger(ledgerAt(dialect, dir, `md-${n++}.db`));
      await ingestFile(l, join(TORCH, 'workload2/trace-rank0.log'));
      const p = l.profileByKey('fixture2:0:')!;
      const w = story(explain(l, p.id, { source: "L['x']", code: 'k' }), "L['x']", 'size[0]')!;
      assert.ok(w.becameDynamic, 'why names a position');
      assert.equal(cell(reportProfile(l, p), 'k', "L['x']", 'size[0]').since?.position, w.becameDynamic!.position);
      await l.close();
    });
  });

  describe('issue 8.3: what-ifs never touch the live views', () => {
    it('issue 8.3: --as-of and --exclude-run are read-time; later ingests reach show and export; replay --until is refused', () => {
      const db = ledgerAt(dialect, dir, 'whatif.db');
      const obs = (run: string, size: number, t: number) =>
        JSON.stringify({ job: 'w', run, time: new Date(Date.UTC(2026, 10, 26, 10, 0, t)).toISOString(), code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [size, 4], stride: [4, 1] });
      writeFileSync(join(dir, 'w1.jsonl'), [obs('r1', 8, 0), obs('r2', 16, 1)].join('\n'));
      writeFileSync(join(dir, 'w2.jsonl'), [obs('r3', 8, 2)].join('\n'));
      assert.equal(cli(db, ['ingest', join(dir, 'w1.jsonl')]).status, 0);
      assert.match(cli(db, ['show', '--job', 'w', '--exclude-run', 'r2']).stdout, /size=\[8, 4\]/);
      assert.match(cli(db, ['show', '--job', 'w', '--as-of', '1']).stdout, /size=\[8, 4\]/);
      const refused = cli(db, ['replay', '--until', '1']);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /--as-of/);
      assert.equal(cli(db, ['ingest', join(dir, 'w2.jsonl')]).status, 0);
      assert.match(cli(db, ['show', '--job', 'w']).stdout, /size=\[\?, 4\]/);
      assert.equal(cli(db, ['jobs']).stdout.includes('3 events'), true);
      for (const c of ['history', 'why', 'export', 'report'] as const) {
        const extra = c === 'export' ? ['--format', 'pickle', '-o', join(dir, 'w.pkl')] : c === 'report' ? ['-o', join(dir, 'w.html')] : [];
        const r = cli(db, [c, '--job', 'w', '--exclude-run', 'r2', '--as-of', '3', ...extra]);
        assert.equal(r.status, 0, `${c}: ${r.stderr}`);
      }
      assert.equal(cli(db, ['verify']).status, 0);
    });

    it('issue 8.3: a database pinned by an older version is rebuilt unpinned, and a note says so', async () => {
      const db = ledgerAt(dialect, dir, 'pinned.db');
      const l = await openLedger(db);
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'), {});
      const p = l.profileByKey('fixture:None:')!;
      // what 0.1's `replay --until 10` left: a pin, and views folded only to it
      l.sql.run("insert into meta(key, value) values ('views', ?)", JSON.stringify({ untilPosition: 10, excludeRuns: [] }));
      l.sql.run('delete from code_states');
      await l.close();
      // a read command opens read-only: it refuses, and says what to run
      const ro = cli(db, ['show', '--job', 'fixture']);
      assert.equal(ro.status, 2);
      assert.match(ro.stderr, /pgo-ledger replay/);
      // the next write command rebuilds it unpinned, and says so
      const w = cli(db, ['replay']);
      assert.equal(w.status, 0, w.stderr);
      assert.match(w.stderr, /views pinned \(until position 10\) by an older pgo-ledger; they were rebuilt from the whole log/);
      const r = cli(db, ['show', '--job', 'fixture']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /L\['t'\]: fully dynamic/);
      assert.equal(cli(db, ['verify']).status, 0);
      assert.equal(r.stderr, '', 'said once');
      void p;
    });
  });

  describe('issue 8.4: a time and a position that name the same point give the same answer', () => {
    it('issue 8.4: after retract, show/history/why --as-of a position equal --as-of the time it names', async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'retract.db'));
      const obs = (run: string, size: number, t: number) =>
        JSON.stringify({ job: 'r', run, time: new Date(Date.UTC(2026, 10, 26, 10, 0, t)).toISOString(), code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [size, 4], stride: [4, 1] });
      writeFileSync(join(dir, 'r.jsonl'), [obs('r1', 8, 0), obs('r2', 16, 1), obs('r1', 8, 2)].join('\n'));
      await ingestFile(l, join(dir, 'r.jsonl'));
      const p = l.profileByKey('r:None:')!;
      retractRun(l, 'r2');
      const byPos = { untilPosition: 3 };
      const byTime = { untilTime: Date.UTC(2026, 10, 26, 10, 0, 2) };
      assert.equal(renderProfile(l.fold(p.id, byTime).profile), renderProfile(l.fold(p.id, byPos).profile));
      assert.match(renderProfile(l.fold(p.id, byTime).profile), /size=\[\?, 4\]/, 'the retraction came later');
      assert.deepEqual(historyAsOf(l, p.id, byTime).map((h) => h.position), historyAsOf(l, p.id, byPos).map((h) => h.position));
      assert.deepEqual(explain(l, p.id, { source: "L['x']", window: byTime }).map((s) => s.becameDynamic?.position), explain(l, p.id, { source: "L['x']", window: byPos }).map((s) => s.becameDynamic?.position));
      // and now, the retraction is in both
      assert.match(renderProfile(l.view(p.id).profile), /size=\[8, 4\]/);
      assert.match(renderProfile(l.fold(p.id, { untilTime: Date.now() + 1000 }).profile), /size=\[8, 4\]/);
      await l.close();
    });
  });

  describe('issue 8.4: trace times', () => {
    for (const trace of ['traces/cold-local.log', 'workload2/trace-rank1.log']) {
      it(`issue 8.4: ${trace}: each event carries the time its own line was logged, so every position and the time it names fold alike`, async () => {
        const l = await openLedger(ledgerAt(dialect, dir, `times-${n++}.db`));
        await ingestFile(l, join(TORCH, trace));
        const p = l.profiles()[0];
        const rows = l.sql.all<{ position: number; time: number }>('select position, time from events where profile_id = ? order by position', p.id);
        for (let i = 1; i < rows.length; i++) assert.ok(rows[i].time >= rows[i - 1].time, `time goes back at #${rows[i].position}`);
        for (let i = 0; i < rows.length; i++) {
          if (i + 1 < rows.length && rows[i + 1].time === rows[i].time) continue; // the point is the last event of its instant
          assert.equal(renderProfile(l.fold(p.id, { untilTime: rows[i].time }).profile), renderProfile(l.fold(p.id, { untilPosition: rows[i].position }).profile), `#${rows[i].position}`);
        }
        // the snapshot of compile 1/0 of g (line 904 of cold-local) is logged at 05:46:08.095, not when 0/1 started
        if (trace.includes('cold-local')) {
          const snap = l.sql.get<{ time: number }>("select time from events where origin_line = 904 and kind = 'entry.imported' limit 1")!;
          assert.equal(new Date(snap.time).toISOString(), '2026-11-26T05:46:08.095Z');
        }
        await l.close();
      });
    }
  });

  describe('issue 8.7: merged profiles', () => {
    it("issue 8.7: why on a merge leads back to the rank, its compile and PyTorch's record", async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'merge.db'));
      await ingestFile(l, join(TORCH, 'workload2/trace-rank0.log'));
      await ingestFile(l, join(TORCH, 'workload2/trace-rank1.log'));
      const r0 = l.profileByKey('fixture2:0:')!;
      const r1 = l.profileByKey('fixture2:1:')!;
      mergeProfiles(l, [r0, r1], 'fixture2-joined:None:');
      const j = l.profileByKey('fixture2-joined:None:')!;
      const s = story(explain(l, j.id, { source: "L['y']", code: 'k' }), "L['y']", 'size[0]')!;
      assert.equal(s.dynamic, true);
      assert.equal(s.becameDynamic!.format, 'merge');
      assert.equal(s.via!.cacheKey, 'fixture2:1:');
      assert.equal(s.via!.story.becameDynamic!.kind, 'dynamic.logged');
      assert.ok(s.via!.story.logged!.compileId, 'the compile in rank 1');
      assert.match(s.via!.story.logged!.guard ?? '', /y/);
      // tryout: retracting the rank's run later leaves the merged profile as it was, and why says so
      const rank1Run = s.via!.story.becameDynamic!.run!;
      retractRun(l, rank1Run);
      const after = story(explain(l, j.id, { source: "L['y']", code: 'k' }), "L['y']", 'size[0]')!;
      assert.deepEqual(after.via!.retractedSince, [rank1Run]);
      assert.match(after.advice, /retracted from fixture2:1: after the merge, but the merged profile keeps what it joined: merge into a new target/);
      // merging again into the same target joins (it never takes back): the dim stays dynamic there,
      // so the advice names a new target, where the merge indeed leaves the run out (s18-trial3)
      mergeProfiles(l, [r0, r1], 'fixture2-joined:None:');
      assert.equal(story(explain(l, j.id, { source: "L['y']", code: 'k' }), "L['y']", 'size[0]')!.dynamic, true);
      mergeProfiles(l, [r0, r1], 'fixture2-rejoined:None:');
      const fresh = story(explain(l, l.profileByKey('fixture2-rejoined:None:')!.id, { source: "L['y']", code: 'k' }), "L['y']", 'size[0]');
      assert.notEqual(fresh?.dynamic, true);
      await l.close();
    });

    it("why on a merge names an int the merge made dynamic as the int, as the rank's own story does (L['self'].heads; s17-trial2)", async () => {
      const l = await openLedger(ledgerAt(dialect, dir, 'merge-kind.db'));
      await ingestFile(l, join(TORCH, 'workload2/trace-rank0.log'));
      await ingestFile(l, join(TORCH, 'workload2/trace-rank1.log'));
      mergeProfiles(l, [l.profileByKey('fixture2:0:')!, l.profileByKey('fixture2:1:')!], 'fixture2-kind:None:');
      const [s] = explain(l, l.profileByKey('fixture2-kind:None:')!.id, { source: "L['self'].heads" });
      assert.equal(s.becameDynamic!.format, 'merge');
      assert.equal(s.via!.story.scalarKind, 'int');
      assert.equal(s.scalarKind, 'int');
      await l.close();
    });
  });

  describe('merged ranks that each had a dim static (found by s15-trial)', () => {
    it('why says the merge joined the two static values, each with its rank, not that it came dynamic from one rank', () => {
      const db = ledgerAt(dialect, dir, 'merge-static.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'workload2/trace-rank0.log'), join(TORCH, 'workload2/trace-rank1.log')]).status, 0);
      assert.equal(cli(db, ['merge', '--from', 'fixture2:*', '--into', 'f2all']).status, 0);
      // L['x'] dim 1 in the resumed frame: 8 on rank 0, 9 on rank 1, static on each
      const r = cli(db, ['why', '--job', 'f2all', '--source', "L['x']", '--code', 'torch_dynamo_resume_in_forward_at_14', '--dim', '1']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^    the merge joined 8 from fixture2:0: and 9 from fixture2:1:, where:\n      dim 1: static at 9/m);
      assert.match(r.stdout, /the merge joined two static values \(8 from fixture2:0: and 9 from fixture2:1:\): profiles that agree on it keep it static/);
      assert.doesNotMatch(r.stdout, /it came from fixture2:1:/);
      // a dim a rank had dynamic already still comes from that rank
      const y = cli(db, ['why', '--job', 'f2all', '--source', "L['y']", '--code', 'k', '--dim', '0']);
      assert.match(y.stdout, /^    it came from fixture2:1:, where:$/m);
      assert.match(y.stdout, /it came from fixture2:1: in a merge: to change it, change fixture2:1:/);
    });
  });

  describe('issue 8.10: flags and JSON', () => {
    it('issue 8.10: --version, and diff --to defaults to now', () => {
      const db = ledgerAt(dialect, dir, 'flags.db');
      const v = cli(db, ['--version']);
      assert.equal(v.status, 0);
      assert.equal(v.stdout.trim(), JSON.parse(require_('package.json')).version);
      assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
      const d = cli(db, ['diff', '--job', 'fixture', '--from', '0']);
      assert.equal(d.status, 0, d.stderr);
      assert.match(d.stdout, /added L\['t'\]/);
    });

    it('issue 8.10: --exclude-run, --code and --from/--to behave the same in every command (found by a new-user tryout)', () => {
      const db = ledgerAt(dialect, dir, 'same.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'megacache/eager-cold-run.bin'), join(TORCH, 'megacache/single-pgo-artifact.bin')]).status, 0);
      for (const c of ['show', 'history', 'why']) {
        const r = cli(db, [c, '--job', 'fixture', '--exclude-run', 'typo-run']);
        assert.equal(r.status, 2, c);
        assert.match(r.stderr, /--exclude-run typo-run: no such run/, c);
      }
      // two code ids named f: every command that takes --code says so
      for (const args of [['why'], ['history'], ['history', '--shapes']]) {
        const r = cli(db, [...args, '--job', 'fixture', '--code', 'f']);
        assert.equal(r.status, 2, args.join(' '));
        assert.match(r.stderr, /--code f is ambiguous/, args.join(' '));
      }
      assert.equal(cli(db, ['history', '--job', 'fixture', '--code', '']).status, 2);
      const d = cli(db, ['diff', '--job', 'fixture', '--from', '9', '--to', '3']);
      assert.equal(d.status, 2);
      assert.match(d.stderr, /--from 9 comes after --to 3/);
      // history's text names the code id of each record
      assert.match(cli(db, ['history', '--job', 'fixture']).stdout, /#\d+ .* f:24 L\['x'\] dim 0/);
      // jobs says the last event, not a change
      assert.match(cli(db, ['jobs']).stdout, /last event #\d+/);
      // write commands other than ingest and pull do not create a ledger at a mistyped path
      for (const args of [['replay'], ['retract', '--run', 'r'], ['merge', '--from', 'x', '--into', 'y']]) {
        const r = cli(ledgerAt(dialect, dir, 'mistyped.db'), args);
        assert.equal(r.status, 2, args[0]);
        assert.match(r.stderr, /no ledger there/);
      }
      assert.equal(ledgerCreated(ledgerAt(dialect, dir, 'mistyped.db')), false);
      // the report counts its bytes, not its characters
      const rep = cli(db, ['report', '--job', 'fixture', '-o', join(dir, 'r.html')]);
      assert.equal(Number(/, (\d+) bytes\)/.exec(rep.stdout)![1]), statSync(join(dir, 'r.html')).size);
    });

    /** Job `nest`, run r1: L['n'] from #1, L['m'] from #2 (10:01); #3 is written before #4 but happened later. */
    let nestDb: string | undefined;
    function nest(): string {
      if (nestDb) return nestDb;
      const db = ledgerAt(dialect, dir, 'nest.db');
      const code = { filename: '/srv/m.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
      const obs = (time: string, source: string, value: number) => JSON.stringify({ job: 'nest', run: 'r1', time, code, source, kind: 'scalar', value });
      const file = join(dir, 'nest.jsonl');
      writeFileSync(file, [obs('2026-11-26T10:00:00Z', "L['n']", 4), obs('2026-11-26T10:01:00Z', "L['m']", 1), obs('2026-11-26T11:05:00Z', "L['n']", 7), obs('2026-11-26T11:00:00Z', "L['m']", 2)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', file]).status, 0);
      return (nestDb = db);
    }

    it('diff refuses a position and a time that do not nest (times out of position order), and takes those that do (found by s15-trial)', () => {
      const db = nest();
      // the window up to 11:00 holds #4 but not #3; the one up to #3 holds #3: neither within the other
      const bad = cli(db, ['diff', '--job', 'nest', '--from', '2026-11-26T11:00:00Z', '--to', '3']);
      assert.equal(bad.status, 2, bad.stdout);
      assert.match(bad.stderr, /--from 2026-11-26T11:00:00Z holds #4 \(2026-11-26T11:00:00.000Z\), which --to 3 does not/);
      assert.equal(bad.stdout, '');
      const back = cli(db, ['diff', '--job', 'nest', '--from', '3', '--to', '2026-11-26T11:00:00Z']);
      assert.equal(back.status, 2);
      assert.match(back.stderr, /--from 3 holds #3 \(2026-11-26T11:05:00.000Z\), which --to 2026-11-26T11:00:00Z does not/);
      // a position and a time that nest are a diff as before
      const ok = cli(db, ['diff', '--job', 'nest', '--from', '2', '--to', '2026-11-26T11:00:00Z']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /^changed L\['m'\] .*: scalar 1 -> fully dynamic scalar or tensor$/m);
      assert.doesNotMatch(ok.stdout, /L\['n'\]/);
      assert.equal(cli(db, ['diff', '--job', 'nest', '--from', '2026-11-26T10:01:00Z', '--to', '4']).status, 0);
    });

    it('history --source of a source the profile does not hold is an error, as in why, and both name the window; no records is said (found by s15-trial)', () => {
      const db = nest();
      for (const c of ['why', 'history']) {
        const r = cli(db, [c, '--job', 'nest', '--source', "L['typo']"]);
        assert.equal(r.status, 2, c);
        assert.match(r.stderr, /nest:None: has no source L\['typo'\] \(its sources: L\['n'\], L\['m'\]\)$/m, c);
        const before = cli(db, [c, '--job', 'nest', '--source', "L['m']", '--as-of', '2026-11-26T10:00:00Z']);
        assert.equal(before.status, 2, c);
        assert.match(before.stderr, /nest:None: has no source L\['m'\] as of 2026-11-26T10:00:00Z \(its sources: L\['n'\]\)$/m, c);
        const without = cli(db, [c, '--job', 'nest', '--source', "L['m']", '--exclude-run', 'r1']);
        assert.match(without.stderr, /has no source L\['m'\] without run r1 \(its sources: none\)$/m, c);
      }
      const none = cli(db, ['history', '--job', 'nest', '--source', "L['m']", '--as-of', '2']);
      assert.equal(none.status, 0, none.stderr);
      assert.equal(none.stdout, 'no recompile records\n');
      assert.equal(cli(db, ['history', '--job', 'nest', '--source', "L['m']", '--as-of', '2', '--json']).stdout, '');
      assert.match(cli(db, ['history', '--job', 'nest', '--source', "L['m']"]).stdout, /^#4 .* L\['m'\] scalar: scalar change: 1 -> 2$/m);
    });

    it("why names each run's compiles where two runs' shapes are told (every run numbers its compiles from 0/0; found by s15-trial)", () => {
      const db = ledgerAt(dialect, dir, 'two-runs.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log'), join(TORCH, 'traces/cold-remote.log')]).status, 0);
      const two = cli(db, ['why', '--job', 'fixture', '--source', "L['t']"]);
      assert.equal(two.status, 0, two.stderr);
      assert.match(two.stdout, /^  run fixture:pid576@2026-11-26T05:46:07Z: compile 2\/0 saw L\['t'\] \[3, 4\]; 2\/1 saw \[3, 4, 5\]; run fixture:pid799@2026-11-26T05:47:04Z: compile 2\/0 saw L\['t'\] \[3, 4\]; 2\/1 saw \[3, 4, 5\]$/m);
      // one run: as before, no run named
      const one = cli(db, ['why', '--job', 'fixture', '--source', "L['t']", '--exclude-run', 'fixture:pid799@2026-11-26T05:47:04Z']);
      assert.match(one.stdout, /^  compile 2\/0 saw L\['t'\] \[3, 4\]; 2\/1 saw \[3, 4, 5\]$/m);
    });

    it("a compile's guard failures are told for every cache entry that failed: g's compile 1/2 after 1/1 and 1/0 (s17-trial2)", async () => {
      // cold-local.log's recompile_reasons for 1/2 lists two reasons; the second is the one
      // about stride index 0, the dim #19 made dynamic. A reason's user stack trace stays out.
      const db = ledgerAt(dialect, dir, 'guards.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]).status, 0);
      const both = "compile 1/2 recompiled after: 1/1: tensor 'a' stride mismatch at index 1. expected 1, actual 4; 1/0: tensor 'a' stride mismatch at index 0. expected 6, actual 1";
      const why = cli(db, ['why', '--job', 'fixture', '--source', "L['a']", '--code', 'g', '--dim', 'stride 0']);
      assert.equal(why.status, 0, why.stderr);
      assert.ok(why.stdout.includes(`\n    ${both}\n`), why.stdout);
      const hist = cli(db, ['history', '--job', 'fixture', '--source', "L['a']", '--code', 'g']);
      assert.ok(hist.stdout.includes(`\n    ${both}\n`), hist.stdout);
      assert.match(cli(db, ['history', '--job', 'fixture']).stdout, /^ {4}compile 0\/1 recompiled after: 0\/0: n == 2 +# return x \* n \+ x\.sum\(\) +# rv\/train\/train\.py:25 in f$/m);
      const l = await openLedger(db);
      const page = reportProfile(l, l.profileByKey('fixture:None:')!);
      const a = page.codes.find((c) => c.code.endsWith(':g'))!.sources.find((s) => s.source === "L['a']")!;
      assert.equal(a.timeline.find((t) => t.dim === '0' && t.reason === 'stride change')!.guard, both.slice('compile 1/2 recompiled after: '.length));
      await l.close();
    });

    it("why: a source the trace described as a tensor is told by its number of dims, not as a scalar, when only a snapshot made it fully dynamic (warm-local.log's L['t']; s17-trial2)", async () => {
      const l = await ledgerWith(join(TORCH, 'traces/warm-local.log'));
      const p = l.profileByKey('fixture:None:')!;
      const t = explain(l, p.id, { source: "L['t']", code: 'h' });
      assert.deepEqual(t.map((s) => dimKey(s.dim)), ['size', 'stride']);
      assert.ok(t.every((s) => s.dynamic && s.becameDynamic?.format === 'get_local_code_state'));
      // the same answer a ledger that also saw the cold run gives for the dims it names
      const full = await ledgerWith(join(TORCH, 'traces/cold-local.log'));
      assert.deepEqual(explain(full, full.profileByKey('fixture:None:')!.id, { source: "L['t']", code: 'h' }).map((s) => dimKey(s.dim)), ['size', 'stride']);
      // an int PyTorch's snapshot also holds fully dynamic stays the int itself
      assert.deepEqual(explain(l, p.id, { source: "L['mask_len']" }).map((s) => dimKey(s.dim)), ['scalar']);
      await l.close();
      await full.close();
      const db = ledgerAt(dialect, dir, 'warm-t.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'traces/warm-local.log')]).status, 0);
      const rank = cli(db, ['why', '--job', 'fixture', '--source', "L['t']", '--dim', 'rank']);
      assert.equal(rank.status, 0, rank.stderr);
      assert.match(rank.stdout, /^ {2}the number of dims \(size\): dynamic in #\d+ \(compile 0\/0, imported get_local_code_state/m);
    });

    it("why: a dim the run's own put_local_code_state holds dynamic with no record is told as mark_dynamic's silent join, not as an import (workload2's k L['x'] dim 0; s17-trial2)", async () => {
      const l = await ledgerWith(join(TORCH, 'workload2/trace-single.log'));
      const [s] = explain(l, l.profileByKey('fixture2:None:')!.id, { source: "L['x']", code: 'k', dim: { field: 'size', index: 0 } });
      assert.equal(s.dynamic, true);
      assert.equal(s.logged, null);
      assert.equal(s.becameDynamic?.format, 'put_local_code_state');
      assert.match(s.advice, /^run fixture2:pid422@2026-11-26T05:54:44Z wrote it dynamic in its own profile \(put_local_code_state at compile 2\/0\) with no record logged: Dynamo logs none for a dim marked dynamic \(torch\._dynamo\.mark_dynamic\)/);
      assert.doesNotMatch(s.advice, /imported profile/);
      // a snapshot read back (get_local_code_state) is still an import
      const w = await ledgerWith(join(TORCH, 'traces/warm-local.log'));
      const [m] = explain(w, w.profileByKey('fixture:None:')!.id, { source: "L['mask_len']" });
      assert.match(m.advice, /^it came dynamic in an imported profile \(get_local_code_state from /);
      await l.close();
      await w.close();
    });

    it('issue 8.10: one JSON vocabulary across ingest, jobs, history, why, diff and verify', () => {
      const db = ledgerAt(dialect, dir, 'vocab.db');
      copyFileSync(join(TORCH, 'traces/cold-local.log'), join(dir, 'vocab.log'));
      const ing = JSON.parse(cli(db, ['ingest', '--json', join(dir, 'vocab.log')]).stdout.trim());
      assert.deepEqual(Object.keys(ing).sort(), ['appended', 'duplicates', 'input', 'kind', 'records', 'skipped']);
      const jobs = JSON.parse(cli(db, ['jobs', '--json']).stdout.trim());
      const hist = JSON.parse(cli(db, ['history', '--job', 'fixture', '--json']).stdout.trim().split('\n')[0]);
      const why = JSON.parse(cli(db, ['why', '--job', 'fixture', '--json']).stdout)[0];
      const diff = JSON.parse(cli(db, ['diff', '--job', 'fixture', '--from', '0', '--json']).stdout.trim().split('\n')[0]);
      const verify = JSON.parse(cli(db, ['verify', '--json']).stdout);
      for (const o of [jobs, hist, why.became_dynamic]) {
        assert.equal(typeof o.position, 'number');
        assert.match(o.time, /^\d{4}-\d\d-\d\dT/);
      }
      for (const o of [hist, why, diff]) {
        assert.equal(typeof o.code, 'object', 'code is structured');
        assert.deepEqual(Object.keys(o.code).slice(0, 4), ['filename', 'firstlineno', 'name', 'file_hash']);
        assert.equal(typeof o.source, 'string');
      }
      assert.equal(hist.compile_id, why.became_dynamic.compile_id === undefined ? hist.compile_id : hist.compile_id);
      assert.deepEqual(Object.keys(hist.origin), ['name', 'line']);
      assert.deepEqual(Object.keys(why.became_dynamic.origin), ['name', 'line']);
      assert.equal(verify.ok, true);
      assert.equal(jobs.cache_key, 'fixture:None:');
      // trial s25b: a scalar's dim had no index; stats' values had no runs (why's have)
      const stories = JSON.parse(cli(db, ['why', '--job', 'fixture', '--json']).stdout) as { dim: object; values: object[] }[];
      const dims = stories.map((st) => st.dim);
      assert.ok(dims.some((d) => JSON.stringify(d) === '{"field":"scalar","index":null}'), JSON.stringify(dims));
      for (const d of dims) assert.deepEqual(Object.keys(d), ['field', 'index']);
      const stats = cli(db, ['stats', '--job', 'fixture', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { dims: { values: object[] }[] });
      const values = stats.flatMap((w) => w.dims.flatMap((d) => d.values));
      assert.ok(values.length > 0);
      for (const v of [...values, ...stories.flatMap((st) => st.values)]) assert.deepEqual(Object.keys(v), ['value', 'count', 'runs']);
    });
  });

  function require_(rel: string): string {
    // the package.json at the project root, read as text
    return readFileSyncText(join(import.meta.dirname, '..', '..', rel));
  }
  function readFileSyncText(p: string): string {
    return readFileSync(p, 'utf8');
  }
});
