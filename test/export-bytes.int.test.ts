import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { entryFromJson, entryToJson } from '../src/codecs/entry-json.ts';
import { exportBytes } from '../src/adapters/export-profile.ts';
import { sourceNamesFor } from '../src/adapters/source-names.ts';
import { ingestFile } from '../src/adapters/ingest-file.ts';
import { FLOAT_PICKLES } from '../src/codecs/pickle/float-pickles.ts';
import { InferStride } from '../src/model/atoms.ts';
import { openLedger, type Ledger } from '../src/store/ledger.ts';
import { verifyLedger } from '../src/store/verify.ts';
import { FIXTURES, fixture } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';
import { DIALECTS, ledgerAt } from './support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const BIG = ['big-7-0', 'big-7-1', 'big-7-2', 'big-7-3', 'big-7-4', 'big-8-0', 'big-8-1'];

  function exported(ledger: Ledger, job: string): Buffer {
    const p = ledger.profileByKey(`${job}:None:`)!;
    // as the command line exports it: the source names shared as the imported pickle had them
    return Buffer.from(exportBytes(ledger.view(p.id).profile, { format: 'pickle', cacheKey: p.cacheKey, sourceNames: sourceNamesFor(ledger, p.id) }));
  }

  describe('issue 8.5: big-canonical profiles ingested and exported are CPython\'s bytes', () => {
    it('all 7: from the inline view, a reopened ledger and a replay', async () => {
      const db = ledgerAt(dialect, tempDir(), 'big.db');
      let ledger = await openLedger(db);
      for (const n of BIG) await ingestFile(ledger, join(FIXTURES, `oracle/big-canonical-dev/${n}.pkl`), { defaults: { job: n } });
      // Their stride tuples hold equal InferStrides as distinct objects (CPython pickles each).
      for (const n of BIG) assert.ok(exported(ledger, n).equals(fixture(`oracle/big-canonical-dev/${n}.pkl`)), `${n}, inline view`);
      await ledger.close();
      ledger = await openLedger(db);
      for (const n of BIG) assert.ok(exported(ledger, n).equals(fixture(`oracle/big-canonical-dev/${n}.pkl`)), `${n}, reopened`);
      ledger.replay();
      assert.deepEqual(verifyLedger(ledger).differences, []);
      for (const n of BIG) assert.ok(exported(ledger, n).equals(fixture(`oracle/big-canonical-dev/${n}.pkl`)), `${n}, after replay`);
      await ledger.close();
    });

    it('float scalars (specialize_float=False, 2.11\'s default) are ingested, stored, replayed and exported as CPython pickled them', async () => {
      const dir = tempDir();
      const file = join(dir, 'code_state_fl_None_.pkl');
      writeFileSync(file, Buffer.from(FLOAT_PICKLES[4], 'base64'));
      const ledger = await openLedger(ledgerAt(dialect, dir, 'fl.db'));
      try {
        await ingestFile(ledger, file, { defaults: { job: 'fl' } });
        assert.ok(exported(ledger, 'fl').equals(Buffer.from(FLOAT_PICKLES[4], 'base64')), 'inline view');
        ledger.replay();
        assert.deepEqual(verifyLedger(ledger).differences, []);
        assert.ok(exported(ledger, 'fl').equals(Buffer.from(FLOAT_PICKLES[4], 'base64')), 'after replay');
        assert.deepEqual(entryToJson(entryFromJson({ scalar: { float: 'nan' }, size: 'dynamic', stride: 'dynamic' })).scalar, { float: 'nan' });
      } finally {
        await ledger.close();
      }
    });

    it('entry JSON keeps which InferStrides in a tuple are one object', () => {
      const a = new InferStride(2);
      const b = new InferStride(2);
      const shared = { scalar: 1, size: [3, 1, 1], stride: [a, a, 1] } as const;
      const fresh = { scalar: 1, size: [3, 1, 1], stride: [a, b, 1] } as const;
      assert.deepEqual(entryToJson(shared).stride, [{ infer: 2 }, { infer: 2 }, 1]);
      assert.deepEqual(entryToJson(fresh).stride, [{ infer: 2 }, { infer: 2, obj: 1 }, 1]);
      const s = entryFromJson(entryToJson(shared)).stride as InferStride[];
      const f = entryFromJson(entryToJson(fresh)).stride as InferStride[];
      assert.equal(s[0], s[1]);
      assert.notEqual(f[0], f[1]);
      // The oracle's spelling (no "obj") still means Dynamo's one shared object per dim.
      const o = entryFromJson({ scalar: 1, size: [3, 1, 1], stride: [{ infer: 2 }, { infer: 2 }, 1] }).stride as InferStride[];
      assert.equal(o[0], o[1]);
    });
  });
});
