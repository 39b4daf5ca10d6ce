import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { codeIdLabel, codeKey } from '../model/code-id.ts';
import { codeIdsIn, matchCodeIn } from './code-ref.ts';
import { openLedger } from './ledger.ts';

for (const dialect of DIALECTS)
  describe(`${dialect}: the code ids a --code is matched against (codeIdsIn)`, () => {
    it("the whole log's are the stored view's, in its order, read without its entries; a window's are its fold's", async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'codes.db'));
      await ingestFile(l, join(TORCH, 'traces/cold-local.log'));
      const pid = l.profileByKey('fixture:None:')!.id;
      const keys = (ids: Parameters<typeof codeKey>[0][]) => ids.map(codeKey);
      const stored = [...l.view(pid).profile.codes.values()].map((c) => c.id);
      assert.ok(stored.length > 1);
      assert.deepEqual(keys(codeIdsIn(l, pid)), keys(stored));
      // as of the profile's first events: fewer code ids, the fold's
      const first = l.sql.get<{ p: number }>("select min(position) p from events where profile_id = ?", pid)!.p;
      const early = codeIdsIn(l, pid, { untilPosition: first });
      assert.deepEqual(keys(early), keys([...l.fold(pid, { untilPosition: first }).profile.codes.values()].map((c) => c.id)));
      assert.ok(early.length < stored.length);
      // a code id the window leaves out is said to be so (trial s31: "no code id matches", as of a typo)
      const later = stored.find((c) => !keys(early).includes(codeKey(c)))!;
      const label = codeIdLabel(later);
      assert.throws(() => matchCodeIn(l, pid, { untilPosition: first }, label, '--code'), (e: Error) => e.message === `no code id matches --code ${label} as of ${first}: the profile holds ${label} in its whole log, not in this window (a point before its first event, or runs left out that alone brought it)`);
      // a typo is not said to be elsewhere
      assert.throws(() => matchCodeIn(l, pid, { untilPosition: first }, 'nope', '--code'), (e: Error) => e.message === `no code id matches --code nope as of ${first}`);
      // the code ids a window's error lists are the window's, said so
      const last = l.sql.get<{ p: number }>('select max(position) p from events where profile_id = ?', pid)!.p;
      assert.throws(() => matchCodeIn(l, pid, { untilPosition: last }, 'nope', '--code'), (e: Error) => e.message.startsWith(`no code id matches --code nope as of ${last} (there are, in this window: `));
      assert.equal([later].filter(matchCodeIn(l, pid, {}, label)).length, 1);
      await l.close();
    });
  });
