import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { cli, cliSpawn, cliSpawnWith } from '../../test/support/cli.ts';
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

    it('SIGINT mid-file stops at once, exit 130, saying what is in the ledger; whole batches only; the same ingest again adds the rest', async (t) => {
      const db = ledgerAt(dialect, dir, 'stopped.db');
      const file = join(dir, 'many.jsonl');
      const n = 300_000;
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(JSON.stringify({ job: 'stopped', run: `run-${i % 7}`, code: { filename: '/srv/m.py', firstlineno: 1 + (i % 50), name: 'f', file_hash: 'abc' }, source: `L['x${i % 13}']`, kind: 'tensor', size: [i % 5, 8], stride: [8, 1] }));
      writeFileSync(file, lines.join('\n') + '\n');
      const child = cliSpawn(db, ['ingest', file, join(dir, 'never-read.jsonl')]);
      const got = collected(child);
      const end = exited(child);
      // stopped once its first batches are in
      let seen = 0;
      for (let i = 0; i < 600 && seen === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (made(db)) [seen] = numbersOf(db, 'select count(*) from events');
      }
      child.kill('SIGINT');
      const { code, signal } = await end;
      const [kept] = numbersOf(db, 'select count(*) from events');
      t.diagnostic(`stopped after ${kept} of ${n} events`);
      assert.ok(kept > 0 && kept < n, `stopped mid-way (${kept} events): ${got.stderr}`);
      assert.deepEqual({ code, signal }, { code: 130, signal: null }, got.stderr);
      assert.match(
        got.stderr,
        /pgo-ledger: ingest stopped by SIGINT: 0 of 2 inputs read before it, in the ledger \(0 events appended\); \S*many\.jsonl was being read: what it committed stays \(observation lines 10,000 to a transaction, a folder's files one by one\), the rest of it was not written; not read: \S*never-read\.jsonl; ingest the same inputs again to go on: what is in the log is not added twice\n/,
      );
      assert.equal(kept % 10_000, 0, 'whole batches of 10000 only');
      const v = cli(db, ['verify']);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      const again = cli(db, ['ingest', file]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`${n - kept} events appended, ${kept} already in the log`));
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
      const said = 'ingest stopped by SIGTERM: 0 of 1 input read before it, in the ledger (0 events appended); standard input was being read: what it committed stays';
      assert.ok(got.stderr.startsWith(`pgo-ledger: ${said}`), got.stderr);
      const json = got.stdout.trim().split('\n').map((l) => JSON.parse(l) as { error: string });
      assert.equal(json.length, 1);
      assert.ok(json[0].error.startsWith(said), json[0].error);
      if (dialect === 'sqlite') {
        assert.match(got.stderr, /pgo-ledger: nothing was written: the new ledger \S*stdin\.db is removed\n$/);
        assert.equal(existsSync(db), false);
      } else assert.deepEqual(numbersOf(db, 'select count(*) from events'), [0]);
    });
  });
