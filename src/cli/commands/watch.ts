import type { Command } from 'commander';
import { classify, fullMessage, inputError, isDatabaseFailure, LedgerError } from '../../errors.ts';
import { WATCH_FLAGS, usage, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

const seconds = (flag: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) usage(`${flag} ${v}: want a number of seconds above 0`);
  return n * 1000;
};

export function watchCommand(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description('follow TORCH_TRACE folders, PGO files and the Redis remote cache as they are written, until stopped (SIGINT/SIGTERM finish the batch and exit 0)')
    .argument('[paths...]', 'trace folders or files (recursively); optional with --redis')
    .option('--redis <url>', 'also follow every pt2:dynamo-pgo::* key of this Redis')
    .option('--interval <seconds>', 'poll every this many seconds', '2')
    .option('--settle <seconds>', 'a log untouched this long is final (its last entry read)', '30')
    .option('--once', 'one pass, then exit (for cron): exit 2 when an input could not be taken or Redis was away')
    .option('--json', 'one JSON object a line: each input ingested, and each pass that appended or is behind')
    .action(async (paths: string[], o: { redis?: string; interval: string; settle: string; once?: boolean; json?: boolean }) => {
      if (!paths.length && !o.redis) usage('watch: give trace folders or files to follow, --redis URL, or both');
      const intervalMs = seconds('--interval', o.interval);
      // 0 is not sound: a log just written to would be final at once, its last entry read as
      // complete while PyTorch may still be writing it (a large payload is flushed in pieces).
      if (Number(o.settle) === 0) usage(`--settle 0: the least is any time above 0 (e.g. 0.5 s): a log is final once left alone that long, and at 0 a log still being written would be final at once, its last entry cut mid-write`);
      const settleMs = seconds('--settle', o.settle);
      const { watch } = await import('../../adapters/watch/watch.ts');
      const { statusSink } = await import('../../adapters/watch/status.ts');
      const stopper = new AbortController();
      const sink = statusSink({ json: o.json === true, tty: process.stderr.isTTY === true && !o.json, out: ctx.out, err: (s) => void process.stderr.write(s), once: o.once });
      // what this watch reported ingested, and what an input still being read committed: a second signal says them
      let appended = 0;
      let underWay: { input: string; appended: number } | null = null;
      const status: typeof sink = {
        ...sink,
        input: (r, time) => ((appended += r.appended), sink.input(r, time)),
        reading: (input, n) => void (underWay = input === null ? null : { input, appended: n }),
      };
      // the first signal finishes the input under way; a second one stops at once (an open transaction rolls back)
      const stop = (signal: NodeJS.Signals) => {
        if (stopper.signal.aborted) {
          // the inputs reported whole, and of one under way the batches it committed (trial 18.2 read "0 events" as nothing stored)
          const partly = underWay as { input: string; appended: number } | null;
          const rest = partly
            ? `so are ${counted(partly.appended, 'event')} of ${partly.input}, still being read, appended by the batches it committed before the signal; the rest of it was not written (rolled back)`
            : 'no input under way had committed a batch, and what one was reading was not written (rolled back)';
          status.note(`watch: stopped at once by a second ${signal}: the inputs reported ingested are in the ledger (${counted(appended, 'event')} appended by them); ${rest}: the next watch reads on from its last commit`);
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
        stopper.abort();
        status.note(`watch: ${signal}: finishing the input under way, then exiting (a second signal stops at once)`);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // whether the ledger opened: a failure to open or make it is said as every command says it
      let opened = false;
      try {
        const l = await ctx.open({ write: true, create: true, takeBack: true });
        opened = true;
        const r = await watch(l, {
          paths,
          redis: o.redis,
          intervalMs,
          settleMs,
          words: WATCH_FLAGS,
          once: o.once,
          signal: stopper.signal,
          status,
        });
        // cron sees a pass that could not take everything; a long-running watch goes on (says it, tries again)
        if (o.once && r.failed > 0) throw inputError(`watch --once: ${r.failed === 1 ? 'an input' : `${r.failed} inputs`} could not be taken (said above)`);
      } catch (e) {
        // the ledger can take nothing (its server gone, a disk full): watch stops, saying what to
        // do and where it was, and a --json reader sees it too (trial s27a: only the exit code)
        if (!opened || classify(e) === 'bug' || !isDatabaseFailure(e)) throw e;
        const partly = underWay as { input: string; appended: number } | null;
        const where = partly ? ` while reading ${partly.input} (${counted(partly.appended, 'event')} of it committed)` : '';
        const stopped = new LedgerError(`${fullMessage(e)}\n  watch stopped${where}: the inputs reported ingested are in the ledger (${counted(appended, 'event')} appended by them); start watch again once the ledger can be written: it reads on from its last commit, adding nothing twice`, { kind: classify(e), cause: e });
        if (o.json) {
          ctx.out(JSON.stringify({ error: fullMessage(stopped) }));
          ctx.errorSaid();
        }
        throw stopped;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
