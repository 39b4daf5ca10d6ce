// Runs a command (npm test's node --test) with ONE PostgreSQL server for the whole run:
// starts it, exports PGO_LEDGER_TEST_PG (its superuser's URL; test/support/postgres.ts makes a
// database per ledger there), runs the command, and stops the server however the command ends.
import { spawn } from 'node:child_process';
import { register } from 'tsx/esm/api';

register();
const { startPgServer } = await import('../test/support/postgres-server.ts');
const server = startPgServer();
const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, PGO_LEDGER_TEST_PG: server.adminUrl } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  server.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
