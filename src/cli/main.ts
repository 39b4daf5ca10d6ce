import { CommanderError } from 'commander';
import { classify, fullMessage } from '../errors.ts';
import { runCli } from './program.ts';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const EXIT = { input: 2, check: 1, bug: 70 } as const;

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    const kind = classify(e);
    const debug = process.argv.includes('--debug') || !!process.env.PGO_LEDGER_DEBUG;
    if (kind === 'bug') {
      process.stderr.write(`pgo-ledger: internal error, this is a bug: ${fullMessage(e)}\n`);
      process.stderr.write(debug ? `${(e as Error)?.stack}\n` : 'run again with --debug for the stack, and report it\n');
    } else {
      process.stderr.write(`pgo-ledger: ${fullMessage(e)}\n`);
      if (debug) process.stderr.write(`${(e as Error)?.stack}\n`);
    }
    process.exitCode = EXIT[kind];
  },
);
