import type { Command } from 'commander';
import { profileAt, profileOptions, selectProfile, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function showCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('show').description("the profile exactly as PyTorch's render_code_state prints it")))
    .option('--json', 'the profile as JSON')
    .action(async (o: SelectOpts & WindowOpts & { json?: boolean }) => {
      const { renderProfile, dynamicSources } = await import('../../model/render.ts');
      const { profileJson } = await import('../json.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const view = profileAt(l, p, windowFor(l, o, o.asOf, '--as-of', p));
      if (o.json) ctx.out(JSON.stringify({ cache_key: p.cacheKey, codes: profileJson(view.profile), dynamic_sources: dynamicSources(view.profile) }));
      else ctx.out(renderProfile(view.profile));
      // PyTorch renders an empty profile as nothing at all: stdout stays its render, and stderr
      // says why there is none (a bare empty line read as a failure)
      if (!view.profile.codes.size) process.stderr.write(`pgo-ledger: ${p.cacheKey} holds no code id${o.asOf !== undefined || o.excludeRun?.length ? ' in the window given (--as-of/--exclude-run)' : ' (its runs retracted, or none brought one)'}: PyTorch renders such a profile as nothing\n`);
    });
}
