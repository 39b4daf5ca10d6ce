import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli, cliSpawn } from '../../../test/support/cli.ts';
import { tempDir } from '../../../test/support/tmp.ts';

const dir = tempDir('pgo-watch-grown-');
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// two sources, sizes that change: profiles with dynamic dims; `job` names another writer's lines
const line = (i: number, job = 'rec', run = 'r') => JSON.stringify({ job, run, time: 1764151200 + i, code: { filename: '/a.py', firstlineno: 1, name: 'f' }, source: i % 3 ? 'x' : 'y', kind: 'size', size: [8, (i % 97) + 1] });
// a blank line and a CRLF line among them: line numbers count every line, as ingest counts them
const lines = (from: number, to: number, job?: string, run?: string) => Array.from({ length: to - from }, (_, k) => line(from + k, job, run) + ((from + k) % 50 === 7 ? '\r\n' : (from + k) % 50 === 9 ? '\n\n' : '\n')).join('');

interface Report {
  report: string;
  input?: string;
  appended?: number;
  duplicates?: number;
  failed?: number;
}

/**
 * A running watch polling every 50 ms of `folder` and of a marker file in `marks`, and its --json
 * lines as they come. A line appended to the marker, once in, says a pass began after what was
 * written before it (a pass with nothing to say prints nothing).
 */
function watching(db: string, folder: string, marks: string) {
  const marker = join(marks, 'mark.jsonl');
  writeFileSync(marker, '');
  const proc = cliSpawn(db, ['watch', folder, marks, '--interval', '0.05', '--json']);
  children.add(proc);
  const out: Report[] = [];
  let stderr = '';
  let rest = '';
  let marked = 0;
  proc.stdout!.on('data', (b: Buffer) => {
    const parts = (rest += b.toString('utf8')).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) out.push(JSON.parse(p));
  });
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const all = () => out.filter((r) => r.report === 'input');
  const inputs = () => all().filter((r) => r.input !== marker);
  const count = (rs: Report[]) => rs.reduce((a, r) => a + r.appended!, 0);
  const wait = async (what: string, ok: () => boolean) => {
    const end = Date.now() + 30_000;
    while (!ok()) {
      assert.ok(Date.now() < end, `no ${what} within 30 s: ${JSON.stringify(out.slice(-4))}; ${stderr}`);
      assert.equal(proc.exitCode, null, stderr);
      await sleep(20);
    }
  };
  return {
    proc,
    marker,
    inputs,
    /** Until a pass that began after now ended: a marker line in, twice (the pass that took the first may have seen the other files before now). */
    async passed(): Promise<void> {
      for (let k = 0; k < 2; k++) {
        appendFileSync(marker, line(marked++, 'mark') + '\n');
        await wait('marker', () => count(all().filter((r) => r.input === marker)) >= marked);
      }
    },
    /** Until `n` events of the folder's files were appended in all, and a pass after that ended. */
    async until(n: number): Promise<void> {
      await wait(`${n} events`, () => count(inputs()) >= n);
      await this.passed();
    },
    async stop(): Promise<void> {
      proc.kill('SIGTERM');
      const code = await new Promise((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.once('exit', r)));
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /not ingested|failed/);
      assert.deepEqual(out.filter((r) => r.report === 'pass' && r.failed), [], stderr);
    },
  };
}

/** What a ledger holds, as the command line says it (history --json less positions, show, verify), and each event's idempotency key and line. */
function contents(db: string) {
  const jobs = cli(db, ['jobs', '--json']);
  assert.equal(jobs.status, 0, jobs.stderr);
  const out: Record<string, unknown> = {};
  for (const l of jobs.stdout.trim().split('\n').filter(Boolean)) {
    const p = JSON.parse(l) as { job: string; rank: number | null; tag: string; position?: number };
    const sel = ['--job', p.job, '--rank', p.rank === null ? 'None' : String(p.rank), '--tag', p.tag];
    const strip = (x: string) => {
      const j = JSON.parse(x);
      delete j.position;
      return JSON.stringify(j);
    };
    const h = cli(db, ['history', ...sel, '--json']);
    const show = cli(db, ['show', ...sel]);
    assert.equal(h.status + show.status, 0, h.stderr + show.stderr);
    delete p.position;
    out[`${p.job}:${p.rank}:${p.tag}`] = { job: p, history: h.stdout.trim().split('\n').filter(Boolean).map(strip).sort(), show: show.stdout };
  }
  const v = cli(db, ['verify']);
  assert.equal(v.status, 0, `verify: ${v.stdout}${v.stderr}`);
  out.verify = v.stdout;
  const raw = new Database(db, { readonly: true });
  try {
    out.keys = raw.prepare('select idempotency_key k, origin_line line, time from events order by idempotency_key, time').all();
  } finally {
    raw.close();
  }
  return out;
}

/** A ledger from one-shot ingests of `file`, once per text it held (written there in turn), and of the marker file. */
function oneShot(name: string, file: string, texts: string[], marker: string) {
  const db = join(dir, `${name}-oneshot.db`);
  for (const t of texts) {
    writeFileSync(file, t);
    const r = cli(db, ['ingest', file]);
    assert.equal(r.status, 0, r.stderr);
  }
  const r = cli(db, ['ingest', marker]);
  assert.equal(r.status, 0, r.stderr);
  return contents(db);
}

