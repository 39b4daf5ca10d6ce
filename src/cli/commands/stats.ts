import type { Command } from 'commander';
import { counted } from '../../counted.ts';
import { parseRank, profileOptions, usage, windowFor, windowOptions, type CliContext, type WindowOpts } from '../context.ts';

export function statsCommand(program: Command, ctx: CliContext): void {
  profileOptions(windowOptions(program.command('stats').description('recompile storms: per job, rank, run and time window, the recompile records, the dims they made dynamic and the values seen there')), 'every')
    .option('--window <length>', 'time window: a whole number and s, m, h or d (30s, 7m, 1h, 1d); windows start at whole multiples of it since the epoch (UTC)', '1h')
    .option('--fail-over <n>', 'exit 1 when a window has more than n records (a CI or monitoring gate)')
    .option('--json', 'JSON lines, one per window')
    .action(async (o: WindowOpts & { job?: string; rank?: string; tag?: string; window: string; failOver?: string; json?: boolean }) => {
      const { recompileStats, parseWindowLength } = await import('../../store/stats.ts');
      const { stormJson, stormText } = await import('../json.ts');
      if (o.failOver !== undefined && !/^\d+$/.test(o.failOver)) usage(`--fail-over ${o.failOver}: want a whole number, 0 or more`);
      const windowMs = parseWindowLength(o.window, '--window');
      const l = await ctx.open();
      const windows = recompileStats(l, { job: o.job, rank: o.rank === undefined ? undefined : parseRank(o.rank), tag: o.tag, windowMs, window: windowFor(l, o) });
      for (const w of windows) ctx.out(o.json ? JSON.stringify(stormJson(w)) : stormText(w));
      if (!windows.length && !o.json) ctx.out('no recompile records');
      const limit = o.failOver === undefined ? Infinity : Number(o.failOver);
      const over = windows.filter((w) => w.records.length > limit);
      if (over.length) {
        for (const w of over) process.stderr.write(`over --fail-over ${limit}: ${w.cacheKey} run ${w.run ?? '-'} had ${counted(w.records.length, 'recompile record')} in ${new Date(w.start).toISOString()} + ${o.window}\n`);
        ctx.setExitCode(1);
      }
    });
}
