import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliSpawnWith } from './support/cli.ts';
import { pgBin, startPgServer, type PgServer } from './support/postgres-server.ts';
import { tempDir } from './support/tmp.ts';

// A PostgreSQL server that stops answering mid-session (its processes SIGSTOPped: the
// connections stay open and silent, as behind a hung host or a network partition). Trial s31:
// `ingest` and `watch` waited for the 600 s backstop, and watch took SIGTERM only then.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = tempDir('pgo-pg-stops-');
let server: PgServer;
const children = new Set<ChildProcess>();

before(() => {
  server = startPgServer();
});
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  server.resume();
  server.stop();
});

/** A new database of this test's server: its URL. */
function freshDb(): string {
  const name = `s_${Math.random().toString(36).slice(2, 10)}`;
  psql(server.adminUrl, `create database ${name} template template0`);
  const u = new URL(server.adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function psql(url: string, text: string): string[] {
  const out = execFileSync(pgBin('psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', text], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean);
}

/** The events of a ledger, or -1 before its tables exist. */
function events(url: string): number {
  try {
    return Number(psql(url, 'select count(*) from events')[0]);
  } catch {
    return -1;
  }
}

const line = (i: number, job = 'j') => JSON.stringify({ job, code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'a' }, source: "L['x']", kind: 'scalar', value: i }) + '\n';
const lines = (from: number, to: number, job?: string) => Array.from({ length: to - from }, (_, k) => line(from + k, job)).join('');

/** A spawned command line, its output gathered and its end awaited (or a deadline, then SIGKILL). */
function spawned(db: string, args: string[], env: NodeJS.ProcessEnv) {
  const proc = cliSpawnWith(db, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(proc);
  proc.stdin!.on('error', () => {}); // lines it never read: it stopped first (EPIPE)
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    /** How it ended and when (ms since `since`), or null at the deadline (the process is then killed). */
    async ended(since: number, deadlineMs: number) {
      const t = await Promise.race([exit, sleep(deadlineMs).then(() => null)]);
      if (t === null) proc.kill('SIGKILL');
      return t && { ...t, ms: Date.now() - since };
    },
  };
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(100);
  }
}