/** A folder holding obs.jsonl with `text`, a running watch of it, and its ledger. */
function watched(name: string, text: string) {
  const folder = join(dir, name);
  mkdirSync(join(folder, 'marks'), { recursive: true });
  mkdirSync(join(folder, 'obs'));
  const file = join(folder, 'obs', 'obs.jsonl');
  writeFileSync(file, text);
  const db = join(dir, `${name}.db`);
  return { file, db, w: watching(db, join(folder, 'obs'), join(folder, 'marks')) };
}

describe('watch: observation lines that only grew are read from where this watch read them to', () => {
  it('a file appended to in several passes: each later pass reads only its new lines (no duplicates), and the ledger equals a one-shot ingest (history --json, show, verify, idempotency keys)', async () => {
    const { file, db, w } = watched('grown', lines(0, 300));
    await w.until(300);
    appendFileSync(file, lines(300, 700));
    await w.until(700);
    appendFileSync(file, lines(700, 1000));
    await w.until(1000);
    await w.stop();
    // before: the 2nd and 3rd passes read the whole file again, 300 and 700 lines in as duplicates
    // (summed: a pass may meet an append half written, and take it in two)
    const sum = (k: 'appended' | 'duplicates') => w.inputs().reduce((a, r) => a + r[k]!, 0);
    assert.deepEqual([sum('appended'), sum('duplicates')], [1000, 0]);
    // the cursor is the one a pass over the whole file writes: a restart that finds the file
    // touched (its size and mtime no longer the cursor's) finds its hash the same, reads nothing
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    const again = cli(db, ['watch', file, '--once', '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.stdout.trim().split('\n').map((l) => JSON.parse(l).report), ['pass'], again.stdout);
    const final = readFileSync(file, 'utf8');
    assert.deepEqual(contents(db), oneShot('grown', file, [final], w.marker));
  });

  it('a growth past 4 MiB (its new lines alone parsed on the ingest worker) is keyed as a one-shot ingest keys it', async () => {
    const { file, db, w } = watched('grown-big', lines(0, 500));
    await w.until(500);
    const big = lines(500, 40_000);
    assert.ok(big.length > 4 << 20);
    appendFileSync(file, big);
    await w.until(40_000);
    await w.stop();
    assert.equal(w.inputs().reduce((a, r) => a + r.duplicates!, 0), 0);
    assert.deepEqual(contents(db), oneShot('grown-big', file, [readFileSync(file, 'utf8')], w.marker));
  });

  it('lines read before and made unreadable since (the head kept) are not read again: the new lines go in', async () => {
    const text = lines(0, 200);
    const { file, db, w } = watched('garbled', text);
    await w.until(200);
    // line 101 turned to bytes that are no JSON, same length, the file's head and the bytes before where it was read to kept
    const at = text.indexOf(line(100));
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('#'.repeat(line(100).length)), 0, line(100).length, at);
    closeSync(fd);
    appendFileSync(file, lines(200, 260));
    // before: the pass read line 101 again and failed the file, "not ingested", the 60 new lines never in
    await w.until(260);
    await w.stop();
    assert.deepEqual(contents(db), oneShot('garbled', file, [lines(0, 260)], w.marker));
  });

  it('a half-written last line waits across passes; a last line that is whole JSON without its newline is read again once lines follow it', async () => {
    const { file, db, w } = watched('half', lines(0, 100) + line(100).slice(0, 40));
    await w.until(100);
    appendFileSync(file, line(100).slice(40) + '\n' + lines(101, 150) + line(150).slice(0, 70));
    await w.until(150);
    appendFileSync(file, line(150).slice(70) + '\n' + lines(151, 200) + line(200));
    await w.until(201);
    appendFileSync(file, '\n' + lines(201, 230));
    await w.until(230);
    await w.stop();
    // line 201 was read whole without its newline: read again with the lines after it, as a pass over the whole file reads it
    // (before: each pass read the whole file again, 100 + 150 + 201 duplicates)
    assert.deepEqual([w.inputs().reduce((a, r) => a + r.appended!, 0), w.inputs().reduce((a, r) => a + r.duplicates!, 0)], [230, 1]);
    assert.deepEqual(contents(db), oneShot('half', file, [readFileSync(file, 'utf8')], w.marker));
  });

  it('truncated, or cut and written again past where it was read to, or replaced by a file with another head: read from 0 as a new file, as ingest reads it', async () => {
    const first = lines(0, 120);
    const { file, db, w } = watched('cut', first);
    await w.until(120);
    // cut and written again while watch was held (it never saw it short): the head the same, the
    // lines after line 40 of another run, as long as before, and more after them (read on from
    // where it was read to, lines 41-120 would be missed)
    const cut = lines(0, 40) + lines(40, 150, 'rec', 's');
    assert.equal(cut.indexOf(line(120, 'rec', 's')), first.length);
    w.proc.kill('SIGSTOP');
    writeFileSync(file, cut);
    w.proc.kill('SIGCONT');
    await w.passed();
    // truncated: fewer bytes than were read
    writeFileSync(file, lines(0, 40));
    await w.passed();
    // written again in place with another head, then replaced by another file (another inode)
    w.proc.kill('SIGSTOP');
    const other = lines(500, 700, 'rec3');
    writeFileSync(file, other);
    w.proc.kill('SIGCONT');
    await w.passed();
    const replaced = lines(500, 700, 'rec3') + lines(700, 760, 'rec4');
    writeFileSync(file + '.new', replaced);
    renameSync(file + '.new', file);
    await w.passed();
    await w.stop();
    assert.deepEqual(contents(db), oneShot('cut', file, [first, cut, lines(0, 40), other, replaced], w.marker));
  });
});
