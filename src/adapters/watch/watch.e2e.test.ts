import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cli, cliAs, cliSpawn } from '../../../test/support/cli.ts';
import { TORCH } from '../../../test/support/fixtures.ts';
import { startRedis } from '../../../test/support/redis-server.ts';
import { withClosedSubfolder } from '../../../test/support/closed-folder.ts';
import { tempDir } from '../../../test/support/tmp.ts';
import { DIALECTS, freshLedger } from '../../../test/support/postgres.ts';

const dir = tempDir('pgo-watch-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// a failed test leaves no watch or writer behind
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A watch process and its --json lines as they come. */
function watching(db: string, args: string[]) {
  const proc = cliSpawn(db, ['watch', ...args, '--json']);
  children.add(proc);
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let rest = '';
  proc.stdout!.on('data', (b: Buffer) => {
    rest += b.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    lines,
    stderr: () => stderr,
    exit,
    async until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`watch: no ${what} within ${ms} ms; stdout ${JSON.stringify(lines).slice(-2000)}; stderr ${stderr.slice(-2000)}`);
        if (proc.exitCode !== null) throw new Error(`watch exited ${proc.exitCode} before ${what}: ${stderr}`);
        await sleep(20);
      }
    },
  };
}

/** What a ledger holds, as the command line shows it, less log positions (interleaved inputs get other positions). */
function contents(db: string, o: { origins?: boolean } = {}) {
  const jobs = cli(db, ['jobs', '--json']);
  assert.equal(jobs.status, 0, jobs.stderr);
  const profiles = jobs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { job: string; rank: number | null; tag: string; events: number; position?: number });
  const out: Record<string, unknown> = {};
  for (const p of profiles) {
    const sel = ['--job', p.job, '--rank', p.rank === null ? 'None' : String(p.rank), '--tag', p.tag];
    const strip = (l: string) => {
      const j = JSON.parse(l);
      delete j.position;
      if (!o.origins) delete j.origin;
      return JSON.stringify(j);
    };
    const h = cli(db, ['history', ...sel, '--json']);
    const s = cli(db, ['history', ...sel, '--shapes', '--json']);
    const show = cli(db, ['show', ...sel]);
    assert.equal(h.status + s.status + show.status, 0, h.stderr + s.stderr + show.stderr);
    delete p.position;
    out[`${p.job}:${p.rank}:${p.tag}`] = {
      job: p,
      history: h.stdout.trim().split('\n').filter(Boolean).map(strip).sort(),
      shapes: s.stdout.trim().split('\n').filter(Boolean).map(strip).sort(),
      show: show.stdout,
    };
  }
  const v = cli(db, ['verify']);
  assert.equal(v.status, 0, `verify: ${v.stdout}${v.stderr}`);
  return out;
}

/** The same files ingested in one go into a fresh ledger. */
function oneShot(name: string, inputs: string[], o: { origins?: boolean } = {}) {
  const db = join(dir, `${name}-oneshot.db`);
  const r = cli(db, ['ingest', ...inputs]);
  assert.equal(r.status, 0, r.stderr);
  return contents(db, o);
}

const TRACES = [join(TORCH, 'traces/cold-local.log'), join(TORCH, 'workload2/trace-rank0.log'), join(TORCH, 'workload2/trace-rank1.log'), join(TORCH, 'traces/warm-remote.log')];

/**
 * A writer: appends the traces round-robin in pieces of 0.5 to 4 KiB cut anywhere (mid-line
 * too), a few ms apart, and drops two profile pickles in half-way and at the end (written
 * to a dot file, then renamed, as PyTorch writes them).
 */
const WRITER = `
import { appendFileSync, chmodSync, copyFileSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
const [out, pickles, ...traces] = process.argv.slice(2);
let seed = 12;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const bufs = traces.map((t) => ({ name: join(out, 'trace_' + basename(t)), bytes: readFileSync(t), at: 0 }));
const drop = (p) => { const tmp = join(out, '.' + basename(p) + '.tmp'); copyFileSync(p, tmp); renameSync(tmp, join(out, basename(p))); };
const total = bufs.reduce((a, b) => a + b.bytes.length, 0);
let done = 0, dropped = 0;
const ps = pickles.split(',');
while (bufs.some((b) => b.at < b.bytes.length)) {
  for (const b of bufs) {
    if (b.at >= b.bytes.length) continue;
    const n = 512 + Math.floor(rnd() * 3584);
    const piece = b.bytes.subarray(b.at, b.at + n);
    appendFileSync(b.name, piece);
    b.at += piece.length;
    done += piece.length;
  }
  if (dropped === 0 && done > total / 2) drop(ps[dropped++]);
  await new Promise((r) => setTimeout(r, 20));
}
drop(ps[dropped++]);
`;

