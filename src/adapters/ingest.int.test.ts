import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH, fixtureText } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { cli } from '../../test/support/cli.ts';
import { decodeMegaCache } from '../codecs/megacache.ts';
import { pickleProfile, unpickleProfile } from '../codecs/pickle/index.ts';
import { decodeRemoteValue } from '../codecs/remote-value.ts';
import { renderProfile } from '../model/render.ts';
import { entryFromJson, entryToJson } from '../codecs/entry-json.ts';
import { codeStateFor, emptyProfile } from '../model/profile.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { verifyLedger } from '../store/verify.ts';
import { retractRun } from '../store/retract.ts';
import { describedShapes, sawSentence } from '../store/described-shapes.ts';
import { exportBytes, writeLocalDir } from './export-profile.ts';
import { detectKind, ingestFile } from './ingest-file.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();
  const COLD = fixtureText('torch-2.11/render/eager-cold-run.txt');
  let n = 0;
  async function fresh(): Promise<Ledger> {
    return openLedger(ledgerAt(dialect, dir, `l${n++}.db`));
  }
  const show = (l: Ledger, key: string) => renderProfile(l.view(l.profileByKey(key)!.id).profile);

  describe('every PyTorch artifact ingests; show prints the cold run exactly', () => {
    const sources: [string, Record<string, string>][] = [
      ['local/code_state_fixture_None_.pkl', {}],
      ...[0, 1, 2, 3, 4, 5].map((p) => [`protocols/code_state_p${p}.pkl`, { job: 'fixture' }] as [string, Record<string, string>]),
      ['remote/redis_value.json', { job: 'fixture' }],
      ['megacache/eager-cold-run.bin', {}],
      ['megacache/inductor-cuda-run.bin', {}],
      ['traces/cold-local.log', {}],
      ['traces/cold-remote.log', {}],
    ];
    for (const [f, defaults] of sources) {
      it(f, async () => {
        const l = await fresh();
        const notes: string[] = [];
        const s = await ingestFile(l, join(TORCH, f), { defaults, onNote: (m) => notes.push(m) });
        assert.ok(s.appended > 0);
        assert.equal(show(l, 'fixture:None:'), COLD);
        assert.deepEqual(verifyLedger(l).differences, []);
        const again = await ingestFile(l, join(TORCH, f), { defaults });
        assert.equal(again.appended, 0, 'ingesting again adds nothing');
        if (f.startsWith('local/')) assert.match(notes.join('\n'), /profile key fixture:None: derived from the file name/);
        if (f.includes('inductor')) assert.match(notes.join('\n'), /left alone: 10 inductor, 8 aot_autograd, 2 autotune/);
        await l.close();
      });
    }
    it('the warm traces, the tagged run, the single-artifact bundle and workload 2', async () => {
      const l = await fresh();
      for (const f of ['traces/warm-local.log', 'traces/warm-remote.log']) await ingestFile(l, join(TORCH, f));
      assert.equal(show(l, 'fixture:None:'), COLD);
      await ingestFile(l, join(TORCH, 'local/code_state_team_job_7_None_v2.pkl'), { defaults: { job: 'team/job:7', tag: 'v2' } });
      assert.equal(show(l, 'team/job:7:None:v2'), fixtureText('torch-2.11/render/tagged-run.txt'));
      const w = await fresh();
      await ingestFile(w, join(TORCH, 'megacache/single-pgo-artifact.bin'));
      assert.equal(show(w, 'fixture:None:'), renderProfile(unpickleProfile(decodeMegaCache(readFileSync(join(TORCH, 'megacache/single-pgo-artifact.bin'))).artifacts[0].content)));
      for (const [f, key, r] of [
        ['workload2/trace-single.log', 'fixture2:None:', 'render-single.txt'],
        ['workload2/trace-rank0.log', 'fixture2:0:', 'render-rank0.txt'],
        ['workload2/trace-rank1.log', 'fixture2:1:', 'render-rank1.txt'],
        ['workload2/megacache-rank1.bin', 'fixture2:1:', 'render-rank1.txt'],
      ]) {
        await ingestFile(w, join(TORCH, f));
        assert.equal(show(w, key), fixtureText(`torch-2.11/workload2/${r}`), f);
      }
      assert.deepEqual(verifyLedger(w).differences, []);
    });
  });

  describe('a trace’s history: every automatic_dynamic record, with compile ids and guard text', () => {
    it('cold-local.log', async () => {
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const log = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8');
      const want = [...log.matchAll(/"name": "automatic_dynamic",\n\t"ts": [\d.]+,\n\t"args": \{\n\t"name": "(.*)",\n\t"dim_changed": (.*),\n\t"reason": "(.*)",\n\t"cached": "(.*)",\n\t"new": "(.*)",\n\t"compile_id": "(.*)"/g)].map((m) => [
        JSON.parse(`"${m[1]}"`),
        JSON.parse(m[2]),
        m[3],
        m[4],
        m[5],
        m[6],
      ]);
      assert.equal(want.length, 11);
      const h = l.history(l.profileByKey('fixture:None:')!.id);
      assert.deepEqual(h.map((r) => [r.name, r.dim_changed, r.reason, r.cached, r.new, r.compileId]), want);
      const a = h.find((r) => r.name === "L['a']" && r.dim_changed === 1)!;
      assert.match(a.guard!, /tensor 'a' size mismatch at index 1\. expected 6, actual 7/);
      assert.equal(a.code.name, 'g');
      assert.equal(a.code.file_hash, 'd02731e6');
    });
  });

  describe('the shapes each compile saw: describe_tensor/describe_source as evidence', () => {
    const viewRows = (l: Ledger, key: string) => JSON.stringify([...l.view(l.profileByKey(key)!.id).profile.codes.values()].map(({ id, state }) => [id, [...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])]));
    it("issue 8.8: a trace's describe_tensor/describe_source become shape.described events; the profile is unchanged", async () => {
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      assert.equal(show(l, 'fixture:None:'), COLD);
      assert.deepEqual(verifyLedger(l).differences, []);
      const pid = l.profileByKey('fixture:None:')!.id;
      const all = describedShapes(l, pid);
      const x = all.filter((d) => d.code.name === 'f' && d.source === "L['x']");
      assert.deepEqual(x.map((d) => [d.compileId, d.size, d.stride, d.dtype, d.device, d.role]), [
        ['0/0', [2, 3], [3, 1], 'torch.float32', "device(type='cpu')", 'input'],
        ['0/1', [4, 3], [3, 1], 'torch.float32', "device(type='cpu')", 'input'],
      ]);
      assert.equal(sawSentence(x), "compile 0/0 saw L['x'] [2, 3]; 0/1 saw [4, 3]");
      // a view's described strides are the trace's (g's third compile took a transposed a)
      assert.deepEqual(all.filter((d) => d.code.name === 'g' && d.source === "L['a']").map((d) => [d.compileId, d.size, d.stride]), [['1/0', [4, 6], [6, 1]], ['1/1', [4, 7], [7, 1]], ['1/2', [4, 6], [1, 4]]]);
      // (g's third compile took a view: its base, L['a']._base, is an input too, session 25)
      assert.equal(all.length, 17, 'every described source of every compile, once');
      assert.deepEqual(all.filter((d) => d.source === "L['a']._base").map((d) => [d.compileId, d.size, d.stride]), [['1/2', [6, 4], [4, 1]]]);
      assert.equal((await ingestFile(l, join(TORCH, 'traces/cold-local.log'))).appended, 0);
      // the same trace without its descriptions folds to the very same profile and history
      const bare = (await fresh()) as Ledger;
      const stripped = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').split('\n').filter((t) => !/\{"describe_(tensor|source)"/.test(t));
      const file = join(dir, 'undescribed.log');
      writeFileSync(file, stripped.join('\n'));
      await ingestFile(bare, file);
      assert.equal(viewRows(bare, 'fixture:None:'), viewRows(l, 'fixture:None:'));
      const records = (x: Ledger) => x.history(x.profileByKey('fixture:None:')!.id).map((h) => [h.name, h.dim_changed, h.reason, h.cached, h.new, h.compileId]);
      assert.deepEqual(records(l), records(bare));
      // descriptions alone (with the compilation_metrics that name the code) change no profile
      const only = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').split('\n').filter((t) => /\{"(describe_(tensor|source)|compilation_metrics)"/.test(t));
      writeFileSync(join(dir, 'only-described.log'), only.join('\n'));
      const o = await fresh();
      assert.equal((await ingestFile(o, join(dir, 'only-described.log'))).appended, 17);
      assert.equal(o.view(o.profileByKey('fixture:None:')!.id).profile.codes.size, 0);
      assert.equal(o.history(o.profileByKey('fixture:None:')!.id).length, 0);
      // replay, --as-of and --exclude-run: the window rule applies
      o.replay();
      assert.deepEqual(verifyLedger(o).differences, []);
      assert.equal(describedShapes(l, pid, { untilPosition: x[1].position - 1 }).filter((d) => d.source === "L['x']" && d.code.name === 'f').length, 1);
      assert.equal(describedShapes(l, pid, { untilTime: x[1].time - 1 }).filter((d) => d.source === "L['x']" && d.code.name === 'f').length, 1);
      assert.equal(describedShapes(l, pid, { excludeRuns: ['fixture:pid576@2026-11-26T05:46:07Z'] }).length, 0);
      // a restarted compile (attempt 1 after a graph break) describes its inputs again: counted
      // once, under the attempt's id as PyTorch names it (0/0_1, never its plain 0/0)
      const w = await fresh();
      await ingestFile(w, join(TORCH, 'workload2/trace-rank0.log'));
      const fwd = describedShapes(w, w.profileByKey('fixture2:0:')!.id).filter((d) => d.code.name === 'forward');
      assert.equal(sawSentence(fwd), "compile 0/0_1 saw L['x'] [2, 8]; 0/1_1 saw [3, 8]; 0/2_1 saw [4, 8]");
      assert.equal(show(w, 'fixture2:0:'), fixtureText('torch-2.11/workload2/render-rank0.txt'));
      for (const x of [l, bare, o, w]) await x.close();
    });
    it('issue 8.8: symbolic sizes are kept as evidence text; a source with no described tensor is reported', async () => {
      const lines = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').split('\n');
      // as a PyTorch that fakifies with symbols would write it (a SymInt's repr), and one tensor line lost
      const i = lines.findIndex((t) => t.includes('"describe_tensor"') && t.includes('"size": [4, 3]'));
      lines[i] = lines[i].replace('"size": [4, 3]', '"size": ["s0", 3]').replace('"stride": [3, 1]', '"stride": [3, null]');
      const j = lines.findIndex((t) => t.includes('"describe_tensor"') && t.includes('"size": [3, 4]'));
      lines.splice(j, 1);
      writeFileSync(join(dir, 'symbolic.log'), lines.join('\n'));
      const l = await fresh();
      const notes: string[] = [];
      await ingestFile(l, join(dir, 'symbolic.log'), { onNote: (m) => notes.push(m) });
      const pid = l.profileByKey('fixture:None:')!.id;
      const x = describedShapes(l, pid).filter((d) => d.code.name === 'f');
      assert.deepEqual(x.map((d) => [d.size, d.stride]), [[[2, 3], [3, 1]], [['s0', 3], [3, null]]]);
      assert.equal(sawSentence(x), "compile 0/0 saw L['x'] [2, 3]; 0/1 saw [s0, 3]");
      assert.match(notes.join('\n'), /symbolic\.log:\d+: describe_source L\['t'\]: no describe_tensor with describer_id 10 and id 0; skipped/);
      assert.equal(show(l, 'fixture:None:'), COLD);
      await l.close();
    });
    it('issue 8.8: parameters and buffers are described but never enter the profile', async () => {
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const roles = (x: Ledger, key: string) => describedShapes(x, x.profileByKey(key)!.id).filter((d) => d.role !== 'input').map((d) => [d.compileId, d.source, d.size, d.role]);
      const W = "L['self']._modules['lin']._parameters['weight']";
      const B = "L['self']._modules['lin']._parameters['bias']";
      // the module's Linear: PyTorch marks them is_parameter
      assert.deepEqual(roles(l, 'fixture:None:'), [['3/0', W, [8, 8], 'parameter'], ['3/0', B, [8], 'parameter'], ['3/1', W, [8, 8], 'parameter'], ['3/1', B, [8], 'parameter']]);
      const sources = (x: Ledger) => [...x.view(x.profileByKey('fixture:None:')!.id).profile.codes.values()].flatMap(({ state }) => [...state.automaticDynamic.keys()]);
      assert.ok(!sources(l).some((s) => s.includes('_parameters')), 'no parameter in the profile');
      // a buffer carries no mark: told by its source; a parameter without the mark by its source too
      const R = "L['self']._modules['lin']._buffers['running_mean']";
      const edited = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8')
        .split('\n')
        .map((t) => (/\{"describe_(tensor|source)"/.test(t) ? t.replace('"is_parameter": true, ', '').replace(B, R) : t));
      writeFileSync(join(dir, 'buffers.log'), edited.join('\n'));
      const b = await fresh();
      await ingestFile(b, join(dir, 'buffers.log'));
      assert.deepEqual(roles(b, 'fixture:None:'), [['3/0', W, [8, 8], 'parameter'], ['3/0', R, [8], 'buffer'], ['3/1', W, [8, 8], 'parameter'], ['3/1', R, [8], 'buffer']]);
      assert.ok(!sources(b).some((s) => s.includes('_buffers') || s.includes('_parameters')), 'no buffer in the profile');
      assert.equal(show(b, 'fixture:None:'), COLD);
      assert.deepEqual(verifyLedger(b).differences, []);
      await l.close();
      await b.close();
    });
    it('issue 8.8: history --shapes lists what each compile saw', () => {
      const db = ledgerAt(dialect, dir, 'shapes.db');
      let r = cli(db, ['ingest', join(TORCH, 'traces/cold-local.log')]);
      assert.equal(r.status, 0, r.stderr);
      r = cli(db, ['history', '--job', 'fixture', '--shapes', '--code', 'f']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout.trim().split('\n'),
        [
          "compile 0/0 saw L['x'] [2, 3] (stride [3, 1], torch.float32, cpu) in f, run fixture:pid576@2026-11-26T05:46:07Z, #1",
          // the int 0/0 specialized: its guard `L['n'] == 2` (session 26)
          "compile 0/0 saw L['n'] 2 (an int, specialized: static) in f, run fixture:pid576@2026-11-26T05:46:07Z, #2",
          "compile 0/1 saw L['x'] [4, 3] (stride [3, 1], torch.float32, cpu) in f, run fixture:pid576@2026-11-26T05:46:07Z, #6",
          // the int 0/1 was fed once L['n'] was dynamic: its symbol (session 25)
          "compile 0/1 saw L['n'] 3 (an int, as its symbol: dynamic) in f, run fixture:pid576@2026-11-26T05:46:07Z, #8",
        ],
      );
      r = cli(db, ['history', '--job', 'fixture', '--shapes', '--json', '--source', "L['self']._modules['lin']._parameters['bias']"]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((t) => JSON.parse(t));
      assert.deepEqual(Object.keys(rows[0]), ['position', 'time', 'run', 'code', 'source', 'compile_id', 'origin', 'kind', 'size', 'stride', 'dtype', 'device', 'role', 'requires_grad']);
      // where it came from, as history's records say it (trial s28b: the shapes had no origin)
      const records = (cli(db, ['history', '--job', 'fixture', '--json']).stdout.trim().split('\n').map((t) => JSON.parse(t)) as { origin: { name: string } }[]).map((h) => h.origin.name);
      for (const x of rows) {
        assert.deepEqual(Object.keys(x.origin), ['name', 'line']);
        assert.ok(records.includes(x.origin.name), x.origin.name);
        assert.ok(Number.isInteger(x.origin.line) && x.origin.line > 0);
      }
      const ints = cli(db, ['history', '--job', 'fixture', '--shapes', '--json', '--source', "L['n']"]).stdout.trim().split('\n').map((t) => JSON.parse(t));
      assert.ok(ints.length > 0 && ints.every((x) => x.kind === 'scalar.described' && records.includes(x.origin.name) && x.origin.line > 0), JSON.stringify(ints));
      // a parameter's describe_tensor says requires_grad (session 23)
      assert.deepEqual(rows.map((x) => [x.compile_id, x.size, x.stride, x.role, x.requires_grad, x.code.name, x.code.file_hash, x.run]), [
        ['3/0', [8], [1], 'parameter', true, 'forward', 'd02731e6', 'fixture:pid576@2026-11-26T05:46:07Z'],
        ['3/1', [8], [1], 'parameter', true, 'forward', 'd02731e6', 'fixture:pid576@2026-11-26T05:46:07Z'],
      ]);
      assert.match(rows[0].time, /^2026-11-26T05:46:08\.\d{3}Z$/);
      // a source neither the profile nor any described shape holds is an error, as without --shapes
      r = cli(db, ['history', '--job', 'fixture', '--shapes', '--source', "L['self']._modules['lin']._parameters['typo']"]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /fixture:None: has no source L\['self'\]\._modules\['lin'\]\._parameters\['typo'\]/);
      // the window applies: --exclude-run leaves the run's shapes out
      r = cli(db, ['history', '--job', 'fixture', '--shapes', '--exclude-run', 'fixture:pid576@2026-11-26T05:46:07Z']);
      assert.equal(r.status, 0, r.stderr);
      // said, not left blank (trial s36a)
      assert.equal(r.stdout, 'no compile inputs described (TORCH_TRACE logs describe them: tensors, and ints and floats fed as symbols or specialized)\n');
    });
  });

  describe('bad files: a clear error or a reported skip, nothing half-written', () => {
    it('corrupted pickles, bundles, values and traces', async () => {
      const l = await fresh();
      const bad = (name: string, bytes: Uint8Array | string) => {
        const p = join(dir, name);
        writeFileSync(p, bytes);
        return p;
      };
      const pkl = readFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'));
      await assert.rejects(ingestFile(l, bad('code_state_x_None_.pkl', pkl.subarray(0, 300))), /code_state_x_None_\.pkl: pickle: truncated.*at byte \d+/);
      const evil = bad('evil.pkl', Buffer.from("cos\nsystem\n(S'id'\ntR.", 'latin1'));
      await assert.rejects(ingestFile(l, evil, { defaults: { job: 'x' } }), /refusing global os\.system/);
      const mc = Buffer.from(readFileSync(join(TORCH, 'megacache/eager-warm-run.bin')));
      mc[200] ^= 1;
      await assert.rejects(ingestFile(l, bad('flipped.bin', mc)), /flipped\.bin: mega-cache: checksum mismatch/);
      await assert.rejects(ingestFile(l, bad('v.json', '{"data": "not*base64"}'), { kind: 'remote-json', defaults: { job: 'x' } }), /remote cache value: data: not base64/);
      await assert.rejects(ingestFile(l, bad('redis_value.json', readFileSync(join(TORCH, 'remote/redis_value.json')))), /cannot tell the remote value's profile key \(no redis_key\.txt or redis_value\.json\.key beside it holds the key\); give key \(pt2:dynamo-pgo::<job>:<rank>:<tag>:c1\) or defaults\.job$/);
      assert.equal(l.profiles().length, 0, 'nothing written');
      // a trace cut mid-payload: the cut entry is reported and skipped, the rest ingests
      const log = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8');
      const cut = log.slice(0, log.indexOf('PGO detected', log.indexOf('put_local_code_state', log.length / 2)) + 20);
      const notes: string[] = [];
      await ingestFile(l, bad('cut.log', cut), { onNote: (m) => notes.push(m) });
      assert.match(notes.join('\n'), /cut\.log:\d+: artifact: payload does not match has_payload \(MD5\): the log ends inside it; entry skipped/);
      assert.ok(l.profileByKey('fixture:None:'));
      assert.deepEqual(verifyLedger(l).differences, []);
      // garbage lines inside a trace are reported, never fatal
      const garbled = log.split('\n');
      garbled.splice(40, 0, 'this is not a glog line', '\tstray payload');
      const notes2: string[] = [];
      const l2 = await fresh();
      await ingestFile(l2, bad('garbled.log', garbled.join('\n')), { kind: 'trace', onNote: (m) => notes2.push(m) });
      assert.match(notes2.join('\n'), /garbled\.log:41: not a TORCH_TRACE \(glog\) line; skipped/);
      assert.equal(show(l2, 'fixture:None:'), COLD);
    });
    it('a folder of traces: one run per file', async () => {
      const l = await fresh();
      const s = await ingestFile(l, join(TORCH, 'traces'));
      assert.deepEqual([s.kind, s.kinds], ['folder', { trace: 4 }]);
      assert.equal(show(l, 'fixture:None:'), COLD);
      const runs = l.sql.all<{ run: string }>('select run from runs order by run').map((r) => r.run);
      assert.deepEqual(runs, ['fixture:pid576@2026-11-26T05:46:07Z', 'fixture:pid603@2026-11-26T05:46:17Z', 'fixture:pid799@2026-11-26T05:47:04Z', 'fixture:pid831@2026-11-26T05:47:16Z']);
    });
    it("trial s23: other JSON in a folder (a workload's frames.json on one line, records.json pretty-printed) is no PGO data alike; observation lines beside them are read", async () => {
      const folder = join(dir, 'other-json');
      mkdirSync(folder, { recursive: true });
      // as test/fixtures/multirun/probe4-remote/run3/ holds them
      writeFileSync(join(folder, 'frames.json'), '{"frames": {"total": 8, "ok": 8}, "stats": {"calls_captured": 11, "unique_graphs": 8}}\n');
      writeFileSync(join(folder, 'records.json'), '[\n  {\n    "name": "L[\'x\']"\n  }\n]\n');
      writeFileSync(join(folder, 'metrics.json'), '{\n  "loss": 0.5\n}\n');
      writeFileSync(join(folder, 'obs.jsonl'), JSON.stringify({ job: 'j', code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1] }) + '\n');
      writeFileSync(join(folder, 'keyed.jsonl'), JSON.stringify({ source: "L['y']", job: 'j', code: { filename: '/m.py', firstlineno: 1, name: 'f' }, kind: 'tensor', size: [4], stride: [1] }) + '\n');
      const l = await fresh();
      const s = await ingestFile(l, folder);
      assert.deepEqual([s.kinds, s.notPgo, s.failed], [{ observations: 2 }, 3, []]);
      // a file given by name is read as lines all the same, its bad line said
      await assert.rejects(() => ingestFile(l, join(folder, 'frames.json')), /frames\.json:1:/);
    });
    it("issue 8.6: a trace's run is named from what PyTorch wrote, not the file name; --run overrides", async () => {
      const l = await fresh();
      // the trace handler names its files at random: the same log under two such names is one run
      const a = join(dir, 'dedicated_log_torch_trace_k2j4x9ab.log');
      const b = join(dir, 'dedicated_log_torch_trace_q81mzz0c.log');
      copyFileSync(join(TORCH, 'traces/cold-local.log'), a);
      copyFileSync(join(TORCH, 'traces/cold-local.log'), b);
      const first = await ingestFile(l, a);
      assert.ok(first.appended > 0);
      const second = await ingestFile(l, b);
      assert.equal(second.appended, 0, 'the same trace under another file name appends nothing');
      assert.equal(second.duplicates, first.appended);
      const runs = () => l.sql.all<{ run: string }>('select distinct r.run from events e join runs r on r.id = e.run_id order by r.run').map((r) => r.run);
      // job (compiler_config), pid (glog), first compile's start_time (compilation_metrics, UTC)
      assert.deepEqual(runs(), ['fixture:pid576@2026-11-26T05:46:07Z']);
      assert.equal(show(l, 'fixture:None:'), COLD);
      // a rank's trace: the envelope's rank is in the name
      await ingestFile(l, join(TORCH, 'workload2/trace-rank1.log'));
      assert.deepEqual(runs(), ['fixture2:rank1:pid592@2026-11-26T05:55:19Z', 'fixture:pid576@2026-11-26T05:46:07Z']);
      // --run overrides, on the command line too
      const db = ledgerAt(dialect, dir, 'run-override.db');
      const r = cli(db, ['ingest', '--run', 'r9', a]);
      assert.equal(r.status, 0, r.stderr);
      const o = await openLedger(db);
      assert.deepEqual(o.sql.all<{ run: string }>('select run from runs').map((x) => x.run), ['r9']);
      await o.close();
      await l.close();
    });
    it('detects kinds from content', () => {
      assert.equal(detectKind(join(TORCH, 'protocols/code_state_p0.pkl')), 'pickle');
      assert.equal(detectKind(join(TORCH, 'protocols/code_state_p4.pkl')), 'pickle');
      assert.equal(detectKind(join(TORCH, 'megacache/eager-cold-run.bin')), 'megacache');
      assert.equal(detectKind(join(TORCH, 'remote/redis_value.json')), 'remote-json');
      assert.equal(detectKind(join(TORCH, 'traces/cold-local.log')), 'trace');
    });
    it("a mega-cache whose CRC32 starts with a pickle's 0x80 is read as a mega-cache (one in 256 of export's; session 22's trial)", async () => {
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const profile = l.view(l.profiles()[0].id).profile;
      await l.close();
      // the cache key changes the CRC: the first of a few hundred whose first byte is 0x80
      let job = '';
      let bytes: Uint8Array = new Uint8Array();
      for (let k = 0; k < 5000 && bytes[0] !== 0x80; k++) bytes = exportBytes(profile, { format: 'megacache', cacheKey: `${(job = `j${k}`)}:None:` });
      assert.equal(bytes[0], 0x80);
      const file = join(dir, 'crc-0x80.bin');
      writeFileSync(file, bytes);
      assert.equal(detectKind(file), 'megacache');
      const db = ledgerAt(dialect, dir, 'crc-0x80.db');
      const r = cli(db, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /megacache/);
      const o = await openLedger(db);
      assert.ok(o.profileByKey(`${job}:None:`), 'the bundle\'s profile is in');
      await o.close();
    });
  });

  describe('exports read back equal', () => {
    it('pickle, remote-json, megacache (--base keeps other artifacts byte for byte), local-dir', async () => {
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const p = l.view(l.profileByKey('fixture:None:')!.id).profile;
      const opts = { cacheKey: 'fixture:None:' };
      assert.equal(renderProfile(unpickleProfile(exportBytes(p, { ...opts, format: 'pickle' }))), COLD);
      for (const proto of [2, 3, 5] as const) assert.equal(renderProfile(unpickleProfile(exportBytes(p, { ...opts, format: 'pickle', protocol: proto }))), COLD);
      assert.equal(renderProfile(unpickleProfile(decodeRemoteValue(Buffer.from(exportBytes(p, { ...opts, format: 'remote-json' })).toString()))), COLD);
      const mc = decodeMegaCache(exportBytes(p, { ...opts, format: 'megacache' }));
      assert.deepEqual(mc.artifacts.map((a) => [a.type, a.key]), [['pgo', 'fixture:None:']]);
      const baseBytes = readFileSync(join(TORCH, 'megacache/inductor-cuda-run.bin'));
      const base = decodeMegaCache(baseBytes);
      const merged = decodeMegaCache(exportBytes(p, { ...opts, format: 'megacache', base: baseBytes }));
      const others = (m: typeof base) => m.artifacts.filter((a) => a.type !== 'pgo');
      assert.equal(others(merged).length, others(base).length);
      others(base).forEach((a, i) => {
        assert.equal(others(merged)[i].type, a.type);
        assert.equal(others(merged)[i].key, a.key);
        assert.ok(Buffer.from(others(merged)[i].content).equals(Buffer.from(a.content)));
      });
      assert.deepEqual(merged.artifacts.filter((a) => a.type === 'pgo').map((a) => a.key), ['fixture:None:']);
      assert.deepEqual([...new Set(merged.artifacts.map((a) => a.type))], [...new Set(base.artifacts.map((a) => a.type))]);
      const path = writeLocalDir(join(dir, 'cache'), 'team/job:7:None:v2', p);
      assert.match(path, /dynamo\/code_state_team_job_7_None_v2\.pkl$/);
      assert.equal(renderProfile(unpickleProfile(readFileSync(path))), COLD);
      copyFileSync(path, join(dir, 'copy.pkl'));
    });
  });

  describe('merge: the join of rank profiles, as compiler collectives hand every rank', () => {
    it('fixture2 rank 0 + rank 1', async () => {
      const { mergeProfiles } = await import('./merge-profiles.ts');
      const { join: joinEntries } = await import('../model/entry.ts');
      const { entryToJson } = await import('../codecs/entry-json.ts');
      const l = await fresh();
      await ingestFile(l, join(TORCH, 'workload2/code_state_fixture2_0_.pkl'));
      await ingestFile(l, join(TORCH, 'workload2/code_state_fixture2_1_.pkl'));
      const a = l.profileByKey('fixture2:0:')!;
      const b = l.profileByKey('fixture2:1:')!;
      mergeProfiles(l, [a, b], 'fixture2-joined:None:');
      const j = l.view(l.profileByKey('fixture2-joined:None:')!.id).profile;
      const pa = l.view(a.id).profile;
      const pb = l.view(b.id).profile;
      for (const [k, { state }] of j.codes) {
        for (const [src, e] of state.automaticDynamic) {
          const x = pa.codes.get(k)?.state.automaticDynamic.get(src);
          const y = pb.codes.get(k)?.state.automaticDynamic.get(src);
          const want = x && y ? joinEntries(x, y) : (x ?? y)!;
          assert.deepEqual(entryToJson(e), entryToJson(want), src);
        }
      }
      assert.ok(l.history(l.profileByKey('fixture2-joined:None:')!.id).length > 0, 'rank 1 made dims dynamic: recorded');
      assert.deepEqual(verifyLedger(l).differences, []);
    });
  });

  describe('issue 9.2: the same content again', () => {
    it('issue 9.2: the same profile pickled with protocols 0 to 5 is one import (found by a new-user tryout)', async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'protocols.db'));
      const added = [];
      for (let p = 0; p <= 5; p++) added.push((await ingestFile(l, join(TORCH, `protocols/code_state_p${p}.pkl`), { defaults: { job: 'fixture' } })).appended);
      assert.deepEqual(added, [9, 0, 0, 0, 0, 0]);
      assert.equal(l.sql.get<{ n: number }>('select count(*) n from imports')!.n, 1);
      await l.close();
    });
    it("a snapshot appended before under its key is known by its last event: none is made again (a fleet reads each run's file after the run); what differs is appended as before", async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'again.db'));
      // the events each ingest hands the append
      const given: number[] = [];
      const append = l.append.bind(l);
      l.append = (events) => (given.push(events.length), append(events));
      const pkl = join(TORCH, 'protocols/code_state_p4.pkl');
      const ingest = async (f: string, defaults: Record<string, string>) => {
        const s = await ingestFile(l, f, { defaults });
        return [s.appended, s.duplicates];
      };
      assert.deepEqual(await ingest(pkl, { job: 'fixture' }), [9, 0]);
      assert.deepEqual(await ingest(pkl, { job: 'fixture' }), [0, 9]);
      // another run: the profile's newest snapshot again, which PyTorch would not have written
      // (it writes a profile only when it changed): no new event (session 33; it was joined
      // again, a sighting more for a run that saw none: unchanged-snapshot.e2e.test.ts)
      assert.deepEqual(await ingest(pkl, { job: 'fixture', run: 'r2' }), [0, 9]);
      assert.deepEqual(await ingest(pkl, { job: 'fixture', run: 'r2' }), [0, 9]);
      // the same write in PyTorch's other containers (the remote cache's value, a mega-cache
      // artifact), of the same run: no new write (trial s31: failed before, 9 appended, and why
      // counted each value twice); of another run, the newest snapshot again as above
      assert.deepEqual(await ingest(join(TORCH, 'remote/redis_value.json'), { job: 'fixture' }), [0, 9]);
      assert.deepEqual(await ingest(join(TORCH, 'remote/redis_value.json'), { job: 'fixture', run: 'r2' }), [0, 9]);
      assert.deepEqual(await ingest(join(TORCH, 'megacache/eager-warm-run.bin'), { job: 'fixture' }), [0, 9]);
      assert.deepEqual(await ingest(join(TORCH, 'remote/redis_value.json'), { job: 'fixture', run: 'r3' }), [0, 9]);
      // under another key, what differs: appended as before
      assert.deepEqual(await ingest(pkl, { job: 'other' }), [9, 0]);
      // the same file from another path: where it was read from makes no other event
      const moved = join(tempDir(), 'moved.pkl');
      copyFileSync(pkl, moved);
      assert.deepEqual(await ingest(moved, { job: 'other' }), [0, 9]);
      assert.deepEqual(given, [9, 0, 0, 0, 0, 0, 0, 0, 9, 0]);
      assert.equal(l.sql.get<{ n: number }>('select count(*) n from events')!.n, 18);
      assert.deepEqual(verifyLedger(l).differences, []);
      await l.close();
    });
  });

  it("trial s31: --rank or --tag with no --job on a pickle keep the file name's job and set the rest, saying so (failed before: dropped unsaid, the file name's key used)", async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'rank-only.db'));
    const notes: string[] = [];
    const file = join(TORCH, 'local/code_state_fixture_None_.pkl');
    assert.equal((await ingestFile(l, file, { defaults: { rank: 1 }, onNote: (m) => notes.push(m) })).appended, 9);
    assert.equal((await ingestFile(l, file, { defaults: { rank: 1, tag: 'v3' }, onNote: (m) => notes.push(m) })).appended, 9);
    assert.deepEqual(l.profiles().map((p) => p.cacheKey).sort(), ['fixture:1:', 'fixture:1:v3']);
    assert.match(notes[0], /code_state_fixture_None_\.pkl: profile key fixture:1:, its job from the file name \(.*\) and defaults\.rank as given$/);
    assert.match(notes[1], /profile key fixture:1:v3, its job from the file name \(.*\) and defaults\.rank and defaults\.tag as given$/);
    await l.close();
  });

  it("trial s31: a run given for a snapshot the profile's traces hold whole is said not used (failed before: nothing said, and retract --run found no events of it)", async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'run-held.db'));
    await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
    const notes: string[] = [];
    const s = await ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'), { defaults: { run: 'rZ' }, onNote: (m) => notes.push(m) });
    assert.deepEqual([s.appended, s.duplicates], [0, 9]);
    // (naming that run: session 33)
    assert.match(notes.join('\n'), /code_state_fixture_None_\.pkl: defaults\.run rZ not used: the profile's TORCH_TRACE logs hold this snapshot whole, written by their run, fixture:pid576@2026-11-26T05:46:07Z \(already in the log\)/);
    // no run given: nothing to say
    const quiet: string[] = [];
    await ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'), { onNote: (m) => quiet.push(m) });
    assert.ok(!quiet.some((m) => m.includes('not used')), quiet.join('\n'));
    await l.close();
  });

  it("trial s31: a snapshot already in the log as a retracted run's is said to stay out of every answer (failed before: only 'already in the log')", async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'retracted-held.db'));
    await ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'), { defaults: { run: 'r1' } });
    retractRun(l, 'r1');
    const notes: string[] = [];
    const s = await ingestFile(l, join(TORCH, 'remote/redis_value.json'), { defaults: { job: 'fixture', run: 'r1' }, onNote: (m) => notes.push(m) });
    assert.deepEqual([s.appended, s.duplicates], [0, 9]);
    assert.match(notes.join('\n'), /redis_value\.json: already in the log as run r1's, which its profile retracted: it stays out of every answer \(give another defaults\.run to join it again\)/);
    // another run joins it again, and says it is the retracted run's snapshot (trial s33b: said
    // nothing, and why then blamed the new run)
    const again: string[] = [];
    assert.equal((await ingestFile(l, join(TORCH, 'remote/redis_value.json'), { defaults: { job: 'fixture', run: 'r2' }, onNote: (m) => again.push(m) })).appended, 9);
    assert.ok(!again.some((m) => m.includes('stays out of every answer')), again.join('\n'));
    assert.match(again.join('\n'), /redis_value\.json: the same snapshot as run r1's, which its profile retracted: joined as run r2's/);
    await l.close();
  });

  describe("a snapshot larger than a batch: appended in batches, one transaction", () => {
    // 2,201 code ids of 5 sources: 11,005 entries, two batches of the append
    const p = emptyProfile();
    for (let c = 0; c < 2201; c++) {
      const st = codeStateFor(p, { filename: `/srv/m${c % 7}.py`, firstlineno: 10 + c, name: `forward_${c}`, file_hash: (c + 1).toString(16) });
      for (let k = 0; k < 5; k++) st.automaticDynamic.set(`L['x${k}']`, entryFromJson({ scalar: 'unset', size: [c % 3 ? 8 : 'dynamic', k + 1], stride: [k + 1, 1] }));
    }
    const file = join(tempDir(), 'code_state_big_None_.pkl');
    writeFileSync(file, pickleProfile(p));
    it('every entry appended and folded; the profile read back is the pickle', async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'big.db'));
      const given: number[] = [];
      const append = l.append.bind(l);
      l.append = (events) => (given.push(events.length), append(events));
      const s = await ingestFile(l, file, {});
      assert.deepEqual([s.appended, s.duplicates], [11005, 0]);
      assert.deepEqual(given, [10000, 1005]);
      assert.equal(renderProfile(l.view(l.profileByKey('big:None:')!.id).profile), renderProfile(p));
      assert.deepEqual(verifyLedger(l).differences, []);
      assert.deepEqual([(await ingestFile(l, file, {})).duplicates, given.length], [11005, 3]);
      await l.close();
    });
    it('a failure in its last batch leaves nothing of the first (nor the snapshot row)', async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'big-failed.db'));
      // the store refuses the events past the first batch's, as a full disk would
      if (dialect === 'sqlite') l.sql.run("create temp trigger full after insert on events when new.position > 10000 begin select raise(abort, 'the disk filled up'); end");
      else {
        l.sql.run("create function full_disk() returns trigger language plpgsql as $$ begin if new.position > 10000 then raise exception 'the disk filled up'; end if; return new; end $$");
        l.sql.run('create trigger full_disk after insert on events for each row execute function full_disk()');
      }
      await assert.rejects(ingestFile(l, file, {}), /the disk filled up/);
      assert.equal(l.sql.get<{ n: number }>('select count(*) n from events')!.n, 0);
      assert.equal(l.sql.get<{ n: number }>('select count(*) n from imports')!.n, 0);
      l.sql.run(dialect === 'sqlite' ? 'drop trigger full' : 'drop trigger full_disk on events');
      assert.equal((await ingestFile(l, file, {})).appended, 11005);
      assert.deepEqual(verifyLedger(l).differences, []);
      await l.close();
    });
  });

  it('issue 9.13: binary bytes that are no known kind are said to be so, not echoed back as JSON errors (new-user tryout)', async () => {
    const dir = tempDir();
    const file = join(dir, 'garbage.bin');
    writeFileSync(file, Buffer.from([0x93, 0x00, 0x53, 0xa7, 0x33, 0x7d, 0x01, 0xff, 0x10]));
    const l = await openLedger(ledgerAt(dialect, dir, 'g.db'));
    await assert.rejects(() => ingestFile(l, file), /garbage\.bin: not PGO data: binary bytes/);
    await l.close();
  });

  it('issue 9.14: --kind trace on what is no TORCH_TRACE log is an error saying so (new-user tryout)', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'k.db'));
    await assert.rejects(() => ingestFile(l, join(TORCH, 'local/code_state_fixture_None_.pkl'), { kind: 'trace', defaults: { job: 'fixture' } }), /not a TORCH_TRACE log \(no glog line in it\)/);
    assert.equal(l.profiles().length, 0);
    await l.close();
  });
});
