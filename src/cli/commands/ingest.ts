import { Option, type Command } from 'commander';
import type { FileIngestSummary, IngestKind } from '../../adapters/ingest-file.ts';
import { aboutInput, classify, fullMessage, inputName, isDatabaseFailure, LedgerError, namingLedger } from '../../errors.ts';
import { INGEST_FLAGS, parseRank, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';
import { skippedText } from '../../adapters/skipped-text.ts';
import { isFolder } from '../../adapters/write-file-atomic.ts';
import { INPUTS_LISTED, listed } from '../../store/known.ts';

export function ingestCommand(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .description('append what inputs hold to the log: observation JSONL, profile pickles, mega-caches, remote values, TORCH_TRACE logs, folders of them, .gz of any')
    .argument('<files...>', "files or folders ('-' for stdin)")
    .option('--job <job>', 'job id for what the input lacks')
    .option('--rank <rank>', 'rank for what the input lacks')
    .option('--tag <tag>', 'cache_key_tag for what the input lacks')
    .option('--run <run>', 'run id for what the input lacks')
    .option('--key <key>', "a remote value's key (pt2:dynamo-pgo::<job>:<rank>:<tag>:c1), when no key file is beside it")
    .option('--hash-files <dir>', "compute a missing file_hash from the code's file, for regular files under this folder only (else the path stands in)")
    .addOption(new Option('--kind <kind>', 'force the input kind').choices(['observations', 'pickle', 'megacache', 'remote-json', 'trace']))
    .option('--skip-invalid', 'go on past bad lines and count them')
    .option('--json', 'one JSON object per input')
    .action(async (given: string[], o: { job?: string; rank?: string; tag?: string; run?: string; key?: string; hashFiles?: string; kind?: IngestKind; skipInvalid?: boolean; json?: boolean }) => {
      const { ingestFile, inputReadingOrder } = await import('../../adapters/ingest-file.ts');
      // the profile files among the inputs after the others, as within a folder (inputReadingOrder says why)
      const files = await inputReadingOrder(given, o.kind);
      if (files.some((f, i) => f !== given[i])) process.stderr.write(`pgo-ledger: note: the profile files among the inputs are read after the others (a log's records come before the file that holds their result): ${files.map(inputName).join(', ')}\n`);
      const { leftOutJson, leftOutText } = await import('../../adapters/left-out.ts');
      // cli-progress loads only where a bar can show (progress.ts draws none off a terminal).
      const progressBar = process.stderr.isTTY ? (await import('../progress.ts')).progressBar : () => ({ update: () => {}, stop: () => {} });
      const l = await ctx.open({ write: true, create: true, takeBack: true });
      const defaults = { job: o.job, rank: o.rank === undefined ? undefined : parseRank(o.rank), tag: o.tag, run: o.run, hashFiles: o.hashFiles, words: INGEST_FLAGS };
      // Issue 9.15: each input is its own transaction; a failed one is said and the rest go on.
      const failed: { input: string; error: string }[] = [];
      // where the log ended: runs this command brought that started before runs already there are said (late-runs.ts)
      const before = l.sql.get<{ m: number | null }>('select max(position) m from events')?.m ?? 0;
      let taken = 0; // inputs (a folder's files) read whole, to say whether any others were ingested
      // Ctrl-C stops at once: what it says of the inputs done, the one under way and those not read
      const so: Stopped = { done: 0, appended: 0, at: -1, part: { appended: 0, duplicates: 0 } };
      const committed = (appended: number, duplicates: number) => {
        so.part.appended += appended;
        so.part.duplicates += duplicates;
      };
      const unhook = ctx.stopOnSignal((signal) => stoppedText(signal, files, so), o.json === true);
      try {
        for (const [i, f] of files.entries()) {
          so.at = i;
          so.part = { appended: 0, duplicates: 0 };
          const bar = progressBar(inputName(f));
          // what is said of the input on stderr is in its JSON line too (trial s32: `--run … not used` was only prose)
          const notes: string[] = [];
          const noted = () => (notes.length ? { notes } : {});
          const onNote = (m: string) => {
            notes.push(m);
            process.stderr.write(`${m}\n`);
          };
          let s: FileIngestSummary;
          try {
            s = await ingestFile(l, f, { kind: o.kind, defaults, key: o.key, skipInvalid: o.skipInvalid, onProgress: bar.update, onCommitted: committed, onNote });
          } catch (e) {
            bar.stop();
            if (classify(e) === 'bug') throw e; // pgo-ledger is wrong, not the input: exit 70 with the stack
            if (isDatabaseFailure(e)) {
              // the ledger cannot take any input (read-only, full, damaged, its server gone): stop
              // here, naming what was not read, so it is not taken for ingested
              const stopped = namingLedger(l.path, e);
              // the input it stopped in: a file's events go in one transaction, none of them
              // committed (an observation file's batches, and a folder's files, say their own)
              const said = fullMessage(stopped);
              const lost = f !== '-' && !said.includes(inputName(f)) && !isFolder(f) ? `\n  ${inputName(f)}: not ingested, none of its events were committed` : '';
              const rest = files.slice(i + 1);
              if (!rest.length && !lost) throw stopped;
              throw new LedgerError(`${said}${lost}${rest.length ? `\n  not read, as the ledger stopped: ${rest.map(inputName).join(', ')}` : ''}`, { kind: classify(stopped), cause: stopped });
            }
            const message = fullMessage(e);
            failed.push({ input: f, error: message });
            // a failed input whose events went in in part says how many, as an ingested one does
            const p = e instanceof LedgerError ? e.partial : undefined;
            if (o.json) ctx.out(JSON.stringify({ input: f, error: message, ...(p ? { appended: p.appended, duplicates: p.duplicates } : {}), ...noted() }));
            process.stderr.write(`${aboutInput(f, 'failed: ', e)}\n`);
            so.done++;
            so.appended += p?.appended ?? 0;
            continue;
          } finally {
            bar.stop();
          }
          so.done++;
          so.appended += s.appended;
          failed.push(...(s.failed ?? []));
          taken += s.kind === 'folder' ? Object.values(s.kinds ?? {}).reduce((a, n) => a + n, 0) : 1;
          if (o.json) {
            ctx.out(
              JSON.stringify({
                input: f,
                kind: s.kind,
                appended: s.appended,
                duplicates: s.duplicates,
                skipped: s.skipped ?? 0,
                records: s.records ?? 0,
                ...leftOutJson(s.leftOut),
                ...(s.kind === 'folder' ? { kinds: s.kinds, not_pgo: s.notPgo, not_regular: s.notRegular ?? 0, failed: s.failed } : {}),
                ...noted(),
              }),
            );
          } else {
            const folder = s.kind === 'folder' ? ` (${Object.entries(s.kinds ?? {}).map(([k, n]) => counted(n, `${k} file`)).join(', ') || 'no files read'}; ${s.notPgo} not PGO data, skipped${s.notRegular ? `; ${counted(s.notRegular, 'not a regular file', 'not regular files')}, skipped` : ''}${s.failed?.length ? `; ${s.failed.length} failed` : ''})` : '';
            ctx.out(`${inputName(f)}: ${s.kind}${folder}: ${counted(s.appended, 'event')} appended, ${s.duplicates} already in the log${skippedText(s.kind, s.skipped)}${s.records ? `, ${counted(s.records, 'recompile reason')}` : ''}${leftOutText(s.leftOut)}`);
          }
        }
      } finally {
        unhook();
      }
      const { lateRunsAfter, lateRunText } = await import('../../store/late-runs.ts');
      for (const p of lateRunsAfter(l.sql, Number(before))) process.stderr.write(`pgo-ledger: note: ${lateRunText(p.cacheKey, p.late)}\n`);
      if (failed.length) {
        const others = taken > 0 ? ' (the others were ingested)' : '';
        const message = `${counted(failed.length, 'input')} failed${others}: ${failed.map((x) => inputName(x.input)).join(', ')}`;
        process.stderr.write(`pgo-ledger: ${message}\n`);
        // as every command that fails under --json ends its stdout (trial s28b: a folder's failed
        // file left its summary last); the lines above name each failure
        if (o.json) ctx.out(JSON.stringify({ error: message }));
        ctx.setExitCode(2);
      }
    });
}

/** Where ingest is, for a signal's stop: the inputs done and what they appended, the one under way (`at`) and what of it was committed. */
interface Stopped {
  done: number;
  appended: number;
  at: number;
  part: { appended: number; duplicates: number };
}

/** What a signal that stopped ingest leaves: the inputs done, the one under way (its committed batches stay), those not read. */
function stoppedText(signal: NodeJS.Signals, files: readonly string[], so: Stopped): { message: string; json: Record<string, unknown> } {
  const under = so.at >= 0 && so.at >= so.done ? files[so.at] : undefined;
  const rest = files.slice(Math.max(so.at + 1, 0)).map(inputName);
  const total = so.appended + (under === undefined ? 0 : so.part.appended);
  const message =
    `ingest stopped by ${signal}: ${so.done} of ${counted(files.length, 'input')} read before it (${counted(so.appended, 'event')} appended)` +
    (under === undefined
      ? ''
      : `; ${inputName(under)} was being read: ${counted(so.part.appended, 'event')} of it appended (${so.part.duplicates} already in the log) by what it committed, which stays, and the rest of it was not written (observation lines go in 10,000 to a transaction, a folder's files one by one, any other file whole)`) +
    (rest.length ? `; not read: ${listed(rest, INPUTS_LISTED)}` : '') +
    `; ${counted(total, 'event')} appended in all; ingest the same inputs again to go on: what is in the log is not added twice`;
  return { message, json: { signal, appended: total, inputs_read: so.done, under_way: under === undefined ? null : { input: under, appended: so.part.appended, duplicates: so.part.duplicates }, not_read: files.slice(Math.max(so.at + 1, 0)) } };
}
