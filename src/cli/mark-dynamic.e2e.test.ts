import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import { DYNAMIC, InferStride } from '../model/atoms.ts';
import { emptyProfile } from '../model/profile.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {
  const dir = tempDir();
  const code = { filename: '/w/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6', closure_hash: null };
  const line = (o: object) => JSON.stringify({ job: 'md', run: 'r1', time: '2026-11-26T10:00:00Z', code, ...o });

  describe('observation lines: a tensor the user marked with torch._dynamo.mark_dynamic', () => {
    const db = ledgerAt(dialect, dir, 'marks.db');

    it('is joined as Dynamo joins it: the tensor, then make_size per marked dim, no record; export is what PyTorch stores', () => {
      const lines = [
        line({ source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1], mark_dynamic: [0] }),
        line({ source: "L['y']", kind: 'tensor', size: [4, 6, 8], stride: [48, 8, 1], mark_dynamic: [2, 0, 2] }),
      ];
      writeFileSync(join(dir, 'marks.jsonl'), lines.join('\n') + '\n');
      const r = cli(db, ['ingest', join(dir, 'marks.jsonl')]);
      assert.equal(r.status, 0, r.stderr);
      const show = cli(db, ['show', '--job', 'md']);
      assert.equal(show.status, 0, show.stderr);
      assert.match(show.stdout, /L\['x'\]: tensor size=\[\?, 128\] stride=\[S\(1\), 1\]/);
      assert.match(show.stdout, /L\['y'\]: tensor size=\[\?, 6, \?\] stride=\[S\(1\), S\(2\), 1\]/);
      // mark_dynamic logs no automatic_dynamic record
      assert.equal(cli(db, ['history', '--job', 'md', '--json']).stdout.trim(), '');
      // What PyTorch pickles after that compile, built by hand: each |= of make_size left the old size in excluded_sizes.
      const want = emptyProfile();
      want.layout = '2.12';
      want.codes.set('k', {
        id: code,
        state: {
          automaticDynamic: new Map([
            ["L['x']", { scalar: DYNAMIC, size: [DYNAMIC, 128], stride: [new InferStride(1), 1], excluded_sizes: [8, 128], excluded_scalar: null }],
            ["L['y']", { scalar: DYNAMIC, size: [DYNAMIC, 6, DYNAMIC], stride: [new InferStride(1), new InferStride(2), 1], excluded_sizes: [null, 6, 8], excluded_scalar: null }],
          ]),
        },
      });
      const out = join(dir, 'marks.pkl');
      const e = cli(db, ['export', '--job', 'md', '--format', 'pickle', '-o', out]);
      assert.equal(e.status, 0, e.stderr);
      assert.ok(readFileSync(out).equals(Buffer.from(pickleProfile(want, { layout: '2.12' }))));
    });

    it('the same tensor seen again: |= keeps the size and clears excluded_sizes, as PyTorch does', () => {
      writeFileSync(join(dir, 'again.jsonl'), line({ source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1], mark_dynamic: [0], time: '2026-11-26T10:01:00Z' }) + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'again.jsonl')]).status, 0);
      const json = JSON.parse(cli(db, ['show', '--job', 'md', '--json']).stdout);
      const x = json.codes[0].entries["L['x']"];
      assert.deepEqual(x.size, ['dynamic', 128]);
      assert.equal(x.excluded_sizes ?? null, null, JSON.stringify(x));
    });

    it("gives k's code state of real PyTorch 2.11's workload 2 (x = randn(5, 6) marked at dim 0, then y = randn(6))", () => {
      // torch-harness/train2.py: `x = torch.randn(5, 6); torch._dynamo.mark_dynamic(x, 0); ck(x, torch.randn(6))`;
      // the call after it (7, 6) hits the dynamic graph, so it records nothing. Dynamo wrapped y first.
      const k = { filename: '/srv/train/train2.py', firstlineno: 17, name: 'k', file_hash: 'e6c5f2f9' };
      const obs = (o: object) => JSON.stringify({ job: 'w2mine', code: k, ...o });
      writeFileSync(join(dir, 'w2.jsonl'), [obs({ source: "L['y']", kind: 'tensor', size: [6], stride: [1] }), obs({ source: "L['x']", kind: 'tensor', size: [5, 6], stride: [6, 1], mark_dynamic: [0] })].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'w2.jsonl')]).status, 0);
      assert.equal(cli(db, ['ingest', join(TORCH, 'workload2/code_state_fixture2_None_.pkl'), '--job', 'w2real']).status, 0);
      const codeK = (job: string) => JSON.parse(cli(db, ['show', '--job', job, '--json']).stdout).codes.find((c: { code: { name: string } }) => c.code.name === 'k');
      const real = codeK('w2real');
      assert.deepEqual(real.entries["L['x']"].size, ['dynamic', 6]);
      // the 2.11 layout pickles no excluded_* (show --json names what the join kept of them all the same)
      const mine = codeK('w2mine');
      for (const e of Object.values(mine.entries) as { excluded_sizes?: unknown }[]) delete e.excluded_sizes;
      assert.deepEqual(mine, real);
    });

    it('refuses marks on a scalar or past the size, naming the line', () => {
      writeFileSync(join(dir, 'bad.jsonl'), [line({ source: "L['n']", kind: 'scalar', value: 3, mark_dynamic: [0] }), line({ source: "L['z']", kind: 'tensor', size: [2], stride: [1], mark_dynamic: [1] })].join('\n') + '\n');
      const r = cli(db, ['ingest', join(dir, 'bad.jsonl')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad\.jsonl:1: field mark_dynamic: only for kind tensor/);
    });

    it("why says a dim turned dynamic by a mark was marked (it said 'by the job's own setting')", () => {
      const db2 = ledgerAt(dialect, dir, 'marked-why.db');
      const obs = (size: number[], time: string, mark?: number[]) => line({ job: 'mw', source: "L['x']", kind: 'tensor', size, stride: [size[1], 1], time, ...(mark ? { mark_dynamic: mark } : {}) });
      writeFileSync(join(dir, 'marked-why.jsonl'), [obs([8, 128], '2026-11-26T10:00:00Z'), obs([8, 128], '2026-11-26T10:01:00Z', [1]), obs([16, 128], '2026-11-26T10:02:00Z')].join('\n') + '\n');
      assert.equal(cli(db2, ['ingest', join(dir, 'marked-why.jsonl')]).status, 0);
      const r = cli(db2, ['why', '--job', 'mw', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const [d0, d1] = ['0', '1'].map((i) => (JSON.parse(r.stdout) as { dim: { index: number }; advice: string }[]).find((s) => String(s.dim.index) === i)!);
      assert.match(d1.advice, /^dim 1 of L\['x'\] was marked dynamic \(torch\._dynamo\.mark_dynamic\) in #2 \(run r1\)/);
      // dim 0 took two values: its story is not the mark's
      assert.doesNotMatch(d0.advice, /marked/);
      // a mark on an observation that itself brought a new value: the value made it dynamic (PyTorch logged that record), the mark joined nothing
      writeFileSync(join(dir, 'marked-new.jsonl'), [obs([8, 128], '2026-11-26T11:00:00Z'), obs([16, 128], '2026-11-26T11:01:00Z', [0])].map((l) => l.replace('"mw"', '"mw2"')).join('\n') + '\n');
      assert.equal(cli(db2, ['ingest', join(dir, 'marked-new.jsonl')]).status, 0);
      const w2 = cli(db2, ['why', '--job', 'mw2', '--source', "L['x']", '--dim', '0', '--json']);
      assert.equal(w2.status, 0, w2.stderr);
      assert.match(JSON.parse(w2.stdout)[0].advice, /^dim 0 of L\['x'\] took 2 values \(8, 16\)/);
      // with "automatic_dynamic": false the observation overwrites (static 16): the mark made it dynamic
      writeFileSync(join(dir, 'marked-over.jsonl'), [obs([8, 128], '2026-11-26T12:00:00Z'), obs([16, 128], '2026-11-26T12:01:00Z', [0])].map((l) => l.replace('"mw"', '"mw3"')).map((l, i) => (i ? l.replace('"kind":"tensor"', '"kind":"tensor","automatic_dynamic":false') : l)).join('\n') + '\n');
      assert.equal(cli(db2, ['ingest', join(dir, 'marked-over.jsonl')]).status, 0);
      const w3 = cli(db2, ['why', '--job', 'mw3', '--source', "L['x']", '--dim', '0', '--json']);
      assert.equal(w3.status, 0, w3.stderr);
      assert.match(JSON.parse(w3.stdout)[0].advice, /^dim 0 of L\['x'\] was marked dynamic/);
    });
  });
});
