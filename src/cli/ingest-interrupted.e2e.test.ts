import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { cli, cliSpawnWith } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt, numbersOf } from '../../test/support/postgres.ts';

// A new user's trial (s30): Ctrl-C of a long ingest ended it with no word of what was in the ledger.

const exited = (c: ChildProcess) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((go) => c.on('exit', (code, signal) => go({ code, signal })));
/** Whether the ledger's tables are made (asked without an error a server would log). */
const made = (db: string) => {
  try {
    return numbersOf(db, /^postgres/.test(db) ? "select count(*) from pg_class where relname = 'events'" : "select count(*) from sqlite_master where name = 'events'")[0] > 0;
  } catch {
    return false; // no file yet
  }
};
const collected = (c: ChildProcess) => {
  const got = { stdout: '', stderr: '' };
  c.stdout!.on('data', (d) => (got.stdout += d));
  c.stderr!.on('data', (d) => (got.stderr += d));
  return got;
};

for (const dialect of DIALECTS)
  describe(`${dialect}: ingest stopped by a signal`, () => {
    const dir = tempDir();

    it('SIGINT mid-input stops at once, exit 130, saying what is in the ledger (the batches committed, counted); the same ingest again adds the rest', async (t) => {
      const db = ledgerAt(dialect, dir, 'stopped.db');
      const n = 25_000;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(JSON.stringify({ job: 'stopped', run: `run-${i % 7}`, code: { filename: '/srv/m.py', firstlineno: 1 + (i % 50), name: 'f', file_hash: 'abc' }, source: `L['x${i % 13}']`, kind: 'tensor', size: [i % 5, 8], stride: [8, 1] }));
      const text = lines.join('\n') + '\n';
      // standard input held open: two batches of 10,000 lines commit, the last 5,000 wait for more
      const child = cliSpawnWith(db, ['ingest', '-', join(dir, 'never-read.jsonl')], { stdio: ['pipe', 'pipe', 'pipe'] });
      const got = collected(child);
      const end = exited(child);
      // (the stop may leave lines of it unread in the pipe)
      child.stdin!.on('error', () => {});
      child.stdin!.write(text);
      let seen = 0;
      for (let i = 0; i < 600 && seen < 20_000; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (made(db)) [seen] = numbersOf(db, 'select count(*) from events');
      }
      assert.equal(seen, 20_000, got.stderr);
      child.kill('SIGINT');
      const { code, signal } = await end;
      const [kept] = numbersOf(db, 'select count(*) from events');
      t.diagnostic(`stopped after ${kept} of ${n} events`);
      assert.equal(kept, 20_000, 'whole batches of 10000 only');
      assert.deepEqual({ code, signal }, { code: 130, signal: null }, got.stderr);
      // what the input under way committed is counted (the second trial s32: "0 events appended" of 190,000 committed)
      assert.match(
        got.stderr,
        /^pgo-ledger: ingest stopped by SIGINT: 0 of 2 inputs read before it \(0 events appended\); standard input was being read: 20000 events of it appended \(0 already in the log\) by what it committed, which stays, and the rest of it was not written \(observation lines go in 10,000 to a transaction, a folder's files one by one, any other file whole\); not read: \S*never-read\.jsonl; 20000 events appended in all; ingest the same inputs again to go on: what is in the log is not added twice\n$/,
      );
      const v = cli(db, ['verify']);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      const again = cli(db, ['ingest', '-'], text);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /5000 events appended, 20000 already in the log/);
    });

    it('SIGTERM while reading standard input: exit 143, said on stdout too under --json; a new ledger it wrote nothing to is taken back', async () => {
      const db = ledgerAt(dialect, dir, 'stdin.db');
      const child = cliSpawnWith(db, ['ingest', '-', '--json', '--job', 'j'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const got = collected(child);
      const end = exited(child);
      // one line, less than a batch: nothing commits until the input ends
      child.stdin!.write(`${JSON.stringify({ run: 'r', code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [2], stride: [1] })}\n`);
      // the handlers are set once the ledger is open: its tables are there
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (made(db)) break;
      }
      await new Promise((r) => setTimeout(r, 1000));
      child.kill('SIGTERM');
      const { code, signal } = await end;
      assert.deepEqual({ code, signal }, { code: 143, signal: null }, got.stderr);
      const said = 'ingest stopped by SIGTERM: 0 of 1 input read before it (0 events appended); standard input was being read: 0 events of it appended (0 already in the log) by what it committed';
      assert.ok(got.stderr.startsWith(`pgo-ledger: ${said}`), got.stderr);
      const json = got.stdout.trim().split('\n').map((l) => JSON.parse(l) as { error: string });
      assert.equal(json.length, 1);
      const { error, ...fields } = json[0];
      assert.ok(error.startsWith(said), error);
      assert.deepEqual(fields, { signal: 'SIGTERM', appended: 0, inputs_read: 0, under_way: { input: '-', appended: 0, duplicates: 0 }, not_read: [] });
      if (dialect === 'sqlite') {
        assert.match(got.stderr, /pgo-ledger: nothing was written: the new ledger \S*stdin\.db is removed\n$/);
        assert.equal(existsSync(db), false);
      } else assert.deepEqual(numbersOf(db, 'select count(*) from events'), [0]);
    });
  });
