import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { nextOracleCases, oracleCases } from '../../test/support/fixtures.ts';
import { caseLines, nextCaseLines } from '../../test/support/oracle-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { recordValue } from '../store/why-fold.ts';
import { pickleProfile, unpickleProfile } from '../codecs/pickle/index.ts';
import { profileAsWritten } from '../adapters/export-profile.ts';
import { entryOf } from '../model/observation.ts';
import { emptyProfile } from '../model/profile.ts';
import { updateAutomaticDynamic } from '../model/update.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const dir = tempDir();

  /** A newer PyTorch's profile: one factory-made function under two closures. */
  function handMade(): Uint8Array {
    const p = emptyProfile();
    const code = { filename: '/w/m.py', firstlineno: 7, name: 'inner', file_hash: 'abc' };
    updateAutomaticDynamic(p, { ...code, closure_hash: 0x2a }, "L['x']", entryOf({ kind: 'size', size: [2, 3] }));
    updateAutomaticDynamic(p, { ...code, closure_hash: 0x2a }, "L['x']", entryOf({ kind: 'size', size: [4, 3] }));
    updateAutomaticDynamic(p, { ...code, closure_hash: 2n ** 61n - 1n }, "L['x']", entryOf({ kind: 'size', size: [5, 3] }));
    updateAutomaticDynamic(p, { ...code, closure_hash: 2n ** 61n - 1n }, "L['n']", entryOf({ kind: 'scalar', value: 1 }));
    return pickleProfile(p, { layout: '2.12' });
  }

  describe('issue 13: profiles in the layout after 2.11 on the command line', () => {
    const db = ledgerAt(dialect, dir, 'next.db');
    const pkl = join(dir, 'hand.pkl');
    const bytes = handMade();
    writeFileSync(pkl, bytes);

    it('issue 13.1: a hand-made newer pickle: two closure-distinct code ids stay two, and export gives the same bytes', () => {
      assert.equal(cli(db, ['ingest', pkl, '--job', 'hm']).status, 0);
      const show = cli(db, ['show', '--job', 'hm']);
      assert.equal(show.status, 0, show.stderr);
      // render_code_state prints closures alike, as upstream does
      assert.equal(show.stdout.split('\n').filter((l) => l === 'hash(abc)/w/m.py:7:inner:').length, 2);
      assert.match(show.stdout, /L\['x'\]: unusual FrameStateSizeEntry\(scalar=<AutoUnset.token: 0>, size=\(<AutoDynamic.token: 0>, 3\), stride=<AutoUnset.token: 0>, excluded_sizes=\(2, 3\), excluded_scalar=None\)/);
      const json = JSON.parse(cli(db, ['show', '--job', 'hm', '--json']).stdout);
      assert.deepEqual(json.codes.map((c: { code: { closure_hash: unknown } }) => c.code.closure_hash), [42, '2305843009213693951']);
      const out = join(dir, 'hand-out.pkl');
      assert.equal(cli(db, ['export', '--job', 'hm', '--format', 'pickle', '-o', out]).status, 0);
      assert.ok(readFileSync(out).equals(Buffer.from(bytes)), 'default: the layout it came in');
      assert.equal(cli(db, ['export', '--job', 'hm', '--format', 'pickle', '--torch', '2.12', '-o', out]).status, 0);
      assert.ok(readFileSync(out).equals(Buffer.from(bytes)));
    });

    it('issue 13.3: why and history tell the closures apart', () => {
      const code = { filename: '/w/m.py', firstlineno: 7, name: 'inner', file_hash: 'abc' };
      const line = (closure: number | string, n: number) => JSON.stringify({ job: 'hl', code: { ...code, closure_hash: closure }, source: "L['x']", kind: 'size', size: [n, 3] });
      writeFileSync(join(dir, 'closures.jsonl'), [line(42, 2), line('2305843009213693951', 5), line(42, 4), line('2305843009213693951', 6)].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'closures.jsonl')]).status, 0);
      const why = cli(db, ['why', '--job', 'hl', '--source', "L['x']"]);
      assert.equal(why.status, 0, why.stderr);
      assert.match(why.stdout, /L\['x'\] in hash\(abc\)\/w\/m\.py:7:inner closure 0x2a:/);
      assert.match(why.stdout, /L\['x'\] in hash\(abc\)\/w\/m\.py:7:inner closure 0x1fffffffffffffff:/);
      const amb = cli(db, ['why', '--job', 'hl', '--source', "L['x']", '--code', 'm.py:7:inner']);
      assert.equal(amb.status, 2);
      assert.match(amb.stderr, /ambiguous: .*closure 0x2a, .*closure 0x1fffffffffffffff; pick one with the text shown, closure included/);
      const one = cli(db, ['why', '--job', 'hl', '--source', "L['x']", '--code', 'hash(abc)/w/m.py:7:inner closure 0x2a']);
      assert.equal(one.status, 0, one.stderr);
      assert.match(one.stdout, /closure 0x2a:/);
      assert.doesNotMatch(one.stdout, /closure 0x1fffffffffffffff/);
      const hist = cli(db, ['history', '--job', 'hl', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(hist.map((h) => [h.code.closure_hash, h.cached, h.new]), [[42, '2', '4'], ['2305843009213693951', '5', '6']]);
      const diff = cli(db, ['diff', '--job', 'hl', '--from', '0']);
      assert.equal(diff.status, 0, diff.stderr);
      assert.match(diff.stdout, /added L\['x'\] in hash\(abc\)\/w\/m\.py:7:inner closure 0x2a:/);
      assert.match(diff.stdout, /added L\['x'\] in hash\(abc\)\/w\/m\.py:7:inner closure 0x1fffffffffffffff:/);
    });

    it('issue 13.4: --torch 2.11 refuses closure-distinct code ids by name; --merge-closures joins them', () => {
      const out = join(dir, 'hand-211.pkl');
      const r = cli(db, ['export', '--job', 'hm', '--format', 'pickle', '--torch', '2.11', '-o', out]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /hash\(abc\)\/w\/m\.py:7:inner \(closures 0x2a, 0x1fffffffffffffff\).*Write --torch 2\.12, or join them with --merge-closures$/m);
      // the library's error names its own fields, not the command line's flags
      assert.throws(() => profileAsWritten(unpickleProfile(handMade()), { torch: '2.11' }), (e: Error) => /Write torch: '2\.12', or join them with mergeClosures: true$/.test(e.message) && !e.message.includes('--'));
      const m = cli(db, ['export', '--job', 'hm', '--format', 'pickle', '--torch', '2.11', '--merge-closures', '-o', out]);
      assert.equal(m.status, 0, m.stderr);
      // the message counts the code ids written (the view holds two)
      assert.match(m.stdout, /^wrote \S+ \(pickle, \d+ bytes, 1 code id\)$/m);
      const back = unpickleProfile(readFileSync(out));
      assert.equal(back.layout, undefined);
      assert.equal(back.codes.size, 1);
      assert.equal(readFileSync(out).indexOf('closure_hash'), -1);
      assert.deepEqual([...[...back.codes.values()][0].state.automaticDynamic.keys()], ["L['x']", "L['n']"]);
    });

    it('issue 13.4: mega-cache and remote-json exports carry the newer layout, and read back the same', () => {
      for (const format of ['megacache', 'remote-json']) {
        const out = join(dir, `hand.${format}`);
        const ex = cli(db, ['export', '--job', 'hm', '--format', format, '-o', out]);
        assert.equal(ex.status, 0, ex.stderr);
        // into a fresh store (a mega-cache names its own key: hm)
        const db2 = ledgerAt(dialect, dir, `again-${format}.db`);
        const job = 'hm';
        const ing = cli(db2, ['ingest', out, '--job', job]);
        assert.equal(ing.status, 0, ing.stderr);
        const again = join(dir, `again-${format}.pkl`);
        const ex2 = cli(db2, ['export', '--job', job, '--format', 'pickle', '-o', again]);
        assert.equal(ex2.status, 0, ex2.stderr);
        assert.ok(readFileSync(again).equals(Buffer.from(bytes)), format);
      }
    });

    it('issue 13.4/13.5: 2.11 data still exports 2.11 bytes by default and with --torch 2.11; oracle/next cases via the CLI', () => {
      const c = oracleCases()[7];
      const n = nextOracleCases().filter((x) => x.codes.some((k) => typeof k.closure_hash === 'bigint')).slice(0, 3);
      writeFileSync(join(dir, 'mixed.jsonl'), [...caseLines(c), ...n.flatMap((x) => nextCaseLines(x))].join('\n') + '\n');
      assert.equal(cli(db, ['ingest', join(dir, 'mixed.jsonl')]).status, 0);
      const out = join(dir, 'c.pkl');
      for (const torch of [[], ['--torch', '2.11']]) {
        assert.equal(cli(db, ['export', '--job', `case-${c.id}`, '--format', 'pickle', ...torch, '-o', out]).status, 0);
        assert.equal(readFileSync(out).toString('base64'), c.expected.pickle_p4);
      }
      for (const x of n) {
        assert.equal(cli(db, ['show', '--job', `next-${x.id}`]).stdout, x.expected.render + '\n');
        const hist = cli(db, ['history', '--job', `next-${x.id}`, '--json']).stdout.trim();
        const got = hist ? hist.split('\n').map((l) => JSON.parse(l)) : [];
        assert.deepEqual(got.map((g) => ({ event: 'automatic_dynamic', name: g.source, dim_changed: g.dim_changed, reason: g.reason, cached: g.cached, new: g.new })), x.expected.steps.flatMap((s) => s.logged).map((r) => ({ ...r, cached: recordValue(String(r.cached)), new: recordValue(String(r.new)) })));
        assert.equal(cli(db, ['export', '--job', `next-${x.id}`, '--format', 'pickle', '--torch', '2.12', '-o', out]).status, 0);
        assert.equal(readFileSync(out).toString('base64'), x.expected.pickle_p4);
      }
    });

    // Trial s36a: a profile folded from lines, exported in the newer layout and ingested again,
    // lost its excluded_sizes / excluded_scalar (the join of an entry that changes nothing clears
    // them), so a second export differed from the first. A snapshot is the entry as PyTorch held
    // it: where it changes nothing `==` compares, its excluded values are the file's.
    it("a profile's own export in the newer layout, ingested again, changes nothing: the same bytes out, verify passes", () => {
      const code = { filename: '/srv/m.py', firstlineno: 10, name: 'forward', file_hash: 'abcd1234' };
      const line = (run: string, t: number, o: Record<string, unknown>) => JSON.stringify({ job: 'ex', run, time: `2026-11-26T10:0${t}:00Z`, code, ...o });
      writeFileSync(join(dir, 'ex.jsonl'), [
        line('r1', 0, { source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1] }),
        line('r1', 1, { source: "L['n']", kind: 'scalar', value: 4 }),
        line('r2', 2, { source: "L['x']", kind: 'tensor', size: [16, 128], stride: [128, 1] }),
        line('r3', 3, { source: "L['n']", kind: 'scalar', value: 7 }),
        line('r3', 4, { source: "L['x']", kind: 'tensor', size: [16, 64], stride: [64, 1] }),
      ].join('\n') + '\n');
      const xdb = ledgerAt(dialect, dir, 'excluded.db');
      assert.equal(cli(xdb, ['ingest', join(dir, 'ex.jsonl')]).status, 0);
      const before = cli(xdb, ['show', '--job', 'ex', '--json']).stdout;
      assert.match(before, /"excluded_sizes":\[null,128\]/);
      assert.match(before, /"excluded_scalar":4/);
      const first = join(dir, 'ex-first.pkl');
      assert.equal(cli(xdb, ['export', '--job', 'ex', '--torch', '2.12', '--format', 'pickle', '-o', first]).status, 0);
      const ing = cli(xdb, ['ingest', first, '--job', 'ex']);
      assert.equal(ing.status, 0, ing.stderr);
      assert.equal(cli(xdb, ['show', '--job', 'ex', '--json']).stdout, before);
      const second = join(dir, 'ex-second.pkl');
      assert.equal(cli(xdb, ['export', '--job', 'ex', '--torch', '2.12', '--format', 'pickle', '-o', second]).status, 0);
      assert.ok(readFileSync(second).equals(readFileSync(first)));
      assert.equal(cli(xdb, ['verify']).status, 0);
      // a later observation of a shape the entry keeps clears them, as `|=` does
      writeFileSync(join(dir, 'ex2.jsonl'), line('r4', 5, { source: "L['x']", kind: 'tensor', size: [32, 32], stride: [32, 1] }) + '\n');
      assert.equal(cli(xdb, ['ingest', join(dir, 'ex2.jsonl')]).status, 0);
      assert.match(cli(xdb, ['show', '--job', 'ex', '--json']).stdout, /"L\['x'\]":\{"scalar":"dynamic","size":\["dynamic","dynamic"\],"stride":\[\{"infer":1\},1\],"excluded_sizes":null\}/);
    });
  });
});
