import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s34a: an observation line's misspelt field ("mark_dynamc", "automatic-dynamic") was
// dropped with no word, and the profile came out other than the line meant; an empty run ("run":
// "", or --run '') was a run named blank, which answers showed as no run while retract took it.
const dir = tempDir();
const line = (o: Record<string, unknown> = {}, code: Record<string, unknown> = {}) =>
  JSON.stringify({ job: 'j', time: 1795687320, code: { filename: '/m.py', firstlineno: 1, name: 'f', ...code }, source: "L['x']", kind: 'tensor', size: [4], stride: [1], ...o });

describe('an observation line is read whole or refused', () => {
  it('a field the format does not have is bad input naming the field and the line, and nothing is written', () => {
    const file = join(dir, 'typo.jsonl');
    writeFileSync(file, `${line()}\n${line({ mark_dynamc: [0] })}\n`);
    const db = join(dir, 'typo.db');
    const r = cli(db, ['ingest', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /typo\.jsonl:2: field mark_dynamc: not a field of an observation line \(job, rank, tag, run, time, compile_id, code, source, kind, size, stride, value, automatic_dynamic, mark_dynamic\)/);
    assert.ok(!existsSync(db), 'no ledger made of a failed first input');
  });

  it("a code id's unknown field too, and --skip-invalid skips such lines, counted", () => {
    const file = join(dir, 'code.jsonl');
    writeFileSync(file, `${line({}, { file_hsh: 'x' })}\n${line({ 'automatic-dynamic': false })}\n${line()}\n`);
    const r = cli(join(dir, 'code.db'), ['ingest', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /code\.jsonl:1: field code\.file_hsh: not a field of a code id \(filename, firstlineno, name, file_hash, closure_hash\)/);
    const s = cli(join(dir, 'skip.db'), ['ingest', '--skip-invalid', file]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stderr, /code\.jsonl:2: field automatic-dynamic: not a field of an observation line/);
    assert.match(s.stdout, /1 event appended/);
  });

  it('a null where a field takes none, and a time of no kind, say what to give (trial s34b: zod\'s words, "Invalid input" alone for the time)', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ automatic_dynamic: null }, {}, /:1: field automatic_dynamic: expected boolean, received null \(leave the field out instead\)/],
      [{}, { file_hash: null }, /:1: field code\.file_hash: expected string, received null \(leave the field out instead\)/],
      [{ time: null }, {}, /:1: field time: expected an ISO 8601 time \(a string\) or seconds since the epoch \(a number\), got null \(leave the field out instead\)/],
      [{ time: true }, {}, /:1: field time: expected an ISO 8601 time \(a string\) or seconds since the epoch \(a number\), got true$/m],
    ];
    for (const [k, [o, code, said]] of cases.entries()) {
      const file = join(dir, `null-${k}.jsonl`);
      writeFileSync(file, `${line(o, code)}\n`);
      const r = cli(join(dir, `null-${k}.db`), ['ingest', '--job', 'j', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, said);
    }
  });

  // Trial s35b F6: `"job": null` said "leave the field out instead", and a line without a job then
  // needed --job, while the null was refused even with --job. Null is the field left out, as
  // for run and tag (a Python recorder writes None).
  it('"job": null takes --job, as a line without job does; without --job it says the null names no job', () => {
    const file = join(dir, 'job-null.jsonl');
    writeFileSync(file, `${line({ job: null })}\n`);
    const db = join(dir, 'job-null.db');
    const bare = cli(db, ['ingest', file]);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /job-null\.jsonl:1: field job: null, which names no job \(give it in the line or with --job\)/);
    const r = cli(db, ['ingest', '--job', 'j9', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(cli(db, ['jobs']).stdout, /^j9:None:\t1 event/m);
  });

  // Trial s36a: a size nested 10,000 deep was an internal error (exit 70, no file or line: the
  // message's JSON.stringify of the value overflowed the stack), and 2,000 deep quoted 4 KB of brackets.
  it('a field nested thousands deep is bad input at its line, quoted short', () => {
    for (const n of [2000, 10000]) {
      const file = join(dir, `deep-${n}.jsonl`);
      writeFileSync(file, `${line().replace('"size":[4]', `"size":${'['.repeat(n)}${']'.repeat(n)}`)}\n`);
      const r = cli(join(dir, `deep-${n}.db`), ['ingest', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`deep-${n}\\.jsonl:1: field size\\[0\\]: expected an int \\(past 2\\*\\*53, its digits as a string\\), got a list nested more than 20 deep\\n`));
      assert.ok(r.stderr.length < 600, `${r.stderr.length} bytes`);
    }
  });

  // Trial s36a: `"kind": "size"` with a `"stride"` went in with the stride dropped, the line read
  // as other than it meant; likewise a scalar's size, a tensor's value.
  it("a field of another kind is bad input naming it, not dropped", () => {
    for (const [k, [o, said]] of ([
      [{ kind: 'size', size: [3], stride: [1] }, /field stride: not a field of kind size \(only of kind tensor\)/],
      [{ kind: 'scalar', value: 3, size: [3], stride: undefined }, /field size: not a field of kind scalar \(only of kind tensor and kind size\)/],
      [{ kind: 'tensor', size: [3], stride: [1], value: 3 }, /field value: not a field of kind tensor \(only of kind scalar\)/],
    ] as [Record<string, unknown>, RegExp][]).entries()) {
      const file = join(dir, `kinds-${k}.jsonl`);
      writeFileSync(file, `${line(o)}\n`);
      const r = cli(join(dir, `kinds-${k}.db`), ['ingest', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, said);
    }
  });

  it('in a folder, a file whose lines begin with a field the format does not have is read as lines and fails, not skipped as other JSON (trial s34b: the job lost with no word)', () => {
    const d = join(dir, 'folder');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'host-first.jsonl'), `${JSON.stringify({ host: 'node-3', ...JSON.parse(line({ job: 'j5' })) })}\n`);
    writeFileSync(join(d, 'good.jsonl'), `${line()}\n`);
    // other JSON (no code, source and kind) stays other JSON
    writeFileSync(join(d, 'metrics.json'), `${JSON.stringify({ step: 1, loss: 0.5 })}\n`);
    const r = cli(join(dir, 'folder.db'), ['ingest', d]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /host-first\.jsonl:1: field host: not a field of an observation line/);
    assert.match(r.stdout + r.stderr, /1 not PGO data, skipped/);
  });

  it("an empty run is bad input: in a line, and as --run (ingest, retract)", () => {
    const file = join(dir, 'run.jsonl');
    writeFileSync(file, `${line({ run: '' })}\n`);
    const db = join(dir, 'run.db');
    const r = cli(db, ['ingest', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /run\.jsonl:1: field run: empty: give the run, or leave the field out \(or null\) for none/);
    writeFileSync(file, `${line()}\n`);
    const g = cli(db, ['ingest', '--run', '', file]);
    assert.equal(g.status, 2);
    assert.match(g.stderr, /--run is empty: an empty run names no run; give the run, or leave --run out for none/);
    assert.equal(cli(db, ['ingest', file]).status, 0);
    const t = cli(db, ['retract', '--run', '']);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /--run is empty: an empty run names no run; give the run\n/);
    // trial s34b: --exclude-run '' said "no such run"; one empty among others is refused too
    for (const args of [['show', '--exclude-run', ''], ['why', '--exclude-run', 'r1', '--exclude-run', '']]) {
      const x = cli(db, args);
      assert.equal(x.status, 2, x.stderr);
      assert.match(x.stderr, /--exclude-run is empty: an empty run names no run; give the run to leave out, or leave --exclude-run out/);
    }
  });
});
