import { Option, type Command } from 'commander';
import type { TorchLayout } from '../../model/profile.ts';
import { profileAt, profileOptions, refuseEmpty, selectProfile, usage, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function publishCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('publish').description("set the profile as PyTorch's remote-cache entry (read with TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO=1)")))
    .argument('<redis-url>', 'redis:// or rediss:// URL, with a password if needed')
    .option('--ttl <seconds>', 'expire the entry after this many seconds')
    .option('--allow-empty', 'publish a profile with no code ids (jobs reading it start from nothing)')
    .addOption(new Option('--torch <version>', "the PyTorch pickle layout (default: the one the profile's data came in, else 2.11)").choices(['2.11', '2.12']))
    .option('--merge-closures', '--torch 2.11: join code ids that differ only in closure_hash (that layout cannot hold them apart)')
    .action(async (url: string, o: SelectOpts & WindowOpts & { ttl?: string; allowEmpty?: boolean; torch?: TorchLayout; mergeClosures?: boolean }) => {
      const { publishProfile } = await import('../../adapters/redis.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      if (o.ttl !== undefined && !/^\d+$/.test(o.ttl)) usage(`--ttl ${o.ttl}: want whole seconds`);
      const view = profileAt(l, p, windowFor(l, o));
      refuseEmpty(p.cacheKey, view.profile, o);
      const key = await publishProfile(url, p.cacheKey, view.profile, { ttlSeconds: o.ttl === undefined ? undefined : Number(o.ttl), torch: o.torch, mergeClosures: o.mergeClosures });
      ctx.out(`set ${key} (${view.profile.codes.size} code ids)${o.ttl ? `, expiring in ${o.ttl} s` : ''}`);
    });
}
