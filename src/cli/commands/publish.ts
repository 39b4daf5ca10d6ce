import { Option, type Command } from 'commander';
import type { TorchLayout } from '../../model/profile.ts';
import { LAYOUT_FLAGS, PUBLISH_REPLACES, profileAt, profileOptions, refuseEmpty, selectProfile, usage, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';
import { counted } from '../../counted.ts';

export function publishCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('publish').description("set the profile as PyTorch's remote-cache entry (read with TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO=1)")))
    .argument('<redis-url>', 'redis:// or rediss:// URL, with a password if needed')
    .option('--ttl <seconds>', 'expire the entry after this many seconds')
    .option('--allow-empty', 'publish a profile with no code ids (jobs reading it start from nothing)')
    .addOption(new Option('--torch <version>', "the PyTorch pickle layout (default: the one the profile's data came in, else 2.11)").choices(['2.11', '2.12']))
    .option('--merge-closures', '--torch 2.11: join code ids that differ only in closure_hash (that layout cannot hold them apart)')
    .option('--dry-run', 'print what would change in what Redis holds (as diff prints it), write nothing: a replace, or with --merge a merge')
    .option('--merge', 'join the profile with what Redis holds and write by compare-and-set (WATCH/MULTI, retried), so a job that wrote meanwhile is kept')
    .option('--json', '--dry-run: JSON lines, as diff --json')
    .action(async (url: string, o: SelectOpts & WindowOpts & { ttl?: string; allowEmpty?: boolean; torch?: TorchLayout; mergeClosures?: boolean; dryRun?: boolean; merge?: boolean; json?: boolean }) => {
      const { publishProfile, previewPublish, publishMerged } = await import('../../adapters/redis.ts');
      const { profileAsWritten } = await import('../../adapters/export-profile.ts');
      const { writtenStrings } = await import('../../adapters/source-names.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      // Redis refuses an expiry of 0 ("invalid expire time") only after the profile was read and sent
      if (o.ttl !== undefined && !/^0*[1-9]\d*$/.test(o.ttl)) usage(`--ttl ${o.ttl}: want whole seconds above 0 (leave it out for no expiry)`);
      const window = windowFor(l, o, o.asOf, '--as-of', p);
      const view = profileAt(l, p, window);
      refuseEmpty(p.cacheKey, view.profile, o);
      // as the library's default decides it: the profile's writer's (its window's)
      const strings = writtenStrings(view.profile);
      const ttlSeconds = o.ttl === undefined ? undefined : Number(o.ttl);
      // with --merge-closures it has fewer code ids than the view: the messages count what was
      // written; refused here in the command line's words (the dry run too, before Redis is asked)
      const written = profileAsWritten(view.profile, { torch: o.torch, mergeClosures: o.mergeClosures }, LAYOUT_FLAGS);
      if (o.dryRun) {
        const { changeJson, changeText } = await import('../json.ts');
        const d = await previewPublish(url, p.cacheKey, view.profile, { merge: o.merge, torch: o.torch, mergeClosures: o.mergeClosures, replace: PUBLISH_REPLACES });
        // where each dim that turns dynamic did, as diff says it
        (await import('../../store/dynamic-since.ts')).markDynamicSince(l, p.id, window, d.changes);
        for (const c of d.changes) ctx.out(o.json ? JSON.stringify(changeJson(c)) : changeText(c));
        if (!o.json) ctx.out(`dry run, would ${o.merge ? 'merge into' : 'replace'} ${d.key} (--merge ${o.merge ? 'given' : 'not given: add it to preview a merge'}): ${d.exists ? 'exists' : 'holds nothing'}; ${d.changes.length ? `${counted(d.changes.length, 'entry', 'entries')} would change` : 'no change'} (${counted(d.profile.codes.size, 'code id')}${o.merge ? ' after the join' : ''}); nothing written`);
        return;
      }
      if (o.merge) {
        const m = await publishMerged(url, p.cacheKey, written, { ttlSeconds, torch: o.torch, mergeClosures: o.mergeClosures, ...strings, replace: PUBLISH_REPLACES });
        const after = m.attempts > 1 ? `, after ${counted(m.attempts - 1, 'conflicting write')} by others` : '';
        ctx.out(`set ${m.key} (${counted(m.profile.codes.size, 'code id')}: ${written.codes.size} joined with the ${m.heldBefore} Redis held${after})${o.ttl ? `, expiring in ${o.ttl} s` : ''}`);
        return;
      }
      const key = await publishProfile(url, p.cacheKey, written, { ttlSeconds, torch: o.torch, mergeClosures: o.mergeClosures, ...strings });
      ctx.out(`set ${key} (${counted(written.codes.size, 'code id')})${o.ttl ? `, expiring in ${o.ttl} s` : ''}`);
    });
}
