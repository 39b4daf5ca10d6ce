import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli, cliSpawn } from '../../../test/support/cli.ts';
import { tempDir } from '../../../test/support/tmp.ts';

// Session 20: a second signal while observation lines were still being read said "the inputs
// reported ingested are in the ledger (0 events appended by them); so are the batches an input
// under way committed": no count, where the ledger held 20,000 events of that input.
const dir = tempDir('pgo-watch-signal-');

/** Events in the ledger, read beside the watch writing it (0 before its first commit). */
function events(db: string): number {
  if (!existsSync(db)) return 0;
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (d.prepare("select count(*) n from sqlite_master where name = 'events'").get() as { n: number }).n ? (d.prepare('select count(*) n from events').get() as { n: number }).n : 0;
  } finally {
    d.close();
  }
}

/** `watch` of these args, its stderr, and its exit; `until` waits for what it says. */
function watching(db: string, args: string[]) {
  const proc = cliSpawn(db, ['watch', ...args]);
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const until = async (what: string, ok: () => boolean) => {
    for (const end = Date.now() + 60_000; !ok(); await sleep(10)) {
      if (Date.now() > end || proc.exitCode !== null) throw new Error(`no ${what}: ${stderr}`);
    }
  };
  return { proc, exit, until, stderr: () => stderr };
}

describe('watch: a second signal while an input is still being read', () => {
  it('says what of that input its committed batches appended, and that is what the ledger holds', async () => {
    const folder = join(dir, 'lines');
    mkdirSync(folder, { recursive: true });
    // many batches (10,000 lines each): the second signal comes while the file is still being read
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(JSON.stringify({ job: 'sig', run: 'r1', time: 1764151200 + i, code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'a' }, source: `L['n${i % 7}']`, kind: 'scalar', value: i % 5 }));
    writeFileSync(join(folder, 'big.jsonl'), lines.join('\n') + '\n');
    const db = join(dir, 'signal.db');
    const { proc, exit, until, stderr: err } = watching(db, [folder]);
    await until('first batch committed', () => events(db) > 0);
    proc.kill('SIGINT');
    await until('the first signal said', () => /watch: SIGINT: finishing the input under way/.test(err()));
    proc.kill('SIGTERM');
    assert.equal(await exit, 143, err());
    const stderr = err();
    const m = /watch: stopped at once by a second SIGTERM: the inputs reported ingested are in the ledger \(0 events appended by them\); so are ([\d,]+) events of (\S+), still being read, appended by the batches it committed before the signal; the rest of it was not written \(rolled back\): the next watch reads on from its last commit\n$/.exec(stderr);
    assert.ok(m, stderr);
    assert.equal(m[2], join(folder, 'big.jsonl'));
    const said = Number(m[1].replace(/,/g, ''));
    assert.ok(said > 0 && said < lines.length, `${said}`);
    const held = cli(db, ['jobs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { events: number });
    assert.equal(held.reduce((n, j) => n + j.events, 0), said, 'what it says is in, is');
  });

  it('one event reported, none under way: said in the singular, and that no input had committed a batch', async () => {
    // a Redis that accepts and never answers holds the pass after the files (ioredis waits for its ready check)
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    let connected!: () => void;
    const reached = new Promise<void>((r) => (connected = r));
    const mute = createServer((c) => (sockets.push(c), connected()));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const folder = join(dir, 'one');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'one.jsonl'), JSON.stringify({ job: 'one', run: 'r1', time: 5, code: { filename: '/m.py', firstlineno: 1, name: 'f' }, source: "L['n']", kind: 'scalar', value: 1 }) + '\n');
      const w = watching(join(dir, 'one.db'), [folder, '--redis', `redis://127.0.0.1:${(mute.address() as import('node:net').AddressInfo).port}`]);
      await reached;
      await w.until('the file read', () => events(join(dir, 'one.db')) === 1);
      w.proc.kill('SIGINT');
      await w.until('the first signal said', () => /watch: SIGINT: finishing/.test(w.stderr()));
      w.proc.kill('SIGTERM');
      assert.equal(await w.exit, 143, w.stderr());
      assert.match(w.stderr(), /watch: stopped at once by a second SIGTERM: the inputs reported ingested are in the ledger \(1 event appended by them\); no input under way had committed a batch, and what one was reading was not written \(rolled back\): the next watch reads on from its last commit\n$/);
    } finally {
      for (const c of sockets) c.destroy();
      mute.close();
    }
  });
});
