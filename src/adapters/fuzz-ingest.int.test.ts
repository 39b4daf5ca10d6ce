import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { classify, fullMessage } from '../errors.ts';
import { crc32 } from '../model/file-hash.ts';
import { openLedger, type Ledger } from '../store/ledger.ts';
import { verifyLedger } from '../store/verify.ts';
import { ingestFile } from './ingest-file.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  /**
   * Issue 9 "done when": a bounded fuzz run through the real ingest. Every mutated input ends
   * in events or a clear error (never one of JavaScript's own, which would be a bug), within a
   * deadline each (no hang), with memory bounded; the ledger verifies at the end. Seeded, so a
   * failing case replays; the whole run stops at its time budget.
   */
  const BUDGET_MS = 25_000;
  const PER_INPUT_MS = 10_000;
  const dir = tempDir();

  function rng(seed: number) {
    return () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
  }

  const NASTY = ['', '\u0000', '\n', '\ud800', ':', '1e300', '-1', '9'.repeat(400), '[]', '{}', 'null', '"', '\\', '\t'];

  /** Byte flips, cuts, duplicated slices and nasty tokens dropped in. */
  function mutate(src: Buffer, r: () => number): Buffer {
    let b = Buffer.from(src);
    const n = 1 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(r() * b.length);
      const op = Math.floor(r() * 5);
      if (op === 0) b[at] = Math.floor(r() * 256);
      else if (op === 1) b = b.subarray(0, at);
      else if (op === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + Math.floor(r() * 200)), b.subarray(at)]);
      else if (op === 3) b = Buffer.concat([b.subarray(0, at), Buffer.from(NASTY[Math.floor(r() * NASTY.length)]), b.subarray(at + 1)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 50))]);
    }
    return b;
  }

  const line = (i: number) =>
    JSON.stringify({ job: 'fuzz', run: `r${i % 3}`, time: 1000 + i, code: { filename: '/srv/m.py', firstlineno: 1 + (i % 5), name: 'f', file_hash: 'abc' }, source: `L['x${i % 4}']`, kind: i % 3 ? 'tensor' : 'scalar', size: [i % 7, 8], stride: [8, 1], value: i });

  const sources: { name: string; bytes: Buffer; fix?: (b: Buffer) => Buffer; job?: string }[] = [
    { name: 'obs.jsonl', bytes: Buffer.from(Array.from({ length: 40 }, (_, i) => line(i)).join('\n') + '\n') },
    // Without has_payload the mutations reach the payload parsers instead of the MD5 check.
    { name: 'trace.log', bytes: Buffer.from(readFileSync(join(TORCH, 'traces/cold-local.log'), 'utf8').replace(/, "has_payload": "[0-9a-f]+"/g, '')) },
    { name: 'code_state_fuzz_None_.pkl', bytes: readFileSync(join(TORCH, 'protocols/code_state_p0.pkl')) },
    { name: 'code_state_fuzz_None_.pkl', bytes: readFileSync(join(TORCH, 'protocols/code_state_p4.pkl')) },
    { name: 'bundle.bin', bytes: readFileSync(join(TORCH, 'megacache/eager-cold-run.bin')), fix: (b) => (b.length >= 4 ? (b.writeUInt32BE(crc32(b.subarray(4)), 0), b) : b) },
    { name: 'value.json', bytes: readFileSync(join(TORCH, 'remote/redis_value.json')), job: 'fuzz' },
  ];

  async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms (a hang)`)), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  describe('issue 9: bounded fuzz run through the real ingest', () => {
    it('issue 9 fuzz: mutated observation lines, traces, pickles and bundles end in events or a clear error; never a crash, hang or unbounded memory', async (t) => {
      const l: Ledger = await openLedger(ledgerAt(dialect, dir, 'fuzz.db'));
      const r = rng(9);
      const start = Date.now();
      const seen = { ok: 0, refused: 0 };
      let i = 0;
      for (; Date.now() - start < BUDGET_MS && i < 3000; i++) {
        const src = sources[i % sources.length];
        let b = mutate(src.bytes, r);
        if (src.fix && r() < 0.8) b = src.fix(b);
        const file = join(dir, `${i}-${src.name}`);
        writeFileSync(file, b);
        const what = `mutation ${i} of ${src.name}`;
        try {
          await within(PER_INPUT_MS, ingestFile(l, file, { defaults: { job: src.job }, skipInvalid: r() < 0.5, onNote: () => {} }), what);
          seen.ok++;
        } catch (e) {
          if (/a hang/.test((e as Error).message)) throw e;
          assert.notEqual(classify(e), 'bug', `${what}: ${(e as Error)?.stack}`);
          const m = fullMessage(e);
          assert.ok(m.includes(file) && m.length < 10_000, `${what}: the message names the file, briefly: ${m.slice(0, 500)}`);
          seen.refused++;
        }
        assert.ok(process.memoryUsage().rss < 2 * 2 ** 30, `${what}: rss ${process.memoryUsage().rss}`);
      }
      t.diagnostic(`${i} inputs: ${seen.ok} ingested, ${seen.refused} refused`);
      assert.ok(i >= sources.length * 5, `only ${i} inputs in the budget`);
      assert.ok(seen.ok > 0 && seen.refused > 0, JSON.stringify(seen));
      assert.deepEqual(verifyLedger(l).differences, []);
      await l.close();
    });
  });
});
