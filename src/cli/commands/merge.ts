import type { Command } from 'commander';
import { parseRank, selectProfile, type CliContext } from '../context.ts';

export function mergeCommand(program: Command, ctx: CliContext): void {
  program
    .command('merge')
    .description("the join of profiles, as PyTorch's compiler collectives join ranks")
    .requiredOption('--from <profile>', 'a job id or cache key (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--into <job>', 'the job (or cache key) to join them into')
    .option('--rank <rank>', 'rank of the target')
    .option('--tag <tag>', 'cache_key_tag of the target')
    .action(async (o: { from: string[]; into: string; rank?: string; tag?: string }) => {
      const { mergeProfiles } = await import('../../adapters/merge-profiles.ts');
      const { cacheKey } = await import('../../model/cache-key.ts');
      const l = await ctx.open({ write: true });
      const from = o.from.map((f) => l.profileByKey(f) ?? selectProfile(l, { job: f }));
      const into = l.profileByKey(o.into)?.cacheKey ?? cacheKey({ job: o.into, rank: o.rank === undefined ? null : parseRank(o.rank), tag: o.tag ?? '' });
      const r = mergeProfiles(l, from, into);
      ctx.out(`joined ${from.map((f) => f.cacheKey).join(' + ')} into ${into}: ${r.appended} events${r.records ? `, ${r.records} recompile reasons` : ''}`);
    });
}
