import type { Command } from 'commander';
import { iso, type CliContext } from '../context.ts';

export function jobsCommand(program: Command, ctx: CliContext): void {
  program
    .command('jobs')
    .description('the profiles held, with event counts and last change')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      const l = await ctx.open();
      for (const p of l.profiles()) {
        if (o.json) ctx.out(JSON.stringify({ cache_key: p.cacheKey, job: p.key.job, rank: p.key.rank, tag: p.key.tag, events: p.eventCount, position: p.lastPosition, time: iso(p.lastTime) }));
        else ctx.out(`${p.cacheKey}\t${p.eventCount} events\tlast event #${p.lastPosition ?? '-'} (latest time ${iso(p.lastTime) ?? '-'})`);
      }
    });
}
