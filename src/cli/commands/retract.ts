import type { Command } from 'commander';
import { EXCLUDE_RUN, type CliContext } from '../context.ts';
import { carriedNote } from '../../store/warm-starts.ts';

export function retractCommand(program: Command, ctx: CliContext): void {
  program
    .command('retract')
    .description("retract a run: every answer leaves its events out (a later run that warm-started from a profile it wrote still carries it: said on stderr)")
    .requiredOption('--run <run>', 'the run to retract')
    .option('--job <job>', 'only in this job')
    .option('--reason <text>', 'why')
    .option('--json', 'one JSON object: the profiles retracted, those that had it retracted already, and what still carries it')
    .action(async (o: { run: string; job?: string; reason?: string; json?: boolean }) => {
      const { retractRun } = await import('../../store/retract.ts');
      const l = await ctx.open({ write: true });
      // a run with no events is the library's error, in the command line's words
      const r = retractRun(l, o.run, { job: o.job, reason: o.reason, words: EXCLUDE_RUN });
      // what stderr's notes say, for a tool (trial s28b: only prose); the notes are said all the same
      if (o.json) {
        ctx.out(
          JSON.stringify({
            run: o.run,
            retracted: r.retracted,
            already: r.already,
            carried: r.carried.map((c) => ({ cache_key: c.cacheKey, runs: c.runs, snapshots: c.snapshots.map((x) => ({ format: x.format, origin: x.origin, position: x.position })) })),
            merged: r.merged.map((m) => ({ cache_key: m.cacheKey, into: m.into })),
          }),
        );
      } else {
        if (r.retracted.length) ctx.out(`retracted run ${o.run} in ${r.retracted.join(', ')}`);
        if (r.already.length) ctx.out(`run ${o.run} was retracted already in ${r.already.join(', ')}`);
      }
      for (const c of r.carried) process.stderr.write(carriedNote(o.run, c.cacheKey, c));
      for (const m of r.merged) {
        const them = m.into.length > 1 ? `the merged profiles keep` : `the merged profile keeps`;
        process.stderr.write(
          `pgo-ledger: note: ${m.cacheKey}: run ${o.run} is left out of its answers, but a merge joined ${m.cacheKey} into ${m.into.join(', ')} after the run came, and ${them} what was joined: merge into a new target (pgo-ledger merge --from ... --into NEW) to leave it out there, as a merge into the same target joins again and never takes back\n`,
        );
      }
    });
}
