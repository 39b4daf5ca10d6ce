import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { nextOracleCases } from '../../test/support/fixtures.ts';
import { nextCaseLines } from '../../test/support/oracle-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestObservations } from '../adapters/ingest-observations.ts';
import { ingestPickleFile } from '../adapters/ingest-snapshot.ts';
import { historyJson } from '../cli/json.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import { emptyProfile, layoutOf } from '../model/profile.ts';
import { entryOf } from '../model/observation.ts';
import { updateAutomaticDynamic } from '../model/update.ts';
import { renderProfile } from '../model/render.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { verifyLedger } from './verify.ts';
import { explain } from './why.ts';
import { recordValue } from './why-fold.ts';
import { reportProfile } from '../report/report-data.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const cases = nextOracleCases();

  describe('issue 13.5: the 600 cases of oracle/next through the event store', () => {
    const dir = tempDir();
    let ledger: Ledger;
    before(async () => {
      writeFileSync(join(dir, 'next.jsonl'), cases.flatMap((c) => nextCaseLines(c)).join('\n') + '\n');
      ledger = await openLedger(ledgerAt(dialect, dir, 'ledger.db'));
      const s = await ingestObservations(ledger, join(dir, 'next.jsonl'), { batchSize: 997, worker: true });
      assert.equal(s.appended, cases.reduce((n, c) => n + c.observations.length, 0));
    });

    it('issue 13.5: ingested as observation lines, show, history --json and export --torch 2.12 give the expected text, records and bytes', () => {
      for (const c of cases) {
        const p = ledger.profileByKey(`next-${c.id}:None:`)!;
        const view = ledger.view(p.id);
        assert.equal(layoutOf(view.profile), '2.12', `case ${c.id} layout`);
        assert.equal(view.profile.codes.size, c.expected.state.length, `case ${c.id}: closure-distinct code ids stay apart`);
        assert.equal(renderProfile(view.profile), c.expected.render, `case ${c.id} render`);
        assert.equal(Buffer.from(pickleProfile(view.profile, { layout: '2.12' })).toString('base64'), c.expected.pickle_p4, `case ${c.id} pickle`);
        // history --json says a record's values as show says a dim (PyTorch's text -> ?, S(1), [8, 4])
        const want = c.expected.steps.flatMap((s) => s.logged.map(({ event: _e, ...r }) => ({ ...r, cached: recordValue(String(r.cached)), new: recordValue(String(r.new)) })));
        const got = ledger.history(p.id).map((h) => {
          const j = historyJson(h);
          return { name: j.source, dim_changed: j.dim_changed, reason: j.reason, cached: j.cached, new: j.new };
        });
        assert.deepEqual(got, want, `case ${c.id} history`);
      }
    });

    it('issue 13.5: history --json names each code id with its closure_hash', () => {
      const c = cases.find((x) => x.expected.steps.some((s) => s.logged.length) && x.codes.some((k) => typeof k.closure_hash === 'bigint'))!;
      const p = ledger.profileByKey(`next-${c.id}:None:`)!;
      for (const h of ledger.history(p.id)) {
        const j = JSON.parse(JSON.stringify(historyJson(h))) as { code: { closure_hash?: unknown } };
        assert.ok('closure_hash' in j.code);
      }
    });

    it('verify passes; replay leaves the views unchanged', () => {
      assert.deepEqual(verifyLedger(ledger).differences, []);
      ledger.replay();
      for (const c of cases.slice(0, 50)) assert.equal(renderProfile(ledger.view(ledger.profileByKey(`next-${c.id}:None:`)!.id).profile), c.expected.render);
    });

    it("issue 13.5: each case's pickle, ingested and exported, comes back byte-identical", async () => {
      for (const c of cases) {
        const file = join(dir, `case-${c.id}.pkl`);
        const bytes = Buffer.from(c.expected.pickle_p4, 'base64');
        writeFileSync(file, bytes);
        await ingestPickleFile(ledger, file, { defaults: { job: `pkl-${c.id}` } });
        const view = ledger.view(ledger.profileByKey(`pkl-${c.id}:None:`)!.id);
        assert.ok(Buffer.from(pickleProfile(view.profile)).equals(bytes), `case ${c.id}`);
        assert.equal(renderProfile(view.profile), c.expected.render, `case ${c.id} render`);
      }
    });
  });

  describe('issue 13.6: the report and why advise in the newer switches', () => {
    it('STATIC_SOURCES for a source static across runs, UNBACKED_SOURCES for a dim that took 1, per-dim DYNAMIC_SOURCES', async () => {
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 's.db'));
      const code = { filename: '/w/m.py', firstlineno: 3, name: 'f', file_hash: 'h', closure_hash: 5 };
      const line = (run: string, source: string, size: number[]) => JSON.stringify({ job: 'sw', run, code, source, kind: 'tensor', size, stride: size.map(() => 1) });
      writeFileSync(join(dir, 'sw.jsonl'), [line('a', "L['x']", [1, 4]), line('a', "L['w']", [3, 3]), line('b', "L['x']", [8, 4]), line('b', "L['w']", [3, 3]), line('b', "L['w']", [3, 3])].join('\n'));
      await ingestObservations(l, join(dir, 'sw.jsonl'));
      const p = l.profileByKey('sw:None:')!;
      const r = reportProfile(l, p);
      assert.deepEqual(r.switches!.map((s) => `${s.switch}=${s.value}`), [
        "TORCH_COMPILE_DYNAMIC_SOURCES=L['x']",
        "TORCH_COMPILE_DYNAMIC_SOURCES=L['x']:0",
        "TORCH_COMPILE_STATIC_SOURCES=L['w']",
        "TORCH_COMPILE_UNBACKED_SOURCES=L['x']:0",
      ]);
      assert.ok(r.codes.every((c) => c.code.endsWith(' closure 0x5')));
      const x0 = explain(l, p.id, { source: "L['x']", dim: { field: 'size', index: 0 } })[0];
      assert.match(x0.advice, /TORCH_COMPILE_DYNAMIC_SOURCES="L\['x'\]:0" \(PyTorch after 2\.11 \(#184120\).*TORCH_COMPILE_UNBACKED_SOURCES="L\['x'\]:0" \(PyTorch 2\.9\+/);
      const w0 = explain(l, p.id, { source: "L['w']", dim: { field: 'size', index: 0 } })[0];
      assert.match(w0.advice, /TORCH_COMPILE_STATIC_SOURCES="L\['w'\]:0" \(PyTorch after 2\.11 \(#193626\)\)/);
      await l.close();
    });
  });

  describe('issue 13.1: unknown fields of known classes through the store', () => {
    it('a hand-made pickle with a newer CodeId field and entry field: ingested, replayed, exported byte for byte', async () => {
      const dir = tempDir();
      const p = emptyProfile();
      const code = { filename: '/w/m.py', firstlineno: 7, name: 'inner', file_hash: 'abc', closure_hash: 2n ** 62n, extra: [['qualname', 'make.<locals>.inner']] as const };
      updateAutomaticDynamic(p, code, "L['x']", entryOf({ kind: 'size', size: [2, 3] }));
      updateAutomaticDynamic(p, code, "L['x']", entryOf({ kind: 'size', size: [4, 3] }));
      [...p.codes.values()][0].state.automaticDynamic.get("L['x']")!.extra = [['hint', [7, null, 'x', false, 2n ** 70n]]];
      const bytes = Buffer.from(pickleProfile(p, { layout: '2.12' }));
      writeFileSync(join(dir, 'x.pkl'), bytes);
      const l = await openLedger(ledgerAt(dialect, dir, 'x.db'));
      await ingestPickleFile(l, join(dir, 'x.pkl'), { defaults: { job: 'x' } });
      const pid = l.profileByKey('x:None:')!.id;
      assert.ok(Buffer.from(pickleProfile(l.view(pid).profile)).equals(bytes));
      l.replay();
      assert.ok(Buffer.from(pickleProfile(l.view(pid).profile)).equals(bytes));
      assert.ok(Buffer.from(pickleProfile(l.fold(pid, { untilPosition: 10 ** 9 }).profile)).equals(bytes));
      assert.deepEqual(verifyLedger(l).differences, []);
      await l.close();
    });
  });
});
