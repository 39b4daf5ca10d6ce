import type { Command } from 'commander';
import { profileOptions, selectProfile, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function historyCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('history').description('the recompile-reason records, in order')))
    .option('--source <source>', 'only this source')
    .option('--code <ref>', 'only this code id (a function name, file:line:name, or the code id text)')
    .option('--shapes', 'the inputs each compile saw (from traces: tensors described, ints and floats fed as symbols), not the records')
    .option('--json', 'JSON lines')
    .action(async (o: SelectOpts & WindowOpts & { source?: string; code?: string; shapes?: boolean; json?: boolean }) => {
      const { historyAsOf } = await import('../../store/history.ts');
      const { matchCodeIn } = await import('../../store/code-ref.ts');
      const { noSuchSource, sourcesOf } = await import('../../store/known.ts');
      const { historyJson, historyText } = await import('../json.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const w = windowFor(l, o, o.asOf, '--as-of', p);
      // --code names one of the profile's code ids, whatever the rows hold (one rule, as why's)
      const codes = o.code === undefined && o.source === undefined ? [] : [...l.fold(p.id, w).profile.codes.values()];
      const wanted = o.code === undefined ? null : matchCodeIn(l, p.id, w, o.code, '--code', codes.map((c) => c.id));
      const holds = (source: string) => codes.some((c) => (!wanted || wanted(c.id)) && c.state.automaticDynamic.has(source));
      if (o.shapes) {
        const { describedShapes } = await import('../../store/described-shapes.ts');
        const { describedScalars } = await import('../../store/described-scalars.ts');
        const { describedJson, describedText, describedScalarJson, describedScalarText } = await import('../json.ts');
        // the tensors described and the ints and floats fed as symbols, in log order
        let shapes = [
          ...describedShapes(l, p.id, w).map((s) => ({ s, out: () => (o.json ? JSON.stringify(describedJson(s)) : describedText(s)) })),
          ...describedScalars(l, p.id, w).map((s) => ({ s, out: () => (o.json ? JSON.stringify(describedScalarJson(s)) : describedScalarText(s)) })),
        ].sort((a, b) => a.s.position - b.s.position);
        if (wanted) shapes = shapes.filter(({ s }) => wanted(s.code));
        if (o.source !== undefined) shapes = shapes.filter(({ s }) => s.source === o.source);
        // a trace describes sources the profile never holds (a module's parameters): those are no typo
        if (o.source !== undefined && !shapes.length && !holds(o.source)) noSuchSource(p.cacheKey, { source: o.source, code: o.code, window: w, has: sourcesOf(codes, wanted) });
        for (const { out } of shapes) ctx.out(out());
        // as the records say it (trial s36a: nothing at all, read as a failure); only traces describe inputs
        if (!shapes.length && !o.json) ctx.out('no compile inputs described (TORCH_TRACE logs describe them: tensors, and ints and floats fed as symbols or specialized)');
        return;
      }
      // a source the profile does not hold is an error, as in why (not an empty answer)
      if (o.source !== undefined && !holds(o.source)) noSuchSource(p.cacheKey, { source: o.source, code: o.code, window: w, has: sourcesOf(codes, wanted) });
      let rows = historyAsOf(l, p.id, w);
      if (wanted) rows = rows.filter((h) => wanted(h.code));
      if (o.source) rows = rows.filter((h) => h.name === o.source);
      for (const h of rows) ctx.out(o.json ? JSON.stringify(historyJson(h)) : historyText(h));
      // as stats says it: an empty answer is not a silent one
      if (!rows.length && !o.json) ctx.out('no recompile records');
    });
}
