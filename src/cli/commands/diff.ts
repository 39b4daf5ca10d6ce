import type { Command } from 'commander';
import { profileOptions, selectProfile, windowOf, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function diffCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('diff').description('entries and dims that changed between two points')), false)
    .requiredOption('--from <pos|time>', 'the earlier point')
    .option('--to <pos|time>', 'the later point (default: now, the whole log)')
    .option('--json', 'JSON lines')
    .action(async (o: SelectOpts & WindowOpts & { from: string; to?: string; json?: boolean }) => {
      const { diffProfiles } = await import('../../store/diff.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const a = l.fold(p.id, windowOf(o, o.from));
      const b = l.fold(p.id, windowOf(o, o.to));
      const changes = diffProfiles(a.profile, b.profile);
      for (const c of changes) {
        if (o.json) ctx.out(JSON.stringify(c));
        else ctx.out(`${c.change} ${c.source} in ${c.code}: ${c.from ?? ''}${c.from && c.to ? ' -> ' : ''}${c.to ?? ''}${c.dims.length ? `\n    ${c.dims.join('\n    ')}` : ''}`);
      }
      if (!changes.length && !o.json) ctx.out('no change');
    });
}
