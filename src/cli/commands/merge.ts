import { Option, type Command } from 'commander';
import { parseRank, selectProfile, usage, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

export function mergeCommand(program: Command, ctx: CliContext): void {
  program
    .command('merge')
    .description("the join of profiles, as PyTorch's compiler collectives join ranks")
    .option('--from <profile>', "a job id, a cache key, or a glob over cache keys such as 'job:*' (every rank and tag of a job) (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--into <job>', 'the job (or cache key) to join them into')
    .option('--rank <rank>', 'rank of the target')
    .option('--tag <tag>', 'cache_key_tag of the target')
    .option('--live', 'keep the target up to date: each later batch appended to a matching profile is joined in (in its transaction)')
    // with --live or --from it would stop the merges and leave the rest undone, unsaid
    .addOption(new Option('--stop-live', "stop the target's live merges (what was joined stays)").conflicts(['live', 'from']))
    .option('--json', 'one JSON object: the target, the profiles joined, the events appended (with --stop-live: the live merges stopped)')
    .action(async (o: { from: string[]; into: string; rank?: string; tag?: string; live?: boolean; stopLive?: boolean; json?: boolean }) => {
      const { mergeProfiles } = await import('../../adapters/merge-profiles.ts');
      const { defineLiveMerge, dropLiveMerges, isGlob, liveMerges, matchingKeys } = await import('../../store/live-merges.ts');
      const { cacheKey } = await import('../../model/cache-key.ts');
      const l = await ctx.open({ write: true });
      // a cache key (job:rank:tag, as `jobs` prints it) is one whether or not its profile is there yet
      // (trial s36a: a new `jm:5:` was read as the job "jm:5:", key jm:5::None:)
      const keyShaped = l.profileByKey(o.into) !== undefined || /:(None|\d+):[^:]*$/.test(o.into);
      if (keyShaped && (o.rank !== undefined || o.tag !== undefined)) usage(`--into ${o.into} is a cache key (job:rank:tag): --rank and --tag go with a job id`);
      const into = keyShaped ? (l.profileByKey(o.into)?.cacheKey ?? o.into) : cacheKey({ job: o.into, rank: o.rank === undefined ? null : parseRank(o.rank), tag: o.tag ?? '' });
      if (o.stopLive) {
        const n = dropLiveMerges(l.sql, into);
        if (n === 0) {
          // a mistyped target stops nothing: said, as bad input, with the targets there are
          const targets = [...new Set(liveMerges(l.sql).map((m) => m.into))];
          usage(`no live merge goes into ${into}, nothing stopped (${targets.length ? `live merges go into: ${targets.join(', ')}` : 'the ledger has no live merge'})`);
        }
        ctx.out(o.json ? JSON.stringify({ into, stopped: n }) : `${into}: ${counted(n, 'live merge')} stopped`);
        return;
      }
      if (!o.from.length) usage('give --from (a job, a cache key, or a glob such as \'job:*\')');
      const all = l.profiles();
      const patterns: string[] = [];
      const from = o.from.flatMap((f) => {
        if (!isGlob(f)) {
          const p = l.profileByKey(f) ?? selectProfile(l, { job: f });
          // as a glob never takes the target: joined into itself it would only gain import events
          if (p.cacheKey === into) usage(`--from ${f} is the target ${into} itself (--into names where the join goes)`);
          patterns.push(p.cacheKey);
          return [p];
        }
        patterns.push(f);
        const keys = matchingKeys(all.map((p) => p.cacheKey), f, into);
        // a live merge may name ranks still to come
        if (!keys.length && !o.live) {
          // the target fits too but is never joined into itself: said so (trial s26a: "no profile matches")
          const only = matchingKeys(all.map((p) => p.cacheKey), f, '').includes(into);
          usage(`--from ${f}: ${only ? `no profile matches but the target ${into} itself, which a merge never joins into itself` : 'no profile matches'} (the ledger has: ${all.map((p) => p.cacheKey).join(', ') || 'none'})`);
        }
        return all.filter((p) => keys.includes(p.cacheKey));
      });
      const unique = [...new Map(from.map((p) => [p.cacheKey, p])).values()];
      const r = l.sql.immediate(() => {
        if (o.live) defineLiveMerge(l.sql, into, patterns);
        return mergeProfiles(l, unique, into);
      });
      if (o.json) return void ctx.out(JSON.stringify({ into, from: unique.map((f) => f.cacheKey), appended: r.appended, records: r.records, live: o.live ? patterns : null }));
      ctx.out(`joined ${unique.map((f) => f.cacheKey).join(' + ') || 'nothing yet'} into ${into}: ${counted(r.appended, 'event')}${r.records ? `, ${counted(r.records, 'recompile reason')}` : ''}`);
      if (o.live) ctx.out(`live: ${into} follows ${patterns.join(', ')} (each batch appended to a matching profile is joined in)`);
    });
}
