import type { Command } from 'commander';
import { profileOptions, selectProfile, usage, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function whyCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('why').description('when and why each dim of a source became dynamic (every dynamic dim when no --source)')))
    .option('--source <source>', "the source, e.g. L['x']")
    .option('--dim <n>', 'one dim: a number (a size dim), "stride N", "scalar", or a number of dims: "rank" (of the size) or "stride"')
    .option('--code <ref>', 'one code id: a function name, file:line:name, or the code id text')
    .option('--json', 'JSON')
    .action(async (o: SelectOpts & WindowOpts & { source?: string; dim?: string; code?: string; json?: boolean }) => {
      const { explain, parseDimRef } = await import('../../store/why.ts');
      const { storyJson, storyText } = await import('../why-format.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const dim = o.dim === undefined ? undefined : (parseDimRef(o.dim) ?? usage(`--dim ${o.dim}: want a number${/\d{10}/.test(o.dim) ? ' a tensor can have as a dim (under 1024)' : ''}, "scalar", "rank" or "stride N"`));
      const window = windowFor(l, o, o.asOf, '--as-of', p);
      // --code in the command line's words first (explain's own check names its field, `code`)
      if (o.code !== undefined) {
        const { matchCodeIn } = await import('../../store/code-ref.ts');
        matchCodeIn(l, p.id, window, o.code, '--code');
      }
      // a source or dim the profile does not hold is explain's error (one for the library and here)
      const stories = explain(l, p.id, { source: o.source, dim, code: o.code, window });
      // a log whose runs came in out of time order: the story is the log's, said (trial s28a)
      const { lateRuns, lateRunText } = await import('../../store/late-runs.ts');
      const late = lateRuns(l.sql, p.id, window);
      if (late.length && stories.length) process.stderr.write(`pgo-ledger: note: ${lateRunText(p.cacheKey, late)}\n`);
      if (!stories.length && !o.json) ctx.out(`${p.cacheKey}: no dim is dynamic`);
      if (o.json) {
        // each logged record whole, as history gives it (one JSON vocabulary)
        const { loggedRecords } = await import('../../store/logged-records.ts');
        const records = loggedRecords(l, stories);
        ctx.out(JSON.stringify(stories.map((s) => storyJson(s, records))));
      }
      // one write, not one a line (a long answer is thousands of lines): the same bytes
      else {
        const { profileRunCount } = await import('../../store/profile-runs.ts');
        const manyRuns = profileRunCount(l.sql, p.id, window) > 1;
        const text = storyText(stories, { manyRuns }).map((line) => (line.endsWith('\n') ? line : `${line}\n`)).join('');
        if (text) ctx.out(text);
      }
    });
}