function startWriter(out: string): ChildProcess {
  const script = join(dir, 'writer.mjs');
  writeFileSync(script, WRITER);
  const pickles = [join(TORCH, 'local/code_state_fixture_None_.pkl'), join(TORCH, 'workload2/code_state_fixture2_0_.pkl')].join(',');
  const w = spawn(process.execPath, [script, out, pickles, ...TRACES], { stdio: 'ignore' });
  children.add(w);
  return w;
}

describe('watch (issue 12): following what PyTorch writes, as it is written (real processes)', () => {
  it('issue 12.2: killed with SIGKILL and restarted 10 times while a writer appends to traces and drops pickles, the ledger equals a one-shot ingest', async () => {
    const out = join(dir, 'kill', 'traces');
    mkdirSync(join(out, 'rank0'), { recursive: true });
    const db = join(dir, 'kill', 'watch.db');
    const writer = startWriter(out);
    const written = new Promise((r) => writer.once('exit', r));
    let killed = 0;
    let seenInputs = 0;
    let writingAt = 0;
    for (let i = 0; i < 10; i++) {
      const w = watching(db, [out, '--interval', '0.05', '--settle', '0.3']);
      // killed after its first pass, at a different point of a later one each time
      await w.until('a pass', () => w.lines.some((l) => l.report === 'pass'));
      await sleep((i * 97) % 250);
      if (writer.exitCode === null) writingAt++;
      seenInputs += w.lines.filter((l) => l.report === 'input').length;
      w.proc.kill('SIGKILL');
      assert.equal((await w.exit, w.proc.signalCode), 'SIGKILL');
      killed++;
    }
    await written;
    assert.equal(killed, 10);
    assert.ok(writingAt >= 5, `the writer was still writing at ${writingAt} of the kills`);
    assert.ok(seenInputs > 0, 'the killed watches ingested as they went');
    // the writer is done: once the logs are quiet, one last pass makes them final
    await sleep(500);
    const last = cli(db, ['watch', out, '--once', '--settle', '0.3', '--json']);
    assert.equal(last.status, 0, last.stderr);
    const files = [...TRACES.map((t) => join(out, `trace_${t.split('/').pop()}`)), join(out, 'code_state_fixture_None_.pkl'), join(out, 'code_state_fixture2_0_.pkl')];
    assert.deepEqual(contents(db, { origins: true }), oneShot('kill', files, { origins: true }));
    // a pass over unchanged, complete inputs appends nothing and reads nothing again
    const again = cli(db, ['watch', out, '--once', '--json']);
    const lines = again.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.filter((l) => l.report === 'input'), []);
    assert.equal(lines.at(-1).appended, 0);
  });

  it('issue 12.1: a partial last line is not ingested until its newline arrives; --json says how far behind', () => {
    const out = join(dir, 'partial');
    mkdirSync(out);
    const db = join(dir, 'partial.db');
    const text = readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8');
    const lines = text.split('\n');
    // the compilation_metrics of compile 0/1: its automatic_dynamic records become events only once it is read
    const at = lines.findIndex((l) => l.includes('"compilation_metrics": {"compile_id": "0/1"'));
    assert.ok(at > 0);
    const before = lines.slice(0, at).join('\n') + '\n';
    const half = lines[at].slice(0, Math.floor(lines[at].length / 2));
    const log = join(out, 'trace.log');
    writeFileSync(log, before + half);
    const r1 = cli(db, ['watch', out, '--once', '--json', '--settle', '3600']);
    assert.equal(r1.status, 0, r1.stderr);
    const j1 = r1.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const input = j1.find((l) => l.report === 'input');
    assert.equal(input.to, Buffer.byteLength(before), 'read up to the last newline, not into the partial line');
    assert.deepEqual(j1.at(-1).behind.bytes, Buffer.byteLength(half));
    const records = () => cli(db, ['history', '--job', 'fixture', '--json']).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(records().filter((h) => h.compile_id === '0/1').length, 0);
    // the rest of the line and the next line: now compile 0/1's records are in
    appendFileSync(log, lines[at].slice(half.length) + '\n' + lines[at + 1] + '\n');
    const r2 = cli(db, ['watch', out, '--once', '--json', '--settle', '3600']);
    assert.equal(r2.status, 0, r2.stderr);
    const j2 = r2.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(j2.find((l) => l.report === 'input').from, 0, 'a restart reads a growing log again from the start (its earlier events are duplicates)');
    assert.ok(records().filter((h) => h.compile_id === '0/1').length > 0);
    assert.equal(j2.at(-1).behind.bytes, 0);
    // and the whole log, once quiet, ends as a one-shot ingest of it
    writeFileSync(log, text);
    assert.equal(cli(db, ['watch', out, '--once', '--settle', '0.001']).status, 0);
    const full = join(dir, 'partial-full.log');
    writeFileSync(full, text);
    assert.deepEqual(contents(db), oneShot('partial', [full]));
  });

  it('issue 12.1: truncation and rotation are noticed and the new file is read from 0 as a new file', async () => {
    const out = join(dir, 'rotate');
    mkdirSync(out);
    const db = join(dir, 'rotate.db');
    const log = join(out, 'trace.log');
    copyFileSync(TRACES[0], log);
    const w = watching(db, [out, '--interval', '0.05', '--settle', '0.2']);
    const inputs = () => w.lines.filter((l) => l.report === 'input');
    await w.until('the first log, final', () => inputs().some((l) => l.to === readFileSync(TRACES[0]).length && (l.appended as number) > 0));
    await sleep(400);
    // truncated in place and written again (same inode, shorter): another run's log
    writeFileSync(log, readFileSync(join(TORCH, 'traces/warm-local.log')));
    await w.until('the truncation', () => /truncated or replaced/.test(w.stderr()));
    await w.until('the second log', () => inputs().filter((l) => (l.appended as number) > 0).length >= 2);
    await sleep(400);
    // rotated: renamed (its cursor goes with its inode: nothing again) and a new file at the old name
    renameSync(log, join(out, 'trace.log.1'));
    copyFileSync(TRACES[1], log);
    await w.until('the rotated log', () => inputs().filter((l) => (l.appended as number) > 0).length >= 3);
    await sleep(500);
    w.proc.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.stderr());
    const appended = inputs().filter((l) => (l.appended as number) > 0);
    assert.equal(appended.length, 3, JSON.stringify(inputs()));
    const copies = [TRACES[0], join(TORCH, 'traces/warm-local.log'), TRACES[1]].map((f, i) => {
      const c = join(dir, `rotate-${i}.log`);
      copyFileSync(f, c);
      return c;
    });
    assert.deepEqual(contents(db), oneShot('rotate', copies));
  });

  it('issue 12.3: SIGTERM mid-run finishes the batch and exits 0; the ledger verifies', async () => {
    const out = join(dir, 'term');
    mkdirSync(out);
    const db = join(dir, 'term.db');
    const writer = startWriter(out);
    const w = watching(db, [out, '--interval', '0.05']);
    await w.until('an input', () => w.lines.some((l) => l.report === 'input' && (l.appended as number) > 0));
    w.proc.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.stderr());
    writer.kill('SIGKILL');
    const v = cli(db, ['verify', '--json']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal(JSON.parse(v.stdout).ok, true);
  });

  it('issue 12.1: keyspace notifications bring a Redis write in at once, long before the next SCAN', async () => {
    const server = await startRedis();
    const db = join(dir, 'notify.db');
    const w = watching(db, [join(dir, 'no-such-folder-either'), '--redis', server.url, '--interval', '60']);
    await w.until('the first pass', () => w.lines.some((l) => l.report === 'pass'));
    await sleep(300); // subscribed after the first pass's connect
    const r = new Redis(server.url);
    assert.equal(await r.config('GET', 'notify-keyspace-events').then((x) => /K/.test(String((x as string[])[1]))), true);
    await r.set('pt2:dynamo-pgo::job-n:None::c1', readFileSync(join(TORCH, 'remote/redis_value.json'), 'utf8').trim());
    r.disconnect();
    // 10 s: the next SCAN is 60 s away, so only a notification can bring it in time
    await w.until('job-n', () => w.lines.some((l) => l.report === 'input' && String(l.input).endsWith('job-n:None::c1')), 10_000);
    w.proc.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.stderr());
    await server.stop();
  });

  it('issue 12.1, 12.3: Redis keys become events; a server that goes away is retried with a clear message and watch goes on', async () => {
    const server = await startRedis();
    const db = join(dir, 'redis.db');
    const value = readFileSync(join(TORCH, 'remote/redis_value.json'), 'utf8').trim();
    const r = new Redis(server.url);
    await r.set('pt2:dynamo-pgo::job-a:None::c1', value);
    r.disconnect();
    const w = watching(db, [join(dir, 'no-such-folder'), '--redis', server.url, '--interval', '0.2']);
    const redisInputs = () => w.lines.filter((l) => l.report === 'input' && l.kind === 'redis');
    await w.until('job-a', () => redisInputs().some((l) => String(l.input).endsWith('job-a:None::c1')));
    await server.stop();
    await w.until('the message', () => /(Redis at redis:\/\/127\.0\.0\.1:\d+: lost the connection|cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+).*trying again in \d+ s/.test(w.stderr()));
    await sleep(1500);
    assert.equal(w.proc.exitCode, null, 'watch does not exit on it');
    const again = await startRedis({ port: server.port });
    const r2 = new Redis(again.url);
    await r2.set('pt2:dynamo-pgo::job-b:None::c1', value);
    r2.disconnect();
    await w.until('job-b after the restart', () => redisInputs().some((l) => String(l.input).endsWith('job-b:None::c1')), 60_000);
    assert.match(w.stderr(), /connected again/);
    w.proc.kill('SIGINT');
    assert.equal(await w.exit, 0, w.stderr());
    // as `pull --all` of the same server gives
    const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jobs.map((j) => j.job).sort(), ['job-a', 'job-b']);
    const pulled = join(dir, 'pulled.db');
    assert.equal(cli(pulled, ['pull', again.url, '--all']).status, 0);
    assert.equal(cli(db, ['show', '--job', 'job-b']).stdout, cli(pulled, ['show', '--job', 'job-b']).stdout);
    await again.stop();
  });
});

