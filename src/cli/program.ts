import { Command, CommanderError, Option } from 'commander';
import type { Ledger } from '../store/ledger.ts';
import { classify, fullMessage, LedgerError, ledgerTakenBack, namingLedger } from '../errors.ts';
import type { LedgerFileBefore } from '../store/new-ledger-file.ts';
import { VERSION } from '../version.ts';
import { DB_FLAG, usage, type CliContext } from './context.ts';
import { copyCommand } from './commands/copy.ts';
import { diffCommand } from './commands/diff.ts';
import { exportCommand } from './commands/export.ts';
import { historyCommand } from './commands/history.ts';
import { ingestCommand } from './commands/ingest.ts';
import { jobsCommand } from './commands/jobs.ts';
import { mergeCommand } from './commands/merge.ts';
import { publishCommand } from './commands/publish.ts';
import { pullCommand } from './commands/pull.ts';
import { replayCommand } from './commands/replay.ts';
import { reportCommand } from './commands/report.ts';
import { retractCommand } from './commands/retract.ts';
import { showCommand } from './commands/show.ts';
import { statsCommand } from './commands/stats.ts';
import { verifyCommand } from './commands/verify.ts';
import { watchCommand } from './commands/watch.ts';
import { whyCommand } from './commands/why.ts';

const COMMANDS = { ingest: ingestCommand, jobs: jobsCommand, show: showCommand, history: historyCommand, why: whyCommand, diff: diffCommand, export: exportCommand, publish: publishCommand, pull: pullCommand, merge: mergeCommand, retract: retractCommand, replay: replayCommand, verify: verifyCommand, report: reportCommand, watch: watchCommand, stats: statsCommand, copy: copyCommand };

/**
 * The commands to define: only the one argv names when it names one (defining all of them is
 * a share of a small command's start-up); all of them for help and for a misspelt command.
 */
function commandsFor(argv: string[]): Array<(program: Command, ctx: CliContext) => void> {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') break;
    if (a === '--db') i++; // the global option that takes a value
    else if (!a.startsWith('-')) return Object.hasOwn(COMMANDS, a) ? [COMMANDS[a as keyof typeof COMMANDS]] : Object.values(COMMANDS);
  }
  return Object.values(COMMANDS);
}

/**
 * Commander answers a help flag before it looks at the command, so `switches --help` printed the
 * program's help with exit 0, and `help switches` printed it as an error naming nothing. A first
 * word that is no command (after `help` too) is said as one, commander's "unknown command" with
 * its suggestion and exit 2, whatever help or version flags come with it: they are dropped
 * (`frobnicate --version` printed the version, exit 0).
 */
function unknownCommandFirst(argv: string[]): string[] {
  const words: number[] = [];
  for (let i = 2; i < argv.length && words.length < 2; i++) {
    if (argv[i] === '--db') i++; // the global option that takes a value
    else if (!argv[i].startsWith('-')) words.push(i);
  }
  const known = (i: number | undefined) => i === undefined || Object.hasOwn(COMMANDS, argv[i]);
  const [first, second] = words;
  const afterHelp = first !== undefined && argv[first] === 'help';
  if (afterHelp ? known(second) : known(first)) return argv;
  const answeredAtOnce = (a: string, i: number) => ['-h', '--help', '-V', '--version'].includes(a) && argv[i - 1] !== '--db';
  return argv.filter((a, i) => i < 2 || !((afterHelp && i === first) || answeredAtOnce(a, i)));
}

/**
 * Builds the command line and runs it; returns the exit code. Each command loads the library
 * parts it uses when it runs. A command whose new SQLite ledger another process took back under
 * it before it wrote anything (two ingests started together on a new path, the other failing
 * with nothing written: new-ledger-file.ts) runs again, twice at most, where it printed nothing
 * and read no standard input: it failed "run the command again" (trial s29b, 3 runs in 20).
 */
