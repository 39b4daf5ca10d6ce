import type { Command } from 'commander';
import { profileOptions, selectProfile, usage, windowFor, windowOptions, type CliContext, type WindowOpts } from '../context.ts';

export function reportCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('report').description("an HTML report of a profile's history: one self-contained file that works from disk"), false))
    .option('--all', 'every profile')
    .requiredOption('-o, --output <file>', 'the HTML file')
    .action(async (o: WindowOpts & { job?: string; rank?: string; tag?: string; all?: boolean; output: string }) => {
      const { reportProfile } = await import('../../report/report-data.ts');
      const { renderReportHtml } = await import('../../report/render-html.ts');
      const { writeFileAtomic } = await import('../../adapters/export-profile.ts');
      const l = await ctx.open();
      if (!o.all && !o.job) usage('report needs --job or --all');
      const profiles = o.all ? l.profiles() : [selectProfile(l, { job: o.job!, rank: o.rank, tag: o.tag })];
      if (!profiles.length) usage('the ledger holds no profiles');
      const w = windowFor(l, o);
      const html = renderReportHtml(profiles.map((p) => reportProfile(l, p, w)));
      const bytes = Buffer.from(html);
      writeFileAtomic(o.output, bytes);
      ctx.out(`wrote ${o.output} (${profiles.length} profile${profiles.length === 1 ? '' : 's'}, ${bytes.length} bytes)`);
    });
}
