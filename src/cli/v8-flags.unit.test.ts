import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT } from '../../test/support/build.ts';

it("the command line raises V8's budget, and gives Node's own flags back (their code cache's tag) while a worker starts", () => {
  // In a process of its own: V8's flags are process-wide.
  const script = `
    const v8 = require('node:v8');
    const own = v8.cachedDataVersionTag();
    require(${JSON.stringify(join(ROOT, 'bin/v8-flags.cjs'))}).raise();
    const raised = v8.cachedDataVersionTag();
    const raiseAgain = globalThis[Symbol.for('pgo-ledger.nodeFlags')]();
    const lowered = v8.cachedDataVersionTag();
    raiseAgain();
    console.log(JSON.stringify({ own, raised, lowered, again: v8.cachedDataVersionTag() }));`;
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(r.stdout) as { own: number; raised: number; lowered: number; again: number };
  assert.notEqual(t.raised, t.own);
  assert.equal(t.lowered, t.own);
  assert.equal(t.again, t.raised);
});
