import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import * as lib from '../src/index.ts';
import { TORCH, fixtureText } from './support/fixtures.ts';
import { tempDir } from './support/tmp.ts';

it('the library API does what the README says', async () => {
  const ledger = await lib.openLedger(join(tempDir(), 'lib.db'));
  await lib.ingestFile(ledger, join(TORCH, 'traces/cold-local.log'));
  const p = ledger.profileByKey('fixture:None:')!;
  assert.equal(lib.renderProfile(ledger.view(p.id).profile), fixtureText('torch-2.11/render/eager-cold-run.txt'));
  assert.equal(lib.explain(ledger, p.id, { source: "L['n']", dim: { field: 'scalar' } })[0].dynamic, true);
  await ledger.close();
});

it("a bad observation line throws the library's one error type, of kind input", async () => {
  const dir = tempDir();
  const ledger = await lib.openLedger(join(dir, 'lib.db'));
  const lines = join(dir, 'obs.jsonl');
  writeFileSync(lines, '{"job": "j", "run": "r", "code": {"filename": "f.py", "firstlineno": 1, "name": "f"}, "source": "L[\'x\']", "kind": "tensor", "size": [1], "stride": [1, 2]}\n');
  await assert.rejects(lib.ingestFile(ledger, lines), (e: unknown) => {
    assert.ok(e instanceof lib.LedgerError, `${(e as Error).name} is no LedgerError`);
    assert.equal(e.kind, 'input');
    assert.match(e.message, /obs\.jsonl:1: field stride/);
    return true;
  });
  await ledger.close();
});
