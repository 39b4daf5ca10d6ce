import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliTogether } from '../../test/support/cli.ts';
import { DIALECTS, freshLedger } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { openLedger } from './ledger.ts';
import { verifyLedger } from './verify.ts';

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    it(`issue 11.4: ${dialect}: two processes ingesting the same file at once append its events once (the unique idempotency key)`, async () => {
      const dir = tempDir();
      const db = freshLedger(dialect, dir);
      await (await openLedger(db)).close();
      const file = join(dir, 'same.jsonl');
      const n = 6000;
      const lines = Array.from(
        { length: n },
        (_, i) => `{"job":"idem","rank":${i % 3},"code":{"filename":"/m.py","firstlineno":${i % 50},"name":"f","file_hash":"h"},"source":"L['x']","kind":"tensor","size":[${8 << i % 4},4],"stride":[4,1]}`,
      );
      writeFileSync(file, lines.join('\n') + '\n');
      const go = join(dir, 'go');
      const rs = (await cliTogether([0, 1].map(() => ({ db, args: ['ingest', '--json', file] })), go)).map((r) => {
        assert.equal(r.status, 0, `ingest exited ${r.status}: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as { appended: number; duplicates: number };
      });
      assert.equal(rs[0].appended + rs[1].appended, n, JSON.stringify(rs));
      assert.equal(rs[0].duplicates + rs[1].duplicates, n, JSON.stringify(rs));
      const l = await openLedger(db, { readonly: true });
      try {
        assert.equal(Number(l.sql.get<{ n: number }>('select count(*) n from events')!.n), n);
        assert.equal(Number(l.sql.get<{ n: number }>('select count(distinct idempotency_key) n from events')!.n), n);
        assert.deepEqual(verifyLedger(l).differences, []);
      } finally {
        await l.close();
      }
    });
  });
}
