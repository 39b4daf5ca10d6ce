import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A storm: rank 0 run r1 sees 1,000 batches of 8 then three of 256 (and an int 4, once 7); run r2, two hours on, a third source; rank 1 one record. */
export function stormLines(file: string): string {
  const lines: string[] = [];
  const at = (h: number, m: number, s = 0) => new Date(Date.UTC(2026, 10, 26, h, m, s)).toISOString();
  const code = (name: string) => ({ filename: '/srv/train.py', firstlineno: 24, name, file_hash: 'd02731e6' });
  const obs = (o: Record<string, unknown>) => lines.push(JSON.stringify({ job: 'storm', rank: 0, tag: '', ...o }));
  for (let i = 0; i < 1000; i++) obs({ run: 'r1', time: at(10, Math.floor(i / 60), i % 60), code: code('forward'), source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1] });
  for (let i = 0; i < 500; i++) obs({ run: 'r1', time: at(10, 20, i % 60), code: code('forward'), source: "L['n']", kind: 'scalar', value: 4 });
  for (let i = 0; i < 3; i++) obs({ run: 'r1', time: at(10, 30, i), code: code('forward'), source: "L['x']", kind: 'tensor', size: [256, 128], stride: [128, 1] });
  obs({ run: 'r1', time: at(10, 31), code: code('forward'), source: "L['n']", kind: 'scalar', value: 7 });
  for (const [i, n] of [1, 2, 3].entries()) obs({ run: 'r2', time: at(12, 10, i), code: code('loss'), source: "L['y']", kind: 'size', size: [n] });
  lines.push(JSON.stringify({ job: 'storm', rank: 1, tag: '', run: 'r1b', time: at(10, 5), code: code('forward'), source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1] }));
  lines.push(JSON.stringify({ job: 'storm', rank: 1, tag: '', run: 'r1b', time: at(10, 6), code: code('forward'), source: "L['x']", kind: 'tensor', size: [8, 64], stride: [64, 1] }));
  lines.push(JSON.stringify({ job: 'calm', run: 'c1', time: at(10, 0), code: code('forward'), source: "L['x']", kind: 'tensor', size: [8, 128], stride: [128, 1] }));
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Two ranks of job `one` merged live into `one-all`: rank 0 sees [8, 128]; rank 1, ingested
 * after the merge began, [8, 128] then [256, 128] (dim 0 turns dynamic): a dim of the merge
 * seen in one observation (s18-trial3). `ingest` runs each step and says whether it went well.
 */
export function twoRanksMerged(dir: string, ingest: (args: string[]) => boolean): void {
  const code = { filename: '/srv/train.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
  const obs = (rank: number, time: string, size: number[]) => JSON.stringify({ job: 'one', rank, tag: '', run: `r${rank}`, time, code, source: "L['x']", kind: 'tensor', size, stride: [size[1], 1] });
  const f0 = join(dir, 'one0.jsonl');
  const f1 = join(dir, 'one1.jsonl');
  writeFileSync(f0, obs(0, '2026-11-26T10:00:00Z', [8, 128]) + '\n');
  writeFileSync(f1, [obs(1, '2026-11-26T10:00:00Z', [8, 128]), obs(1, '2026-11-26T10:02:00Z', [256, 128])].join('\n') + '\n');
  for (const args of [['ingest', f0], ['merge', '--from', 'one:*', '--into', 'one-all', '--live'], ['ingest', f1]]) if (!ingest(args)) throw new Error(`${args.join(' ')} failed`);
}
