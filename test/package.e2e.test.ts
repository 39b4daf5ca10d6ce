import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { ROOT, built } from './support/build.ts';
import { TORCH } from './support/fixtures.ts';
import { freshPgDatabase } from './support/postgres.ts';
import { tempDir } from './support/tmp.ts';

function run(cmd: string, args: string[], cwd: string): string {
  // Without the test runner's NODE_TEST_CONTEXT, which would make a child node a test runner's child.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

it('issue 8.9: npm pack installs and imports in a plain Node app', () => {
  for (const f of ['dist/index.mjs', 'dist/index.d.ts', 'dist/pgo-ledger.cjs', 'dist/pgo-ledger.cjs.cache', 'dist/observation-worker.mjs', 'dist/pg-worker.mjs']) built(f);
  const dir = tempDir();
  // The build is npm test's first step; packing must not rebuild dist/ under other tests.
  const [pack] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
  const files = pack.files.map((f) => f.path);
  for (const f of ['package.json', 'README.md', 'bin/pgo-ledger.cjs', 'bin/v8-flags.cjs', 'dist/index.mjs', 'dist/index.d.ts', 'dist/types/src/index.d.ts', 'dist/pgo-ledger.cjs', 'dist/pgo-ledger.cjs.cache', 'dist/cli/lazy-zod.cjs', 'dist/observation-worker.mjs', 'dist/pg-worker.mjs']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.deepEqual(files.filter((f) => /^(test|src|bench|scripts|migrations|\.ci)\/|\.db$|tsbuildinfo|bench\.mjs/.test(f)), []);

  // A plain app with the tarball unpacked as npm would, and the runtime dependencies (only
  // those: no tsx, no TypeScript) beside it, taken from this checkout (no registry here).
  const app = join(dir, 'app');
  const mod = join(app, 'node_modules');
  mkdirSync(join(mod, 'pgo-ledger'), { recursive: true });
  run('tar', ['-xzf', join(dir, pack.filename), '-C', join(mod, 'pgo-ledger'), '--strip-components=1'], dir);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(pkg.dependencies), '@types/node']) {
    mkdirSync(dirname(join(mod, dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(mod, dep), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  writeFileSync(join(app, 'obs.jsonl'), JSON.stringify({ job: 'j', code: { filename: 'm.py', firstlineno: 1, name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [8, 4], stride: [4, 1] }) + '\n');

  const script = `    import { openLedger, ingestFile, ingestObservations, renderProfile } from 'pgo-ledger';
    const ledger = await openLedger('app.db');
    await ingestFile(ledger, ${JSON.stringify(join(TORCH, 'traces/cold-local.log'))});
    await ingestObservations(ledger, 'obs.jsonl', { worker: true }); // dist/observation-worker.mjs
    const keys = ledger.profiles().map((p) => p.cacheKey);
    console.log(JSON.stringify({ keys, render: renderProfile(ledger.view(ledger.profileByKey('fixture:None:').id).profile).length > 0 }));
    await ledger.close();`;
  // A file, not -e: a worker inherits the parent's execArgv, and --input-type fails in a worker.
  writeFileSync(join(app, 'main.js'), script);
  assert.deepEqual(JSON.parse(run(process.execPath, ['main.js'], app)), { keys: ['fixture:None:', 'j:None:'], render: true });
  // The installed command line reads the same database.
  const jobs = run(process.execPath, [join(mod, 'pgo-ledger/bin/pgo-ledger.cjs'), '--db', 'app.db', 'jobs', '--json'], app);
  assert.equal(jobs.trim().split('\n').length, 2);
  // issue 11.1: the same library on a PostgreSQL URL (its bridge: dist/pg-worker.mjs), and the command line on it
  const pgDb = freshPgDatabase();
  writeFileSync(join(app, 'pg.js'), script.replace("openLedger('app.db')", `openLedger(${JSON.stringify(pgDb)})`));
  assert.deepEqual(JSON.parse(run(process.execPath, ['pg.js'], app)), { keys: ['fixture:None:', 'j:None:'], render: true });
  assert.equal(run(process.execPath, [join(mod, 'pgo-ledger/bin/pgo-ledger.cjs'), '--db', pgDb, 'jobs', '--json'], app).trim().split('\n').length, 2);

  // A TypeScript consumer type-checks against the shipped declarations (no skipLibCheck).
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2022'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, files: ['app.ts'] }));
  writeFileSync(
    join(app, 'app.ts'),
    "import { openLedger, type Ledger } from 'pgo-ledger';\nconst l: Ledger = await openLedger('t.db');\nconst n: number = l.profiles().length;\n// @ts-expect-error: not in the API\nl.profilez();\nconsole.log(n);\n",
  );
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
});
