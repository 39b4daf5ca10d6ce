import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

export function verifyCommand(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('fold the log afresh and report any difference from the stored views (exit 1 if any)')
    .option('--json', 'JSON')
    .action(async (o: { json?: boolean }) => {
      const { verifyLedger } = await import('../../store/verify.ts');
      const l = await ctx.open();
      const r = verifyLedger(l);
      if (o.json) ctx.out(JSON.stringify({ ok: r.differences.length === 0, profiles: r.profiles, differences: r.found.map((d) => ({ cache_key: d.cacheKey, difference: d.text })) }));
      else {
        for (const d of r.differences) ctx.out(d);
        // an empty ledger matches trivially: '0 profiles match the log' read as if they were lost
        // the stored views and checkpoints are derived from the log: replay makes them again
        ctx.out(r.differences.length ? `verify: ${counted(r.differences.length, 'difference')} in ${counted(r.profiles, 'profile')}; the log is the record: pgo-ledger replay rebuilds the stored views and checkpoints from it` : r.profiles === 0 ? 'verify: the ledger is empty: it holds no event, so there is nothing to check' : `verify: ${r.profiles === 1 ? 'the profile matches' : `${r.profiles} profiles match`} the log`);
      }
      if (r.differences.length) ctx.setExitCode(1);
      else {
        const { profilesWithoutCheckpoints } = await import('../../store/checkpoints.ts');
        for (const p of profilesWithoutCheckpoints(l.sql)) process.stderr.write(`pgo-ledger: note: ${p.cacheKey} holds ${counted(p.events, 'event')} and no checkpoint: its reads fold it from the start (pgo-ledger replay writes them)\n`);
      }
    });
}
