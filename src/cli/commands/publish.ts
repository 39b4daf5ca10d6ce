import type { Command } from 'commander';
import { profileAt, profileOptions, refuseEmpty, selectProfile, usage, windowOf, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function publishCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('publish').description("set the profile as PyTorch's remote-cache entry (read with TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO=1)")))
    .argument('<redis-url>', 'redis:// or rediss:// URL, with a password if needed')
    .option('--ttl <seconds>', 'expire the entry after this many seconds')
    .option('--allow-empty', 'publish a profile with no code ids (jobs reading it start from nothing)')
    .action(async (url: string, o: SelectOpts & WindowOpts & { ttl?: string; allowEmpty?: boolean }) => {
      const { publishProfile } = await import('../../adapters/redis.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      if (o.ttl !== undefined && !/^\d+$/.test(o.ttl)) usage(`--ttl ${o.ttl}: want whole seconds`);
      const view = profileAt(l, p, windowOf(o));
      refuseEmpty(p.cacheKey, view.profile, o);
      const key = await publishProfile(url, p.cacheKey, view.profile, { ttlSeconds: o.ttl === undefined ? undefined : Number(o.ttl) });
      ctx.out(`set ${key} (${view.profile.codes.size} code ids)${o.ttl ? `, expiring in ${o.ttl} s` : ''}`);
    });
}