// issue 12.3: watch, stats and merge --live work on every backend the store has.
for (const dialect of DIALECTS) {
  describe(`${dialect}: watch and the fleet views on every backend (issue 12.3)`, () => {
    it(`issue 12.3: ${dialect}: watch --once over traces and pickles equals a one-shot ingest; a second pass appends nothing; stats and merge --live answer`, () => {
      const folder = join(dir, `backends-${dialect}`);
      mkdirSync(join(folder, 'rank0'), { recursive: true });
      for (const t of TRACES) copyFileSync(t, join(folder, 'rank0', `trace_${t.split('/').pop()}`));
      copyFileSync(join(TORCH, 'local/code_state_fixture_None_.pkl'), join(folder, 'code_state_fixture_None_.pkl'));
      const watched = freshLedger(dialect);
      const w = cli(watched, ['watch', folder, '--once', '--json', '--settle', '0.01']);
      assert.equal(w.status, 0, w.stderr);
      const again = cli(watched, ['watch', folder, '--once', '--json', '--settle', '0.01']);
      assert.equal(again.status, 0, again.stderr);
      const appended = again.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { events?: number; appended?: number });
      assert.ok(appended.every((j) => !j.appended && !j.events), `a second pass appended: ${again.stdout}`);
      const oneshot = freshLedger(dialect);
      const i = cli(oneshot, ['ingest', folder]);
      assert.equal(i.status, 0, i.stderr);
      assert.deepEqual(contents(watched), contents(oneshot));
      const stats = cli(watched, ['stats', '--json']);
      assert.equal(stats.status, 0, stats.stderr);
      assert.ok(stats.stdout.trim().length > 0);
      const m = cli(watched, ['merge', '--from', 'fixture*', '--into', 'joined', '--live']);
      assert.equal(m.status, 0, m.stderr);
      assert.match(cli(watched, ['show', '--job', 'joined']).stdout, /L\['x'\]/);
    });
  });
}

