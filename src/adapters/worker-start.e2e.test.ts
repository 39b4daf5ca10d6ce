import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { built, builtCli, ROOT } from '../../test/support/build.ts';
import { tempDir } from '../../test/support/tmp.ts';

const dir = tempDir();

it('the built ingest worker loads zod and pako only on first use, and zod still words a bad line there', () => {
  // No import of either at the worker's start: it parses surely valid lines without zod and deflates nothing.
  const worker = readFileSync(built('dist/observation-worker.mjs'), 'utf8');
  assert.deepEqual(worker.match(/^import .* from "(zod|pako)";$/gm), null);

  // A big file (past 4 MiB: the worker parses it) whose line 20001 zod must check and word.
  const obs = join(dir, 'big.jsonl');
  const line = (i: number) => JSON.stringify({ job: `j${i % 2}`, run: 'r', time: 1795600000 + i, code: { filename: `/srv/${'p'.repeat(120)}/m${i % 7}.py`, firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [8 + (i % 3), 4], stride: [4, 1] });
  const lines = Array.from({ length: 25_000 }, (_, i) => line(i));
  lines[20_000] = lines[20_000].replace('"stride":[4,1]', '"stride":"4"');
  writeFileSync(obs, lines.join('\n') + '\n');
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [builtCli(), '--db', join(dir, 'big.db'), 'ingest', '--skip-invalid', obs], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /skipped .*big\.jsonl:20001: field stride: Invalid input: expected array, received string/);
  assert.match(r.stdout, /24999 events appended, 0 already in the log, 1 invalid line skipped/);
});
