import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cli } from '../../test/support/cli.ts';
import { FIXTURES } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

// Session 24 trial: a name that fits nothing was said without what there is (`--code` and
// `--rank` list it), a folder of one file said "1 files", and a gzip of no PGO data was said
// to be "no … gzip".
describe('a name that fits nothing lists what there is; counts and kinds said right (session 24 trial)', () => {
  const db = join(dir, 'l.db');
  const ingest = cli(db, ['ingest', join(FIXTURES, 'multirun/probe4-local/run1/trace.log.gz')]);

  it('history --job of no job lists the jobs', () => {
    assert.equal(ingest.status, 0, ingest.stderr);
    const r = cli(db, ['history', '--job', 'nosuch']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgo-ledger: no profile for job nosuch \(the ledger's jobs: probe4; pgo-ledger jobs lists their profiles\)$/m);
  });

  it("why and history --source of no source list the profile's sources (of the code asked, with --code)", () => {
    for (const c of ['why', 'history']) {
      const r = cli(db, [c, '--job', 'probe4', '--source', "L['zz']"]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^pgo-ledger: probe4:None: has no source L\['zz'\] \(its sources: L\['x'\], .*L\['s'\]/m, c);
      const code = cli(db, [c, '--job', 'probe4', '--code', 'zero_dim', '--source', "L['zz']"]);
      assert.equal(code.status, 2, code.stderr);
      assert.match(code.stderr, /has no source L\['zz'\] in code zero_dim \(its sources there: L\['x'\], L\['s'\]\)$/m, c);
    }
  });

  it('retract --run of no run lists the runs and where they are listed by profile', () => {
    const r = cli(db, ['retract', '--run', 'nosuchrun']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pgo-ledger: run nosuchrun has no events \(runs there: probe4:pid\d+@[\dT:Z-]+; pgo-ledger jobs --json lists them by profile/m);
  });

  it('a folder of one file that is no PGO data: "1 file"', () => {
    const d = join(dir, 'one');
    mkdirSync(d);
    writeFileSync(join(d, 'a.lock'), '');
    const r = cli(join(dir, 'one.db'), ['ingest', d]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /one: failed: nothing to read: 1 file, none a TORCH_TRACE log/);
  });

  it('a gzip whose content is binary is said to be a gzip, its content none of the kinds', () => {
    const f = join(dir, 'zeros.log.gz');
    writeFileSync(f, gzipSync(Buffer.alloc(1 << 16)));
    const r = cli(join(dir, 'z.db'), ['ingest', f]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /zeros\.log\.gz: failed: not PGO data: a gzip whose content, gunzipped, is binary bytes that are no pickle, mega-cache or TORCH_TRACE log\n/);
    // bytes that are no gzip are said as before
    const b = join(dir, 'zeros.bin');
    writeFileSync(b, Buffer.alloc(64));
    assert.match(cli(join(dir, 'z.db'), ['ingest', b]).stderr, /zeros\.bin: failed: not PGO data: binary bytes that are no pickle, mega-cache, gzip or TORCH_TRACE log\n/);
  });
});

// Trial s36a: `history --shapes` of a ledger of observation lines (or a window before any
// description) printed nothing at all, where `history` says "no recompile records".
describe('history --shapes with no input described says so', () => {
  it('observation lines only, and --as-of 0 of a trace: the words; --json stays empty', () => {
    const db = join(dir, 'shapes.db');
    writeFileSync(join(dir, 'shapes.jsonl'), `${JSON.stringify({ job: 'sh', code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['x']", kind: 'tensor', size: [8], stride: [1] })}\n`);
    assert.equal(cli(db, ['ingest', join(dir, 'shapes.jsonl')]).status, 0);
    const r = cli(db, ['history', '--shapes']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'no compile inputs described (TORCH_TRACE logs describe them: tensors, and ints and floats fed as symbols or specialized)\n');
    assert.equal(cli(db, ['history', '--shapes', '--json']).stdout, '');
    const traced = cli(join(dir, 'l.db'), ['history', '--job', 'probe4', '--shapes', '--as-of', '0']);
    assert.match(traced.stdout, /^no compile inputs described/);
  });
});