/** why --json (every dynamic dim), history --json in log order and show, of each profile, less log positions. */
function story(db: string) {
  const jobs = cli(db, ['jobs', '--json']);
  assert.equal(jobs.status, 0, jobs.stderr);
  const unposition = (_k: string, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) && 'position' in v ? { ...v, position: undefined } : v);
  const out: Record<string, unknown> = {};
  for (const l of jobs.stdout.trim().split('\n').filter(Boolean)) {
    const p = JSON.parse(l) as { job: string; rank: number | null; tag: string };
    const sel = ['--job', p.job, '--rank', p.rank === null ? 'None' : String(p.rank), '--tag', p.tag];
    const why = cli(db, ['why', ...sel, '--json']);
    const h = cli(db, ['history', ...sel, '--json']);
    const show = cli(db, ['show', ...sel]);
    assert.equal(why.status + h.status + show.status, 0, why.stderr + h.stderr + show.stderr);
    out[`${p.job}:${p.rank}:${p.tag}`] = {
      why: JSON.stringify(JSON.parse(why.stdout), unposition),
      // not sorted: the order of the events is the story why tells
      history: h.stdout.trim().split('\n').filter(Boolean).map((x) => JSON.stringify(JSON.parse(x), unposition)),
      show: show.stdout,
    };
  }
  return out;
}

