import { Option, type Command } from 'commander';
import type { ExportFormat } from '../../adapters/export-profile.ts';
import type { PickleProtocol } from '../../codecs/pickle/index.ts';
import { inputError, LedgerError } from '../../errors.ts';
import type { TorchLayout } from '../../model/profile.ts';
import { LAYOUT_FLAGS, profileAt, profileOptions, refuseEmpty, selectProfile, usage, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';
import { counted } from '../../counted.ts';

export function exportCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('export').description('what PyTorch loads: a pickle, a mega-cache bundle, the remote-cache JSON value, or a cache dir')))
    .addOption(new Option('--format <format>', 'output format').choices(['pickle', 'megacache', 'remote-json', 'local-dir']).makeOptionMandatory())
    .option('-o, --output <path>', 'output file (for local-dir: the cache dir)')
    .addOption(new Option('--protocol <n>', 'pickle protocol').choices(['2', '3', '4', '5']).default('4'))
    .option('--base <bundle>', 'megacache: write into this existing bundle, keeping its other artifacts')
    .option('--allow-empty', 'write a profile with no code ids (PyTorch would start from nothing)')
    
    .addOption(new Option('--torch <version>', "the PyTorch pickle layout (default: the one the profile's data came in, else 2.11)").choices(['2.11', '2.12']))
    .option('--merge-closures', '--torch 2.11: join code ids that differ only in closure_hash (that layout cannot hold them apart)')
    .option('--json', 'one JSON object: the profile, the format, the file written, its bytes and code ids')
    .action(async (o: SelectOpts & WindowOpts & { format: ExportFormat; output?: string; protocol: string; base?: string; allowEmpty?: boolean; torch?: TorchLayout; mergeClosures?: boolean; json?: boolean }) => {
      const { exportBytes, profileAsWritten, writeFileAtomic, writeLocalDir } = await import('../../adapters/export-profile.ts');
      const { writtenStrings } = await import('../../adapters/source-names.ts');
      const { readFileSync } = await import('node:fs');
      if (!o.output) usage('export needs -o/--output');
      // the bytes themselves go to stdout there: a JSON line after them would be neither
      if (o.json && o.output === '-') usage('--json with -o -: stdout holds the export itself; give -o a file for --json');
      if (o.base !== undefined && o.format !== 'megacache') usage(`--base is a mega-cache bundle to write into: it goes with --format megacache, not ${o.format}`);
      let base: Uint8Array | undefined;
      if (o.base !== undefined) {
        try {
          base = readFileSync(o.base);
        } catch (e) {
          throw inputError(`--base ${o.base}: cannot read it`, e);
        }
      }
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const window = windowFor(l, o, o.asOf, '--as-of', p);
      const view = profileAt(l, p, window);
      refuseEmpty(p.cacheKey, view.profile, o);
      const protocol = Number(o.protocol) as PickleProtocol;
      // strings shared as the library decides them for the view (its writer's); asked of the view,
      // as the profile written may be a new one (closures merged)
      const layout = { torch: o.torch, mergeClosures: o.mergeClosures, ...writtenStrings(view.profile) };
      // with --merge-closures it has fewer code ids than the view: the message counts what was written
      const written = profileAsWritten(view.profile, layout, LAYOUT_FLAGS);
      const said = (output: string, bytes: number | null) =>
        ctx.out(o.json ? JSON.stringify({ cache_key: p.cacheKey, format: o.format, output, ...(o.format === 'pickle' || o.format === 'local-dir' ? { protocol } : {}), bytes, codes: written.codes.size }) : `wrote ${output}${bytes === null ? '' : ` (${o.format}, ${bytes} bytes, ${counted(written.codes.size, 'code id')})`}`);
      if (o.format === 'local-dir') return void said(writeLocalDir(o.output, p.cacheKey, written, protocol, layout), null);
      let bytes: Uint8Array;
      try {
        bytes = exportBytes(written, { format: o.format, cacheKey: p.cacheKey, protocol, base, ...layout });
      } catch (e) {
        throw base && e instanceof LedgerError ? inputError(`--base ${o.base}`, e) : e;
      }
      if (o.output === '-') process.stdout.write(bytes);
      else {
        // (to stdout's own descriptor, as `-`: no words after the bytes)
        if (writeFileAtomic(o.output, bytes, { ledger: l.path }).fd !== 1) said(o.output, bytes.length);
      }
    });
}