export async function runCli(argv: string[], program = new Command()): Promise<number> {
  for (let again = 0; ; again++) {
    const printed = { any: false, mayRunAgain: again < 2 && !argv.slice(2).includes('-') };
    try {
      return await runOnce(argv, again === 0 ? program : new Command(), printed);
    } catch (e) {
      if (!printed.mayRunAgain || printed.any || !ledgerTakenBack(e)) throw e;
    }
  }
}

async function runOnce(argv: string[], program: Command, printed: { any: boolean; mayRunAgain: boolean }): Promise<number> {
  let code = 0;
  let ledger: Ledger | undefined;
  /** What was at the path before a command that takes back a ledger it made in vain (pull, watch) opened it. */
  let before: LedgerFileBefore | undefined;
  program
    .name('pgo-ledger')
    .description('Event-sourced store for torch.compile automatic-dynamic (PGO) profiles')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--db <path>', 'the ledger database: a SQLite file, or a postgres://user:password@host:5432/name URL').env('PGO_LEDGER_DB').default('./pgo-ledger.db'))
    .option('--debug', 'on an internal error, print the stack')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // a command's help lists --db too (trial s24: only the top level's did)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError();
  const ctx: CliContext = {
    program,
    async open(options) {
      if (!ledger) {
        const { openLedger } = await import('../store/ledger.ts');
        const db = (program.opts() as { db: string }).db;
        // Only the commands that bring data in (ingest, pull) create a ledger; replay, retract
        // and merge on a mistyped path would otherwise leave an empty one behind.
        // On PostgreSQL the same rule is "the database holds no ledger tables" (openDatabase's `existing`).
        const existing = !!options?.write && !options.create;
        const { isPostgresUrl, unservedScheme } = await import('../store/dialect/dialect.ts');
        // a URL of another scheme is refused by openDatabase, naming the schemes served
        if (existing && !isPostgresUrl(db) && !unservedScheme(db)) {
          const { existsSync } = await import('node:fs');
          if (!existsSync(db)) usage(`${db}: no ledger there (only ingest and pull create one)`);
        }
        // (loaded here: the command line's start loads no SQLite)
        if (options?.create && options.takeBack) before = (await import('../store/new-ledger-file.ts')).ledgerFileBefore(db);
        // Read commands open read-only: they never create, migrate or rebuild a database.
        ledger = await openLedger(db, { readonly: !options?.write, existing, words: DB_FLAG });
        for (const n of ledger.notes) process.stderr.write(`${n}\n`);
      }
      return ledger;
    },
    out: (s) => {
      printed.any = true;
      process.stdout.write(s.endsWith('\n') ? s : s + '\n');
    },
    setExitCode: (c) => void (code = c),
    errorSaid: () => void (errorSaid = true),
    stopOnSignal(said, json) {
      const stop = (signal: NodeJS.Signals) => {
        let failed = '';
        try {
          ledger?.settle();
        } catch (e) {
          failed = ` (its last batch failed to commit: ${fullMessage(e)})`;
        }
        const what = said(signal);
        const message = `${what.message}${failed}`;
        // SQLite closes here and now (no await: nothing else may run before the exit), so a
        // ledger it made and wrote nothing to can be taken back; a PostgreSQL server closes its end
        void ledger?.close().catch(() => {});
        const back = ledger && before ? before.takeBack({ unlessWritten: true }) : null;
        if (json) process.stdout.write(`${JSON.stringify({ error: message, ...what.json })}\n`);
        process.stderr.write(`pgo-ledger: ${message}\n${back ? `pgo-ledger: ${back}\n` : ''}`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      return () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      };
    },
  };
  let errorSaid = false;
  /** The command that ran, for its --json. */
  let ran: Command | undefined;
  program.hook('preAction', (_, c) => void (ran = c));
  for (const add of commandsFor(argv)) add(program, ctx);
  for (const c of program.commands) {
    emptyNamesRefused(c);
    requiredAfterUnknown(c);
  }
  let failure: { e: unknown } | undefined;
  try {
    await program.parseAsync(unknownCommandFirst(argv));
  } catch (e) {
    // SQLite's words name no file ("disk I/O error", "database or disk is full"): every
    // command's failure of its ledger names it, and a file-size limit, as ingest's did
    // (trial 20: retract, merge and replay under ulimit -f said only "disk I/O error"); one
    // that names it already (watch's, the open's) was told so where it was thrown
    failure = { e: ledger && !fullMessage(e).includes(ledger.path) ? namingLedger(ledger.path, e) : e };
  } finally {
    await ledger?.close();
  }
  // A ledger this command made, which failed having written nothing, is taken back: an empty
  // one left behind (pull --all of bad entries, trial s23) reads as a ledger that lost its data.
  const said = ledger && before && (failure || code !== 0) ? before.takeBack({ unlessWritten: true }) : null;
  if (failure) {
    const e = said ? new LedgerError(`${fullMessage(failure.e)}; ${said}`, { kind: classify(failure.e), cause: failure.e }) : failure.e;
    // a --json reader sees a failure on stdout as ingest's failed inputs are, `{error}` (trial s28b:
    // read commands printed nothing there); commander's own (a bad flag, a required one left out,
    // checked in a preAction hook) is said on stderr only (trial s28c)
    // (not where it runs again: runCli)
    if (ran !== undefined && (ran.opts() as { json?: boolean }).json && !errorSaid && !(e instanceof CommanderError) && (printed.any || !printed.mayRunAgain || !ledgerTakenBack(e))) process.stdout.write(`${JSON.stringify({ error: fullMessage(e) })}\n`);
    throw e;
  }
  if (said) process.stderr.write(`pgo-ledger: ${said}\n`);
  return code;
}

/**
 * Commander checks required options before unknown ones, so `show --jbo x` said "--job not
 * specified" instead of naming --jbo: the required options are checked in a preAction hook,
 * which runs after the unknown-option check, with commander's own words.
 */
function requiredAfterUnknown(c: Command): void {
  const required = c.options.filter((o) => o.mandatory);
  if (!required.length) return;
  for (const o of required) o.makeOptionMandatory(false);
  c.hook('preAction', (cmd) => {
    for (const o of required) if (cmd.getOptionValue(o.attributeName()) === undefined) cmd.error(`error: required option '${o.flags}' not specified`);
  });
}

/**
 * `--job ''` read as no --job made `retract --job ''` retract in every job and `report --job ''`
 * ask for --job; elsewhere it was a job named blank. `ingest --run ''` made a run named blank,
 * which answers showed as no run while `retract --run ''` took it (trial s34a). An empty job id
 * or run names none (observation lines refuse them too): bad input, checked here for every
 * command that takes the option, before it opens the ledger.
 */
const EMPTY_NAMES = [
  { name: 'job', says: 'an empty job id names no job; give the job id (torch.compiler.config.job_id)', leaveOut: ', or leave --job out' },
  { name: 'run', says: 'an empty run names no run; give the run', leaveOut: ', or leave --run out for none' },
  // repeatable: any one of them empty
  { name: 'exclude-run', says: 'an empty run names no run; give the run to leave out', leaveOut: ', or leave --exclude-run out' },
  // merge's target (trial s36a: `--into ''` made a profile `:None:` that no --job can name)
  { name: 'into', says: 'an empty job id names no job; give the target job id (or cache key)', leaveOut: '' },
] as const;
function emptyNamesRefused(c: Command): void {
  for (const { name, says, leaveOut } of EMPTY_NAMES) {
    const option = c.options.find((o) => o.long === `--${name}`);
    if (!option) continue;
    const refused = `--${name} is empty: ${says}${option.mandatory ? '' : leaveOut}`;
    c.hook('preAction', (cmd) => {
      const v: unknown = cmd.getOptionValue(option.attributeName());
      if (v === '' || (Array.isArray(v) && v.includes(''))) usage(refused);
    });
  }
}