describe('watch: a log cut anywhere gives the events of a one-shot ingest, in its order (issue S3-watch.1)', () => {
  for (const trace of ['workload2/trace-rank0.log', 'traces/cold-local.log']) {
    it(`issue S3-watch.1: ${trace} split at lines 500, 900, 1200, 1545, 2000: watch --once twice equals a one-shot ingest (why --json, history --json, show)`, () => {
      const text = readFileSync(join(TORCH, trace), 'utf8');
      const lines = text.split(/(?<=\n)/);
      const folder = join(dir, 'split', trace.replace(/\W/g, '_'));
      const log = join(folder, 't.log');
      mkdirSync(folder, { recursive: true });
      writeFileSync(log, text);
      const oneshot = join(dir, 'split', `${trace.replace(/\W/g, '_')}-oneshot.db`);
      const i = cli(oneshot, ['ingest', log]);
      assert.equal(i.status, 0, i.stderr);
      const want = story(oneshot);
      for (const at of [500, 900, 1200, 1545, 2000]) {
        const db = join(dir, 'split', `${trace.replace(/\W/g, '_')}-${at}.db`);
        rmSync(log);
        writeFileSync(log, lines.slice(0, at).join(''));
        // just written: not final under the default --settle 30
        const w1 = cli(db, ['watch', folder, '--once']);
        assert.equal(w1.status, 0, w1.stderr);
        appendFileSync(log, lines.slice(at).join(''));
        const past = new Date(Date.now() - 10_000);
        utimesSync(log, past, past);
        const w2 = cli(db, ['watch', folder, '--once', '--settle', '1']);
        assert.equal(w2.status, 0, w2.stderr);
        assert.deepEqual(story(db), want, `split at line ${at}`);
      }
    });
  }
});

describe('watch: restarts read a log again only when it grew or settled (issue S3-watch.2)', () => {
  it('issue S3-watch.2: after ingest, a second watch --once of logs not final yet reads nothing again; once they settle they are read to their end, equal to a one-shot ingest', () => {
    const folder = join(dir, 'restart', 'traces');
    mkdirSync(folder, { recursive: true });
    for (const t of ['workload2/trace-rank0.log', 'traces/cold-local.log']) copyFileSync(join(TORCH, t), join(folder, t.split('/').pop()!));
    const db = join(dir, 'restart', 'watch.db');
    assert.equal(cli(db, ['ingest', folder]).status, 0);
    const pass = () => {
      const r = cli(db, ['watch', folder, '--once', '--json']);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { report: string; input?: string; from?: number; appended?: number });
    };
    const first = pass().filter((j) => j.report === 'input');
    assert.equal(first.length, 2, 'the first watch reads both logs (no cursor yet)');
    assert.ok(first.every((j) => j.from === 0 && j.appended === 0));
    const second = pass().filter((j) => j.report === 'input');
    assert.deepEqual(second, [], 'the cursors were saved with only duplicates: nothing is read again');
    const past = new Date(Date.now() - 60_000);
    for (const f of ['trace-rank0.log', 'cold-local.log']) utimesSync(join(folder, f), past, past);
    const settled = pass().filter((j) => j.report === 'input');
    assert.equal(settled.length, 2, 'settled logs are read once more, to their last entry');
    assert.deepEqual(pass().filter((j) => j.report === 'input'), [], 'and then never again');
    assert.deepEqual(story(db), story((() => {
      const o = join(dir, 'restart', 'oneshot.db');
      assert.equal(cli(o, ['ingest', folder]).status, 0);
      return o;
    })()));
  });
});

describe('watch: what it follows (issue S3-watch.3, S3-watch.4)', () => {
  it('issue S3-watch.3: watch --redis URL needs no path; with neither a path nor --redis it is a usage error (exit 2)', async () => {
    const server = await startRedis();
    const r = new Redis(server.url);
    await r.set('pt2:dynamo-pgo::job-r:None::c1', readFileSync(join(TORCH, 'remote/redis_value.json'), 'utf8').trim());
    r.disconnect();
    const db = join(dir, 'redis-only.db');
    const w = cli(db, ['watch', '--redis', server.url, '--once', '--json']);
    // one pass waits for no notification: the server's settings are left as they were (s18-trial3)
    const c = new Redis(server.url);
    const flags = ((await c.config('GET', 'notify-keyspace-events')) as string[])[1];
    c.disconnect();
    await server.stop();
    assert.equal(w.status, 0, w.stderr);
    assert.equal(flags, '', 'watch --once turned keyspace notifications on');
    assert.ok(w.stdout.split('\n').some((l) => l.includes('job-r:None::c1') && l.includes('"report":"input"')), w.stdout);
    const none = cli(join(dir, 'nothing.db'), ['watch', '--once']);
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /give trace folders or files to follow, --redis URL, or both/);
  });

  it('issue S3-watch.4: --settle 0 is refused (exit 2) with the least it takes and why; --settle 0.5 is taken', () => {
    const folder = join(dir, 'settle0');
    mkdirSync(folder, { recursive: true });
    const r = cli(join(dir, 'settle0.db'), ['watch', folder, '--once', '--settle', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--settle 0: the least is any time above 0 \(e\.g\. 0\.5 s\).*its last entry cut mid-write/);
    const ok = cli(join(dir, 'settle0.db'), ['watch', folder, '--once', '--settle', '0.5']);
    assert.equal(ok.status, 0, ok.stderr);
  });
});

