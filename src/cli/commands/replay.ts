import type { Command } from 'commander';
import { usage, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

export function replayCommand(program: Command, ctx: CliContext): void {
  program
    .command('replay')
    .description('rebuild every live view from the whole log (for a what-if, give --as-of/--exclude-run to a read command)')
    .option('--until <pos|time>', 'no longer taken: use --as-of on show, history, why, diff, export, publish or report')
    .option('--exclude-run <run>', 'no longer taken: use --exclude-run on a read command', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'one JSON object: the events replayed, the profiles and recompile reasons rebuilt')
    .action(async (o: { until?: string; excludeRun: string[]; json?: boolean }) => {
      // What-ifs are read-time: a replay that pinned the views made later ingests invisible.
      if (o.until !== undefined || o.excludeRun.length) usage('replay only rebuilds the live views from the whole log; give --as-of/--exclude-run to show, history, why, diff, export, publish or report instead');
      // cli-progress (and the readline it loads) only where a bar can show (progress.ts draws none
      // off a terminal); off one the scan has no progress to report, and asks no event for it
      const bar = process.stderr.isTTY ? (await import('../progress.ts')).progressBar('replay', 'events') : undefined;
      const l = await ctx.open({ write: true });
      const total = bar && (l.sql.get<{ n: number | null }>('select max(position) n from events')?.n ?? 0);
      const r = l.replay(bar && ((n) => bar.update(n, total)));
      bar?.stop();
      if (o.json) ctx.out(JSON.stringify({ events: r.events, profiles: r.profiles, records: r.records }));
      else ctx.out(`replayed ${counted(r.events, 'event')} into ${counted(r.profiles, 'profile')} (${counted(r.records, 'recompile reason')})`);
    });
}
