import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { ROOT } from '../../test/support/build.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { stormLines } from '../../test/support/storm-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();
const W2 = join(ROOT, 'test/fixtures/torch-2.11/workload2');

type Seen = { value: string; count: number; runs: string[] }[];
const byValue = (v: Seen) => [...v].sort((a, b) => a.value.localeCompare(b.value));

/** stats' dim name (`size[0]`, `scalar`, `size`) as why's --dim. */
const whyDim = (d: string) => d.replace(/^size\[(\d+)\]$/, '$1').replace(/^stride\[(\d+)\]$/, 'stride $1');

/** For every dim stats reports: why's values for the same dim of the same profile (the same counts). */
function agree(db: string): number {
  const s = cli(db, ['stats', '--json']);
  assert.equal(s.status, 0, s.stderr);
  let dims = 0;
  for (const w of s.stdout.trim().split('\n').map((l) => JSON.parse(l))) {
    for (const d of w.dims) {
      const args = ['why', '--job', w.job, '--rank', w.rank === null ? 'None' : String(w.rank), '--tag', w.tag, '--source', d.source, '--code', `${d.code.filename}:${d.code.firstlineno}:${d.code.name}`, '--dim', whyDim(d.dim), '--json'];
      const y = cli(db, args);
      assert.equal(y.status, 0, `${args.join(' ')}: ${y.stderr}`);
      const stories = JSON.parse(y.stdout);
      assert.equal(stories.length, 1, args.join(' '));
      // the same values, counts and runs (session 25: stats' had no runs)
      const values: Seen = stories[0].values;
      assert.deepEqual(byValue(d.values), byValue(values), `${w.cache_key} ${d.source} ${d.dim}`);
      assert.equal(d.observations, values.reduce((n, v) => n + v.count, 0));
      dims++;
    }
  }
  return dims;
}

describe('issue: fleet commands tried by a new user', () => {
  for (const dialect of DIALECTS) it(`fleet 1 (${dialect}): stats counts the values seen at a dim exactly as why does (a trace, observation lines)`, () => {
    const traces = ledgerAt(dialect, dir, 'traces.db');
    for (const f of ['trace-rank0.log', 'trace-rank1.log', 'trace-single.log']) assert.equal(cli(traces, ['ingest', join(W2, f)]).status, 0);
    assert.ok(agree(traces) >= 4);
    // the user's case: why says 2 and 3 were seen; stats said nothing was
    const t = cli(traces, ['stats', '--job', 'fixture2', '--rank', '0']);
    assert.doesNotMatch(t.stdout, /turned dynamic: L\['x'\] size\[0\] in \S+:12:forward at #\d+: no observations/);
    const lines = ledgerAt(dialect, dir, 'lines.db');
    assert.equal(cli(lines, ['ingest', stormLines(join(dir, `storm-${dialect}.jsonl`))]).status, 0);
    assert.ok(agree(lines) >= 3);
  });

  it("stats lists a stride's rank turned dynamic, as why does: the second whole-tuple record of L['t'] is the stride's (cold-local.log #28, and cold-remote.log's in its own window; a mega-cache's two at one position; s17-trial2)", () => {
    const TORCH = join(ROOT, 'test/fixtures/torch-2.11');
    const turned = (db: string) => cli(db, ['stats', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l))
      .flatMap((w) => w.dims).filter((d) => d.source === "L['t']").map((d) => `${d.dim}@${d.position}`);
    const trace = join(dir, 'rank-trace.db');
    // two runs: the second's records turn its own profile's ranks dynamic again, and why tells the first's
    assert.equal(cli(trace, ['ingest', join(TORCH, 'traces/cold-local.log'), join(TORCH, 'traces/cold-remote.log')]).status, 0);
    const ranks = cli(trace, ['history', '--job', 'fixture', '--source', "L['t']", '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l).position);
    assert.equal(ranks.length, 4);
    assert.deepEqual(turned(trace), [`size@${ranks[0]}`, `stride@${ranks[1]}`, `size@${ranks[2]}`, `stride@${ranks[3]}`]);
    assert.ok(agree(trace) >= 11);
    const mega = join(dir, 'rank-mega.db');
    assert.equal(cli(mega, ['ingest', join(TORCH, 'megacache/eager-cold-run.bin')]).status, 0);
    const [size, stride] = turned(mega);
    assert.match(size, /^size@\d+$/);
    assert.equal(stride, `stride@${size.slice('size@'.length)}`);
    assert.ok(agree(mega) >= 11);
  });

  it('fleet 2: stats takes --rank and --tag as the other commands do (one rank of a job; a rank with no profile is exit 2)', () => {
    const db = join(dir, 'ranks.db');
    for (const f of ['trace-rank0.log', 'trace-rank1.log']) assert.equal(cli(db, ['ingest', join(W2, f)]).status, 0);
    const all = cli(db, ['stats', '--job', 'fixture2', '--json']);
    assert.equal(all.status, 0, all.stderr);
    const ranks = (out: string) => [...new Set(out.trim().split('\n').map((l) => JSON.parse(l).rank))];
    assert.deepEqual(ranks(all.stdout), [0, 1]);
    const one = cli(db, ['stats', '--job', 'fixture2', '--rank', '1', '--json']);
    assert.equal(one.status, 0, one.stderr);
    assert.deepEqual(ranks(one.stdout), [1]);
    assert.equal(cli(db, ['stats', '--job', 'fixture2', '--rank', '0', '--tag', '', '--json']).status, 0);
    const none = cli(db, ['stats', '--job', 'fixture2', '--rank', '7']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no profile for job fixture2 rank 7/);
    // what the ledger has, as the other commands say it (session 22's trial: stats did not)
    assert.match(none.stderr, /no profile for job fixture2 rank 7 \(it has: [^)]*fixture2:0:/);
    assert.match(cli(db, ['stats', '--help']).stdout, /--rank <rank>[\s\S]*--tag <tag>/);
  });

  it('fleet 3: stats --window takes any whole N of s|m|h|d, as its help says, each window a whole multiple since the epoch; others are exit 2', () => {
    const db = join(dir, 'windows.db');
    assert.equal(cli(db, ['ingest', stormLines(join(dir, 'storm-w.jsonl'))]).status, 0);
    assert.match(cli(db, ['stats', '--help']).stdout.replace(/\s+/g, ' '), /a whole number and s, m, h or d \(30s, 7m, 1h, 1d\); windows start at whole multiples of it since the epoch/);
    const r = cli(db, ['stats', '--window', '7m', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const seven = 7 * 60_000;
    for (const w of r.stdout.trim().split('\n').map((l) => JSON.parse(l))) {
      assert.equal(Date.parse(w.start) % seven, 0);
      assert.equal(Date.parse(w.end) - Date.parse(w.start), seven);
    }
    for (const bad of ['0m', '1.5h', '7w']) {
      const b = cli(db, ['stats', '--window', bad]);
      assert.equal(b.status, 2, bad);
      assert.match(b.stderr, /want a whole number above 0 and s, m, h or d/);
    }
  });
});
