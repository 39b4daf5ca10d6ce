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

it('an observation ingest runs without on-stack replacement, its flags set back after the last of those under way; a worker started meanwhile gets Node’s own flags', () => {
  const script = `
    const v8 = require('node:v8');
    const own = v8.cachedDataVersionTag();
    require(${JSON.stringify(join(ROOT, 'bin/v8-flags.cjs'))}).raise();
    const raised = v8.cachedDataVersionTag();
    const ingest = globalThis[Symbol.for('pgo-ledger.ingestFlags')];
    const back1 = ingest();
    const during = v8.cachedDataVersionTag();
    const back2 = ingest();
    back1();
    back1(); // a second call is no call
    const nested = v8.cachedDataVersionTag();
    const raiseAgain = globalThis[Symbol.for('pgo-ledger.nodeFlags')]();
    const worker = v8.cachedDataVersionTag();
    raiseAgain();
    const again = v8.cachedDataVersionTag();
    back2();
    console.log(JSON.stringify({ own, raised, during, nested, worker, again, after: v8.cachedDataVersionTag() }));`;
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(r.stdout) as Record<'own' | 'raised' | 'during' | 'nested' | 'worker' | 'again' | 'after', number>;
  assert.notEqual(t.during, t.raised);
  assert.notEqual(t.during, t.own);
  assert.equal(t.nested, t.during, 'one ingest of two ended: the other still runs without it');
  assert.equal(t.worker, t.own);
  assert.equal(t.again, t.during);
  assert.equal(t.after, t.raised);
});
