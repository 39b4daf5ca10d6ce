import type { Command } from 'commander';
import { DB_FLAG, usage, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';
import type { CopyResult } from '../../store/copy.ts';

export function copyCommand(program: Command, ctx: CliContext): void {
  program
    .command('copy')
    .description('copy a ledger into another, SQLite file or PostgreSQL URL either way (running it again adds nothing)')
    // every command reads --db (README): copy's source is it unless --from names another
    .option('--from <db>', 'the ledger to read (a path or postgres://…; default: --db)')
    .requiredOption('--to <db>', 'the ledger to append to (created if needed)')
    .option('--json', 'JSON')
    .action(async (opts: { from?: string; to: string; json?: boolean }) => {
      const o = { ...opts, from: opts.from ?? (ctx.program.opts() as { db: string }).db };
      if (o.from === o.to) usage('--from and --to name the same ledger');
      const [{ openLedger }, { copyLedger }, { redactUrl }] = await Promise.all([import('../../store/ledger.ts'), import('../../store/copy.ts'), import('../../store/dialect/dialect.ts')]);
      // the ledger --from names, else --db's (as every command's)
      const from = await openLedger(o.from, { readonly: true, words: opts.from === undefined ? DB_FLAG : { check: '--from', give: '--from' } });
      try {
        // A copy that fails leaves no half-write (copy-target.ts): a new SQLite ledger is taken
        // back whole; an existing one keeps the whole batches appended, and says how many.
        const { copyTarget } = await import('../copy-target.ts');
        const target = copyTarget(o.to);
        let copied = 0;
        const failed: (e: unknown) => never = (e) => target.failed(e, copied, () => Number(from.sql.get<{ n: number }>('select count(*) as n from events')!.n));
        const to = await openLedger(o.to, { words: { check: '--to', give: '--to' } }).catch(failed);
        let r: CopyResult;
        try {
          r = copyLedger(from, to, { onProgress: (n) => (copied = n) });
        } catch (e) {
          await to.close().catch(() => {});
          failed(e);
        }
        await to.close();
        const { liveMerges, watchCursorsLeft, ...counts } = r;
        if (o.json) ctx.out(JSON.stringify({ ...counts, live_merges: liveMerges.length, watch_cursors_left: watchCursorsLeft }));
        else {
          const merges = liveMerges.length ? `; ${counted(liveMerges.length, 'live merge')} (${liveMerges.map((m) => `${m.into} follows ${m.pattern}`).join(', ')})` : '';
          const cursors = watchCursorsLeft
            ? `; watch's ${counted(watchCursorsLeft, 'cursor')} not carried: a watch on ${redactUrl(o.to)} reads its inputs again, and what the log holds adds nothing`
            : '';
          ctx.out(`copied ${counted(r.events, 'event')} from ${redactUrl(o.from)} to ${redactUrl(o.to)}: ${r.appended} appended, ${r.duplicates} there already; ${counted(r.imports, 'import snapshot')}${merges}${cursors}`);
        }
      } finally {
        await from.close();
      }
    });
}
