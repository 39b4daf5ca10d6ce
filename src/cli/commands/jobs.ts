import type { Command } from 'commander';
import { iso, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

export function jobsCommand(program: Command, ctx: CliContext): void {
  program
    .command('jobs')
    .description('the profiles held, with event counts and last change')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      const l = await ctx.open();
      // the runs, for --exclude-run (a scan of the log: --json only)
      const runs = o.json ? (await import('../../store/profile-runs.ts')).runsByProfile(l.sql) : null;
      // the runs each profile retracted (its run.retracted events, an index of their own): a
      // retracted run's events are still counted here, and read as live without the mark
      const { retractedRuns } = await import('../../store/retracted-runs.ts');
      // each retraction with its --reason (trial s36a: kept, never shown)
      const { retractionsIn } = await import('../../store/window.ts');
      const { dictionaries } = await import('../../store/log.ts');
      const dict = dictionaries(l.sql);
      const profiles = l.profiles();
      // said, as verify says an empty ledger; --json stays JSON lines (none)
      if (!profiles.length && !o.json) ctx.out('jobs: the ledger holds no profile yet (ingest or pull adds them)');
      for (const p of profiles) {
        const retracted = retractedRuns(l, p.id);
        const retractions = retracted.length ? retractionsIn(l.sql, p.id, {}, dict) : [];
        if (runs) ctx.out(JSON.stringify({ cache_key: p.cacheKey, job: p.key.job, rank: p.key.rank, tag: p.key.tag, events: p.eventCount, position: p.lastPosition, time: iso(p.lastTime), runs: runs.get(p.id) ?? [], retracted, retractions: retractions.map((r) => ({ run: r.run, position: r.position, time: iso(r.time), reason: r.reason })) }));
        else {
          const said = retractions.map((r) => `run ${r.run} at #${r.position}${r.reason !== null ? ` (${JSON.stringify(r.reason)})` : ''}`);
          ctx.out(`${p.cacheKey}\t${counted(p.eventCount, 'event')}\tlast event #${p.lastPosition ?? '-'} (latest time ${iso(p.lastTime) ?? '-'})${said.length ? `\tretracted: ${said.join(', ')}` : ''}`);
        }
      }
    });
}
