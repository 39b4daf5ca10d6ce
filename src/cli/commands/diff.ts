import type { Command } from 'commander';
import { profileOptions, selectProfile, usage, windowFor, windowOptions, type CliContext, type SelectOpts, type WindowOpts } from '../context.ts';

export function diffCommand(program: Command, ctx: CliContext): void {
  windowOptions(profileOptions(program.command('diff').description('entries and dims that changed between two points')), false)
    .requiredOption('--from <pos|time>', 'the earlier point')
    .option('--to <pos|time>', 'the later point (default: now, the whole log)')
    .option('--json', 'JSON lines')
    .action(async (o: SelectOpts & WindowOpts & { from: string; to?: string; json?: boolean }) => {
      const { diffProfiles } = await import('../../store/diff.ts');
      const { markDynamicSince } = await import('../../store/dynamic-since.ts');
      const { changeJson, changeText, isoTime } = await import('../json.ts');
      const { firstOutside, retractionsIn } = await import('../../store/window.ts');
      const l = await ctx.open();
      const p = selectProfile(l, o);
      const to = windowFor(l, o, o.to, '--to', p);
      const from = windowFor(l, o, o.from, '--from', p);
      if ((from.untilPosition ?? 0) > (to.untilPosition ?? Infinity) || (from.untilTime ?? 0) > (to.untilTime ?? Infinity)) usage(`--from ${o.from} comes after --to ${o.to}`);
      // a position and a time: the diff of two windows that do not nest reads as changes undone
      const outside = o.to !== undefined && (from.untilPosition === undefined) !== (to.untilPosition === undefined) ? firstOutside(l.sql, p.id, from, to) : null;
      if (outside) usage(`--from ${o.from} holds #${outside.position} (${isoTime(outside.time)}), which --to ${o.to} does not: a position and a time name windows that need not nest, as event times can run out of position order; give both as positions or both as times`);
      const changes = diffProfiles(l.fold(p.id, from).profile, l.fold(p.id, to).profile);
      markDynamicSince(l, p.id, to, changes);
      for (const c of changes) ctx.out(o.json ? JSON.stringify(changeJson(c)) : changeText(c));
      if (!changes.length && !o.json) ctx.out('no change');
      // A retraction between the two points undoes what its run brought, and no event of the
      // run names the change (trial 20: `diff --from 12` printed `size[1]: ? -> 128`, no cause)
      if (changes.length) {
        const { dictionaries } = await import('../../store/log.ts');
        const dict = dictionaries(l.sql);
        const held = new Set(retractionsIn(l.sql, p.id, from, dict).map((r) => r.position));
        const excluded = new Set(o.excludeRun ?? []);
        for (const r of retractionsIn(l.sql, p.id, to, dict)) {
          if (held.has(r.position) || excluded.has(r.run)) continue;
          process.stderr.write(`pgo-ledger: note: run ${r.run} was retracted at #${r.position} (${isoTime(r.time)}), after --from ${o.from}: --to leaves its events out, --from holds them\n`);
        }
      }
    });
}