describe('session 14 tryout: watch --redis', () => {
  it('a --redis that is no Redis URL is bad usage (exit 2) as for pull, not a server retried forever', () => {
    const folder = join(dir, 'bad-redis-url');
    mkdirSync(folder, { recursive: true });
    for (const args of [['--redis', 'localhost:6379', folder], ['--redis', 'http://localhost:6379']]) {
      const r = cli(join(dir, 'bad-redis-url.db'), ['watch', ...args, '--once']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /not a Redis URL \(want redis:\/\/ or rediss:\/\/\): /);
      assert.doesNotMatch(r.stderr, /trying again/);
    }
  });
});

describe('session 14 tryout: watch and folders the user may not read', () => {
  it('a subfolder closed to the user is said once on stderr (it was skipped silently); the others are read', () => {
    withClosedSubfolder(dir, 'watch-closed', { open: [join(TORCH, 'traces/cold-local.log')], hidden: [] }, ({ top, out, as }) => {
      const r = cliAs(join(out, 'w.db'), ['watch', top, '--once'], as);
      assert.equal(r.status, 2, r.stderr); // --once: a cron job must see it, as ingest's exit 2 says it
      assert.match(r.stderr, /closed: cannot list the folder: EACCES.*; tried again each pass/);
      assert.match(r.stderr, /watch --once: an input could not be taken \(said above\)/);
      assert.match(r.stdout, /cold-local\.log: trace bytes 0\.\.\d+: 53 events appended/);
    });
  });
});

describe('session 15: watch --once for cron', () => {
  it('a pass with an input it could not take, or a Redis away, exits 2 (it exited 0: cron never knew); the inputs it could take are in', async () => {
    const folder = join(dir, 'once-failed');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(TORCH, 'traces/cold-local.log'), join(folder, 'cold-local.log'));
    writeFileSync(join(folder, 'bad.pkl'), Buffer.from([0x80, 0x04, 0x95, 0xff]));
    const db = join(dir, 'once-failed.db');
    const r = cli(db, ['watch', folder, '--once', '--settle', '0.001', '--json']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad\.pkl: .*not ingested: /);
    assert.match(r.stderr, /watch --once: an input could not be taken \(said above\)/);
    const passLine = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((j) => j.report === 'pass');
    assert.equal(passLine.failed, 1);
    assert.equal(passLine.appended, 53, 'the good log went in');
    // a Redis that is not there: said, and exit 2 after the pass (the files still read)
    const server = await startRedis();
    const url = server.url;
    await server.stop();
    const away = cli(join(dir, 'once-redis-away.db'), ['watch', '--redis', url, '--once']);
    assert.equal(away.status, 2, away.stderr);
    assert.match(away.stderr, /watch: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    assert.match(away.stderr, /watch --once: an input could not be taken/);
  });

  it('a watched path it may not reach (a folder above it closed) is said as such and fails the pass, not "not there (yet)" (it waited silently)', () => {
    withClosedSubfolder(dir, 'watch-unreachable', { open: [join(TORCH, 'traces/cold-local.log')], hidden: [join(TORCH, 'traces/cold-local.log')] }, ({ top, closed, out, as }) => {
      const r = cliAs(join(out, 'w.db'), ['watch', join(closed, 'cold-local.log'), top, '--once'], as);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /closed\/cold-local\.log: cannot be reached: EACCES.*; tried again each pass/);
      assert.doesNotMatch(r.stderr, /not there \(yet\)/);
      // session 23: under --once a path not there fails the pass (exit 2), as a mistyped one must
      const missing = cliAs(join(out, 'w.db'), ['watch', join(top, 'not-yet'), '--once'], as);
      assert.equal(missing.status, 2, missing.stderr);
      assert.match(missing.stderr, /not-yet: no such file or folder: --once makes one pass and waits for none/);
    });
  });
});

