import { CommanderError } from 'commander';
import { classify, fullMessage } from '../errors.ts';
import { runCli } from './program.ts';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const EXIT = { input: 2, check: 1, bug: 70 } as const;

/** Test hook (documented in the README): PGO_LEDGER_TEST_BUG=1 makes a run fail as a bug of ours would, to test exit 70. */
const run = process.env.PGO_LEDGER_TEST_BUG === '1' ? Promise.reject(new TypeError('PGO_LEDGER_TEST_BUG=1: a deliberate internal error (test hook)')) : runCli(process.argv);

/** The stacks of an error and of its causes. */
function stacks(e: unknown): string {
  const out: string[] = [];
  for (let cur = e, i = 0; cur !== undefined && i < 8; cur = cur instanceof Error ? cur.cause : undefined, i++) {
    out.push(`${i ? 'caused by: ' : ''}${cur instanceof Error ? cur.stack : String(cur)}`);
  }
  return out.join('\n');
}

run.then(
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
      process.stderr.write(debug ? `${stacks(e)}\n` : 'run again with --debug for the stack, and report it\n');
    } else {
      process.stderr.write(`pgo-ledger: ${fullMessage(e)}\n`);
      if (debug) process.stderr.write(`${stacks(e)}\n`);
    }
    process.exitCode = EXIT[kind];
  },
);