describe('trial s31: a PostgreSQL server that stops answering mid-session', () => {
  it('ingest fails within seconds (exit 2) saying the server stopped answering, not after the 600 s backstop; the ledger keeps whole batches and verifies once the server is back', async () => {
    const db = freshDb();
    // the probe at 2 s (the default is 10 s): a new connection gets no answer from a stopped server within 3 s
    const ingest = spawned(db, ['ingest', '-'], { PGO_LEDGER_PG_PROBE_MS: '2000' });
    // stdin's lines go in 10,000 a transaction: two committed, then the server stops, then the third batch's lines
    ingest.proc.stdin!.write(lines(0, 25_000));
    try {
      await until('two batches committed', () => events(db) >= 20_000);
      server.pause();
      const t0 = Date.now();
      ingest.proc.stdin!.end(lines(25_000, 35_000));
      const r = await ingest.ended(t0, 40_000);
      assert.ok(r, `ingest still running 40 s after the server stopped: ${ingest.stderr()}`);
      assert.equal(r.code, 2, ingest.stderr());
      assert.ok(r.ms < 15_000, `${r.ms} ms`);
      assert.match(ingest.stderr(), /postgres:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/s_\w+: the server stopped answering: no answer within \d+ s, and a new connection got none within 3 s/);
      assert.ok(!ingest.stderr().includes(new URL(db).password), 'no password in messages');
    } finally {
      server.resume();
    }
    // the batch under way was never committed: the server rolled it back once its connection went
    const n = events(db);
    assert.ok(n === 20_000 || n === 30_000, `${n} events: not whole batches`);
    const v = cli(db, ['verify']);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    // and ingesting it again adds the rest, once
    const again = cli(db, ['ingest', '-', '--json'], lines(0, 35_000));
    assert.equal(again.status, 0, again.stderr);
    assert.equal(events(db), 35_000);
  });

  /** A watch (the probe at 2 s) that took a.jsonl, then its server stopped as b.jsonl came: the caller resumes it. */
  async function watchOnStoppedServer(name: string) {
    const db = freshDb();
    const folder = join(dir, name);
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.jsonl'), lines(0, 100, 'a'));
    const w = spawned(db, ['watch', folder, '--interval', '0.2', '--settle', '0.2'], { PGO_LEDGER_PG_PROBE_MS: '2000' });
    await until("a.jsonl's events", () => events(db) === 100);
    server.pause();
    const t0 = Date.now();
    writeFileSync(join(folder, 'b.jsonl'), lines(0, 500, 'b'));
    return { db, w, t0 };
  }

  it('watch on a server that stopped answering stops with exit 2 saying so (the probe at 2 s)', async () => {
    const { db, w, t0 } = await watchOnStoppedServer('watched-2');
    try {
      const r = await w.ended(t0, 40_000);
      assert.ok(r, `watch still running 40 s after the server stopped: ${w.stderr()}`);
      assert.equal(r.code, 2, w.stderr());
      assert.ok(r.ms < 15_000, `${r.ms} ms`);
      assert.match(w.stderr(), /the server stopped answering: no answer within \d+ s, and a new connection got none within 3 s[^\n]*\n\s+watch stopped/);
    } finally {
      server.resume();
    }
    assert.equal(cli(db, ['verify']).status, 0);
  });

  it('watch blocked on a stopped server and sent SIGTERM ends once the probe fails the call (seconds), not when the 600 s wait ends; nothing half-written', async () => {
    const { db, w } = await watchOnStoppedServer('watched-3');
    try {
      await sleep(1000);
      const t0 = Date.now();
      // its handler runs once the blocked call returns: the probe fails it within seconds
      w.proc.kill('SIGTERM');
      const r = await w.ended(t0, 40_000);
      assert.ok(r, `watch still running 40 s after SIGTERM: ${w.stderr()}`);
      assert.ok(r.ms < 15_000, `${r.ms} ms`);
      assert.ok(r.code === 2 || r.code === 143, JSON.stringify(r) + w.stderr());
    } finally {
      server.resume();
    }
    assert.equal(cli(db, ['verify']).status, 0);
    const n = events(db);
    assert.ok(n === 100 || n === 600, `${n} events`);
  });

  it('a slow statement on a live server is not cut off: the probe answers, the call waits on', () => {
    const db = freshDb();
    const sessions = () => Number(psql(server.adminUrl, 'select sum(sessions) from pg_stat_database')[0]);
    // a script of its own: the probe interval is read when the bridge's worker starts
    const script = `const { openPostgres } = await import(${JSON.stringify(new URL('../src/store/dialect/postgres.ts', import.meta.url).href)});
const db = await openPostgres(${JSON.stringify(db)});
const t0 = Date.now();
const r = db.sql.get('select pg_sleep(4.5), 7 as n');
console.log(JSON.stringify({ n: r.n, ms: Date.now() - t0 }));
await db.close();`;
    const before = sessions();
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...env, PGO_LEDGER_PG_PROBE_MS: '1000' }, timeout: 60_000 });
    const r = JSON.parse(out) as { n: number; ms: number };
    assert.equal(r.n, 7);
    assert.ok(r.ms >= 4500, `${r.ms} ms`);
    // the probes ran (a new session each, about one a second while it slept) and answered
    // (less the script's own session and those of the psql runs of sessions(), each counted once it ends)
    let probes = 0;
    for (let i = 0; i < 20 && probes < 3; i++) {
      probes = sessions() - before - 2 - i;
      if (probes < 3) execFileSync('sleep', ['0.2']);
    }
    assert.ok(probes >= 3, `${probes} probe sessions`);
  });
});

