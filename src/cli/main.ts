import { Command, CommanderError } from 'commander';
import { runCli } from './run.ts';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const program = new Command();
runCli(program, process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`pgo-ledger: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.PGO_LEDGER_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.exitCode = 2;
  },
);
