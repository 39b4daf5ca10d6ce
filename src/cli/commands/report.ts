import type { Command } from 'commander';
import { ledgerJobs, profileOptions, selectProfile, usage, windowFor, windowOptions, type CliContext, type WindowOpts } from '../context.ts';
import { counted } from '../../counted.ts';
import { listed } from '../../store/known.ts';

export function reportCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('report').description("an HTML report of a profile's history: one self-contained file that works from disk")))
    .option('--all', 'every profile, opening on an index of jobs with their recompile-storm figures')
    .option('--window <length>', '--all: the time window of the storm figures (30s, 10m, 1h, 1d)', '1h')
    .requiredOption('-o, --output <file|dir>', 'the HTML file (a folder: index.html in it)')
    .option('--json', 'one JSON object: the file written, its profiles, jobs and bytes')
    .action(async (o: WindowOpts & { job?: string; rank?: string; tag?: string; all?: boolean; window: string; output: string; json?: boolean }) => {
      const { reportProfile, reportJobs } = await import('../../report/report-data.ts');
      const { renderReportHtml } = await import('../../report/render-html.ts');
      const { writeFileAtomic } = await import('../../adapters/write-file-atomic.ts');
      const { parseWindowLength } = await import('../../store/stats.ts');
      const { existsSync, mkdirSync, rmdirSync, statSync } = await import('node:fs');
      const { dirname, join } = await import('node:path');
      // the page itself goes to stdout there: a JSON line after it would be neither
      if (o.json && o.output === '-') usage('--json with -o -: stdout holds the page itself; give -o a file for --json');
      const l = await ctx.open();
      // no --job: the ledger's one job, as every command of one profile takes it
      const jobs = ledgerJobs(l);
      if (!o.all && !o.job && jobs.length > 1) usage(`report needs --job or --all: the ledger holds ${jobs.length} jobs (${listed(jobs)})`);
      // --all takes every profile: a --job beside it would be dropped without a word
      if (o.all && (o.job !== undefined || o.rank !== undefined || o.tag !== undefined)) usage('report: give --job (one profile) or --all (every profile), not both');
      const profiles = o.all ? l.profiles() : [selectProfile(l, { job: o.job, rank: o.rank, tag: o.tag })];
      if (!profiles.length) usage('the ledger holds no profiles');
      const w = windowFor(l, o, o.asOf, '--as-of', profiles.length === 1 ? profiles[0] : undefined);
      const storms = o.all ? reportJobs(l, profiles, w, parseWindowLength(o.window, '--window'), o.window) : [];
      const html = renderReportHtml(
        profiles.map((p) => reportProfile(l, p, w)),
        new Date(),
        storms,
      );
      const bytes = Buffer.from(html);
      let file = o.output;
      // the folders made for the site: a write that fails takes them back (nothing half-written)
      let made: string | undefined;
      if (/[/\\]$/.test(file) || (existsSync(file) && statSync(file).isDirectory())) {
        made = mkdirSync(file, { recursive: true });
        file = join(file, 'index.html');
      }
      let fd: number | undefined;
      try {
        fd = writeFileAtomic(file, bytes, { ledger: l.path }).fd;
      } catch (e) {
        // (a folder another writer put a file in meanwhile is kept; the write's error is the one said)
        if (made) for (let d = dirname(file); d.length >= made.length; d = dirname(d)) {
          try {
            rmdirSync(d);
          } catch {
            break;
          }
        }
        throw e;
      }
      // (to stdout's own descriptor: no words after the page)
      // `profiles` a count, as replay's and verify's; the keys apart (trial s29c)
      // `jobs`: the jobs of the profiles it holds (trial s32: the index's, 0 for one profile)
      if (fd !== 1 && o.json) ctx.out(JSON.stringify({ output: file, profiles: profiles.length, cache_keys: profiles.map((p) => p.cacheKey), jobs: new Set(profiles.map((p) => p.key.job)).size, bytes: bytes.length }));
      else if (fd !== 1) ctx.out(`wrote ${file} (${counted(profiles.length, 'profile')}${storms.length ? `, ${counted(storms.length, 'job')} on its index` : ''}, ${bytes.length} bytes)`);
    });
}