describe('trial 16: a ledger that can take nothing more stops watch, for any kind of file', () => {
  it('an observation file met with the ledger full (ulimit -f) stops watch with exit 2 naming the ledger, as a trace did; ingest names it too', async () => {
    // watch said "not ingested: disk I/O error" of the file and went on polling, exit never
    const { builtCli } = await import('../../../test/support/build.ts');
    const folder = join(dir, 'full-ledger');
    mkdirSync(folder);
    const line = (i: number) => JSON.stringify({ job: 'full', run: 'r', time: 1764151200 + i, code: { filename: '/a.py', firstlineno: 1, name: 'f' }, source: 'x', kind: 'size', size: [8, (i % 97) + 1] });
    writeFileSync(join(folder, 'obs.jsonl'), Array.from({ length: 100_000 }, (_, i) => line(i)).join('\n') + '\n');
    for (const args of [['watch', folder, '--interval', '0.2'], ['ingest', join(folder, 'obs.jsonl')]]) {
      const db = join(dir, `full-${args[0]}.db`);
      const child = spawn('bash', ['-c', 'ulimit -f 2000; exec "$@"', 'bash', process.execPath, builtCli(), '--db', db, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
      const code = await Promise.race([new Promise<number | null>((r) => child.once('exit', (c) => r(c))), sleep(60_000).then(() => 'still running')]);
      assert.equal(code, 2, `${args[0]}: ${stderr}`);
      assert.match(stderr, new RegExp(`^pgo-ledger: the ledger ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: (disk I/O error|database or disk is full): this process may write no file past 2048000 bytes \\(its file-size limit, ulimit -f\\), the likely cause\\n`, 'm'), stderr);
      assert.equal(cli(db, ['verify']).status, 0);
    }
  });
});

describe('trial 17: watch --redis says why it cannot follow a server, as pull does', () => {
  it('a refused password and a database the server has not are named (watch said "cannot reach it (Connection is closed.)", and with /99 followed database 0 under /99 origins)', async () => {
    const server = await startRedis({ password: 'sekret' });
    try {
      const port = server.port;
      const wrong = cli(join(dir, 'redis-wrong-pw.db'), ['watch', '--redis', `redis://:wrong@127.0.0.1:${port}`, '--once']);
      assert.equal(wrong.status, 2, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`watch: Redis at redis://127\\.0\\.0\\.1:${port} refused the credentials: WRONGPASS.*; not tried again: --once makes one pass`));
      assert.doesNotMatch(wrong.stderr, /sekret|:wrong@/, 'no password in messages');
      // a profile at pt2:dynamo-pgo::… in database 0; the URL names database 99, which the server has not
      const r = new Redis(server.url);
      await r.set('pt2:dynamo-pgo::fixture:None::c1', readFileSync(join(TORCH, 'remote/redis_value.json')));
      r.disconnect();
      const db = join(dir, 'redis-db99.db');
      assert.equal(cli(db, ['ingest', join(TORCH, 'local/code_state_fixture_None_.pkl')]).status, 0);
      const before = cli(db, ['jobs']).stdout;
      const none = cli(db, ['watch', '--redis', `redis://:sekret@127.0.0.1:${port}/99`, '--once']);
      assert.equal(none.status, 2, none.stderr);
      assert.match(none.stderr, new RegExp(`watch: Redis at redis://127\\.0\\.0\\.1:${port}/99 has no database 99: .*DB index is out of range`));
      assert.equal(cli(db, ['jobs']).stdout, before, "database 0's key is not taken for database 99's");
      // a path that is no database number is bad usage at once, not a retry forever
      const bad = cli(db, ['watch', '--redis', `redis://127.0.0.1:${port}/abc`, '--once']);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /the path must be a database number/);
    } finally {
      await server.stop();
    }
  });
});

