import { Option, type Command } from 'commander';
import type { IngestKind } from '../../adapters/ingest-file.ts';
import { parseRank, type CliContext } from '../context.ts';

export function ingestCommand(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .description('append what a file holds to the log: observation JSONL, profile pickles, mega-caches, remote values, TORCH_TRACE logs')
    .argument('<files...>', "files or folders ('-' for stdin)")
    .option('--job <job>', 'job id for what the input lacks')
    .option('--rank <rank>', 'rank for what the input lacks')
    .option('--tag <tag>', 'cache_key_tag for what the input lacks')
    .option('--run <run>', 'run id for what the input lacks')
    .option('--hash-files <dir>', "compute a missing file_hash from the code's file, for regular files under this folder only (else the path stands in)")
    .addOption(new Option('--kind <kind>', 'force the input kind').choices(['observations', 'pickle', 'megacache', 'remote-json', 'trace']))
    .option('--skip-invalid', 'go on past bad lines and count them')
    .option('--json', 'one JSON object per input')
    .action(async (files: string[], o: { job?: string; rank?: string; tag?: string; run?: string; hashFiles?: string; kind?: IngestKind; skipInvalid?: boolean; json?: boolean }) => {
      const { ingestFile } = await import('../../adapters/ingest-file.ts');
      const { progressBar } = await import('../progress.ts');
      const l = await ctx.open({ write: true });
      const defaults = { job: o.job, rank: o.rank === undefined ? undefined : parseRank(o.rank), tag: o.tag, run: o.run, hashFiles: o.hashFiles };
      for (const f of files) {
        const bar = progressBar(f);
        try {
          const s = await ingestFile(l, f, { kind: o.kind, defaults, skipInvalid: o.skipInvalid, onProgress: bar.update, onNote: (m) => process.stderr.write(`${m}\n`) });
          bar.stop();
          if (o.json) ctx.out(JSON.stringify({ input: f, kind: s.kind, appended: s.appended, duplicates: s.duplicates, skipped: s.skipped ?? 0, records: s.records ?? 0 }));
          else ctx.out(`${f}: ${s.kind}: ${s.appended} events appended, ${s.duplicates} already in the log${s.skipped ? `, ${s.skipped} invalid lines skipped` : ''}${s.records ? `, ${s.records} recompile reasons` : ''}`);
        } finally {
          bar.stop();
        }
      }
    });
}
