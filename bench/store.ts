import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ingestObservations } from '../src/adapters/ingest-observations.ts';
import { readLines } from '../src/adapters/read-lines.ts';
import { openLedger } from '../src/store/ledger.ts';

/** Realistic observation lines: 8 jobs, 200 code ids, a few sources each, mostly repeating shapes. */
async function generate(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = i % 200;
    const src = (i >> 3) % 4;
    const batch = [8, 16, 8, 32][(i >> 10) % 4];
    const line =
      src === 3
        ? { job: `train-${i % 8}`, run: `r${i >> 17}`, code: { filename: `/srv/train/model${code % 10}.py`, firstlineno: 10 + code, name: `forward_${code}`, file_hash: 'd02731e6' }, source: "L['self'].n", kind: 'scalar', value: (i >> 12) % 3 }
        : { job: `train-${i % 8}`, run: `r${i >> 17}`, code: { filename: `/srv/train/model${code % 10}.py`, firstlineno: 10 + code, name: `forward_${code}`, file_hash: 'd02731e6' }, source: `L['x${src}']`, kind: 'tensor', size: [batch, 128, 64], stride: [8192, 64, 1] };
    buf.push(JSON.stringify(line));
    if (buf.length === 10000) {
      if (!out.write(buf.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = [];
    }
  }
  out.end(buf.join('\n') + (buf.length ? '\n' : ''));
  await new Promise<void>((r) => out.on('finish', () => r()));
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);

export async function benchStore(n = 1_000_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pgo-bench-store-'));
  try {
    const file = join(dir, 'obs.jsonl');
    await generate(file, n);

    // raw: the same lines into a one-column table, one transaction per 10000 lines
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('create table raw(line text)');
    const ins = raw.prepare('insert into raw(line) values (?)');
    const tx = raw.transaction((lines: string[]) => {
      for (const l of lines) ins.run(l);
    });
    let t0 = performance.now();
    let lines: string[] = [];
    for await (const { text } of readLines(file)) {
      lines.push(text);
      if (lines.length === 10000) {
        tx(lines);
        lines = [];
      }
    }
    tx(lines);
    const rawS = (performance.now() - t0) / 1000;
    raw.close();

    const ledger = await openLedger(join(dir, 'ledger.db'));
    globalThis.gc?.();
    let peak = 0;
    const marks: string[] = [];
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
    const timer = setInterval(sample, 100);
    t0 = performance.now();
    let next = n / 4;
    const s = await ingestObservations(ledger, file, {
      onProgress: () => {
        sample();
        const done = ledger.sql.get<{ n: number }>('select max(position) n from events')!.n;
        if (done >= next) {
          marks.push(`${done}: ${mb(peak)} MB`);
          next += n / 4;
        }
      },
    });
    const ingestS = (performance.now() - t0) / 1000;
    const ingestPeak = peak;

    globalThis.gc?.();
    peak = 0;
    const replayMarks: string[] = [];
    t0 = performance.now();
    const r = ledger.replay((k) => {
      sample();
      if (k % (n / 4) === 0) replayMarks.push(`${k}: ${mb(peak)} MB`);
    });
    const replayS = (performance.now() - t0) / 1000;
    clearInterval(timer);
    await ledger.close();

    console.log(`event store, ${n} generated observations (${s.records} recompile reasons)`);
    console.log(`  ingest: ${(s.appended / ingestS).toFixed(0)} observations/s (${ingestS.toFixed(1)} s)`);
    console.log(`  raw better-sqlite3 insert of the same lines: ${(n / rawS).toFixed(0)} lines/s (${rawS.toFixed(1)} s); ingest takes ${(ingestS / rawS).toFixed(2)}x as long`);
    console.log(`  replay: ${(r.events / replayS).toFixed(0)} events/s (${replayS.toFixed(1)} s)`);
    console.log(`  peak RSS: ingest ${mb(ingestPeak)} MB (after ${marks.join(', ')}), replay ${mb(peak)} MB (after ${replayMarks.join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
