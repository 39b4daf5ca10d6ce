import type { Command } from 'commander';
import { parseRank, usage, type CliContext } from '../context.ts';
import { counted } from '../../counted.ts';

export function pullCommand(program: Command, ctx: CliContext): void {
  program
    .command('pull')
    .description('ingest the profiles jobs wrote to the remote cache')
    .argument('<redis-url>', 'redis:// or rediss:// URL')
    .option('--job <job>', 'the job to pull')
    .option('--rank <rank>', 'rank')
    .option('--tag <tag>', 'cache_key_tag')
    .option('--all', 'every pt2:dynamo-pgo::* entry')
    .option('--run <run>', 'run id to record')
    .option('--json', 'one JSON object: the entries pulled, those not set, those bad, the events appended')
    .action(async (url: string, o: { job?: string; rank?: string; tag?: string; all?: boolean; run?: string; json?: boolean }) => {
      if (!o.all && !o.job) usage('pull needs --job or --all');
      const { pullProfiles } = await import('../../adapters/redis.ts');
      // the key PyTorch wrote: a MAST job's own (mast:{name}:{version}) and an extra key may start with mast:
      const { formatCacheKey } = await import('../../model/cache-key.ts');
      const l = await ctx.open({ write: true, create: true, takeBack: true });
      const which = o.all ? ({ all: true } as const) : { cacheKey: formatCacheKey({ job: o.job!, rank: o.rank === undefined ? null : parseRank(o.rank), tag: o.tag ?? '' }) };
      const r = await pullProfiles(l, url, which, { run: o.run ?? null });
      for (const b of r.bad) process.stderr.write(`pgo-ledger: ${b.key}: ${b.message}\n`);
      for (const n of r.notes) process.stderr.write(`${n}\n`);
      if (o.json) ctx.out(JSON.stringify({ pulled: r.keys, missing: r.missing, bad: r.bad.map((b) => ({ key: b.key, error: b.message })), appended: r.appended, duplicates: r.duplicates, records: r.records, ...(r.notes.length ? { notes: r.notes } : {}) }));
      else if (!r.keys.length && !r.missing.length && !r.bad.length) ctx.out('no pt2:dynamo-pgo entries');
      if (!o.json) for (const k of r.missing) ctx.out(`${k}: not set`);
      if (!o.json && r.keys.length) ctx.out(`pulled ${counted(r.keys.length, 'entry', 'entries')}: ${counted(r.appended, 'event')} appended, ${r.duplicates} already in the log${r.records ? `, ${counted(r.records, 'recompile reason')}` : ''}`);
      if (r.bad.length) process.stderr.write(`pgo-ledger: ${r.bad.length} bad entr${r.bad.length === 1 ? 'y' : 'ies'} not pulled (named above)\n`);
      if ((!o.all && r.missing.length) || r.bad.length) {
        ctx.setExitCode(2);
        // as every command that fails under --json ends its stdout
        // what stderr's last line says of the bad entries (each named above it), and the keys not set
        const failed = [...(o.all ? [] : r.missing.map((k) => `${k}: not set`)), ...(r.bad.length ? [`${r.bad.length} bad entr${r.bad.length === 1 ? 'y' : 'ies'} not pulled: ${r.bad.map((b) => b.key).join(', ')}`] : [])];
        if (o.json) ctx.out(JSON.stringify({ error: failed.join('; ') }));
      }
    });
}