describe('trial 18: watch --redis and pull say one message of a server they cannot use', () => {
  it('a server away or a refused password is said once, without ioredis\' own "; Connection is closed." after it', async () => {
    const server = await startRedis({ password: 'sekret' });
    const port = server.port;
    try {
      const wrong = cli(join(dir, 'redis18-pw.db'), ['watch', '--redis', `redis://:wrong@127.0.0.1:${port}`, '--once']);
      assert.equal(wrong.status, 2, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`^watch: Redis at redis://127\\.0\\.0\\.1:${port} refused the credentials: WRONGPASS [^;\n]*; not tried again: --once makes one pass \\(exit 2 after it\\)\n`, 'm'));
      const pull = cli(join(dir, 'redis18-pw.db'), ['pull', '--all', `redis://:wrong@127.0.0.1:${port}`]);
      assert.equal(pull.status, 2, pull.stderr);
      // the ledger each made was new: taken back, said once at the end of the one message (session 23)
      assert.match(pull.stderr, new RegExp(`^pgo-ledger: Redis at redis://127\\.0\\.0\\.1:${port} refused the credentials: WRONGPASS [^;\n]*; nothing was written: the new ledger \\S*redis18-pw\\.db is removed\n$`));
      for (const r of [wrong, pull]) assert.doesNotMatch(r.stderr, /Connection is closed/);
    } finally {
      await server.stop();
    }
    const away = cli(join(dir, 'redis18-away.db'), ['watch', '--redis', `redis://127.0.0.1:${port}`, '--once']);
    assert.equal(away.status, 2, away.stderr);
    assert.match(away.stderr, new RegExp(`^watch: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; not tried again: --once makes one pass \\(exit 2 after it\\)\n`, 'm'));
    assert.doesNotMatch(away.stderr, /trying again/, 'one pass tries nothing again (it said "trying again in 1 s", then exited)');
    assert.doesNotMatch(away.stderr, /Connection is closed/);
  });
});

describe('trial 18: a second signal says what was committed', () => {
  it('SIGINT then SIGTERM while a pass waits on a Redis that never answers: the first is said, the second stops at once (exit 143) saying what is in the ledger, and it is', async () => {
    // a Redis that accepts and never answers holds the pass (ioredis waits for its ready check)
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    let connected!: () => void;
    const reached = new Promise<void>((r) => (connected = r));
    const mute = createServer((s) => {
      sockets.push(s);
      connected();
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as import('node:net').AddressInfo).port;
    try {
      const folder = join(dir, 'second-signal');
      mkdirSync(folder, { recursive: true });
      copyFileSync(join(TORCH, 'traces/cold-local.log'), join(folder, 'cold-local.log'));
      const db = join(dir, 'second-signal.db');
      // files go first in a pass, then Redis: the log is in (and reported) once Redis is reached
      const w = watching(db, [folder, '--redis', `redis://127.0.0.1:${port}`, '--settle', '600']);
      await reached;
      await w.until('the log reported', () => w.lines.some((l) => l.report === 'input'));
      const appended = w.lines.filter((l) => l.report === 'input').reduce((n, l) => n + Number(l.appended), 0);
      assert.ok(appended > 0);
      w.proc.kill('SIGINT');
      await w.until('the first signal said', () => /watch: SIGINT: finishing the input under way, then exiting \(a second signal stops at once\)\n/.test(w.stderr()));
      w.proc.kill('SIGTERM');
      assert.equal(await w.exit, 143, w.stderr());
      assert.match(w.stderr(), new RegExp(`watch: stopped at once by a second SIGTERM: the inputs reported ingested are in the ledger \\(${appended} events? appended by them\\); no input under way had committed a batch, and what one was reading was not written \\(rolled back\\): the next watch reads on from its last commit\n$`));
      const jobs = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(jobs.reduce((n, j) => n + Number(j.events), 0), appended, 'what it says is in, is');
    } finally {
      for (const s of sockets) s.destroy();
      mute.close();
    }
  });
});

describe('trial 17: a log gone before it was final is said', () => {
  it('a log deleted mid-write is said with how far it was read (it was forgotten silently, its waiting records with it); one renamed within the folder is not', async () => {
    const folder = join(dir, 'gone-mid-write');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    // cut where compile 0/1's records wait for its compilation_metrics (line 366 and on)
    writeFileSync(join(folder, 'c.log'), readFileSync(join(TORCH, 'traces/cold-local.log')).subarray(0, 58258));
    writeFileSync(join(folder, 'r.log'), readFileSync(join(TORCH, 'workload2/trace-rank0.log')).subarray(0, 100_000));
    const w = watching(join(dir, 'gone-mid-write.db'), [folder, '--interval', '0.2', '--settle', '600']);
    const read = (name: string) => w.lines.some((l) => l.report === 'input' && String(l.input).endsWith(name));
    await w.until('both logs read', () => read('c.log') && read('r.log'));
    rmSync(join(folder, 'c.log'));
    renameSync(join(folder, 'r.log'), join(folder, 'sub', 'r2.log'));
    await w.until('the note', () => /c\.log: gone before it was final/.test(w.stderr()));
    assert.match(w.stderr(), /c\.log: gone before it was final \(deleted or moved away\), read to byte 58258 \(line 418\): the events it had settled are in; its last entry and any record still waiting/);
    await sleep(600);
    assert.doesNotMatch(w.stderr(), /r\.log: gone/, 'a log renamed within the folder is read there, not gone');
    w.proc.kill('SIGINT');
    assert.equal(await w.exit, 0, w.stderr());
  });
});
