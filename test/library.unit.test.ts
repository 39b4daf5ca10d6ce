import assert from 'node:assert/strict';
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
