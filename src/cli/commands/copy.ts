import type { Command } from 'commander';
import { usage, type CliContext } from '../context.ts';

export function copyCommand(program: Command, ctx: CliContext): void {
  program
    .command('copy')
    .description('copy a ledger into another, SQLite file or PostgreSQL URL either way (running it again adds nothing)')
    .requiredOption('--from <db>', 'the ledger to read (a path or postgres://…)')
    .requiredOption('--to <db>', 'the ledger to append to (created if needed)')
    .option('--json', 'JSON')
    .action(async (o: { from: string; to: string; json?: boolean }) => {
      if (o.from === o.to) usage('--from and --to name the same ledger');
      const [{ openLedger }, { copyLedger }, { redactUrl }] = await Promise.all([import('../../store/ledger.ts'), import('../../store/copy.ts'), import('../../store/dialect/dialect.ts')]);
      const from = await openLedger(o.from, { readonly: true });
      try {
        const to = await openLedger(o.to);
        try {
          const r = copyLedger(from, to);
          if (o.json) ctx.out(JSON.stringify(r));
          else ctx.out(`copied ${r.events} events from ${redactUrl(o.from)} to ${redactUrl(o.to)}: ${r.appended} appended, ${r.duplicates} there already; ${r.imports} import snapshots`);
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
