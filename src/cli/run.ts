
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { exportBytes, writeFileAtomic, writeLocalDir, type ExportFormat } from '../adapters/export-profile.ts';
import { ingestFile, type IngestKind } from '../adapters/ingest-file.ts';
import type { PickleProtocol } from '../codecs/pickle/index.ts';
import { codeIdText } from '../model/code-id.ts';
import { dynamicSources, renderProfile } from '../model/render.ts';
import { diffProfiles } from '../store/diff.ts';
import { openLedger, type Ledger, type ProfileRow } from '../store/ledger.ts';
import { retractRun } from '../store/retract.ts';
import { verifyLedger } from '../store/verify.ts';
import { explain, type DimRef } from '../store/why.ts';
import { historyAsOf } from '../store/history.ts';
import { progressBar } from './progress.ts';
import { reportProfile } from '../report/report-data.ts';
import { renderReportHtml } from '../report/render-html.ts';
import { publishProfile, pullProfiles } from '../adapters/redis.ts';
import { mergeProfiles } from '../adapters/merge-profiles.ts';
import { cacheKey as cacheKeyOf } from '../model/cache-key.ts';
import { parsePoint, pointFilter, type Point } from './points.ts';
import type { StreamView } from '../store/fold.ts';

export class UsageError extends Error {}

interface Global {
  db: string;
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Builds the commands; each is a few lines over the library. Returns the exit code. */
export async function runCli(program: Command, argv: string[]): Promise<number> {
  let code = 0;
  let ledger: Ledger | undefined;
  const open = async (): Promise<Ledger> => (ledger ??= await openLedger((program.opts() as Global).db));

  program
    .name('pgo-ledger')
    .description('Event-sourced store for torch.compile automatic-dynamic (PGO) profiles')
    .addOption(new Option('--db <path>', 'the ledger database').env('PGO_LEDGER_DB').default('./pgo-ledger.db'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();

  const profileOpts = (c: Command) =>
    c
      .requiredOption('--job <job>', 'job id (torch.compiler.config.job_id)')
      .option('--rank <rank>', "rank (omit for PyTorch's None)")
      .option('--tag <tag>', 'cache_key_tag');
  const asOf = (c: Command) => c.option('--as-of <pos|time>', 'as of a log position or an ISO time');

  program
    .command('ingest')
    .description('append what a file holds to the log: observation JSONL, profile pickles, mega-caches, remote values, TORCH_TRACE logs')
    .argument('<files...>', "files or folders ('-' for stdin)")
    .option('--job <job>', 'job id for what the input lacks')
    .option('--rank <rank>', 'rank for what the input lacks')
    .option('--tag <tag>', 'cache_key_tag for what the input lacks')
    .option('--run <run>', 'run id for what the input lacks')
    .addOption(new Option('--kind <kind>', 'force the input kind').choices(['observations', 'pickle', 'megacache', 'remote-json', 'trace']))
    .option('--skip-invalid', 'go on past bad lines and count them')
    .action(async (files: string[], o: { job?: string; rank?: string; tag?: string; run?: string; kind?: IngestKind; skipInvalid?: boolean }) => {
      const l = await open();
      const defaults = { job: o.job, rank: o.rank === undefined ? undefined : parseRank(o.rank), tag: o.tag, run: o.run };
      for (const f of files) {
        const bar = progressBar(f);
        try {
          const s = await ingestFile(l, f, { kind: o.kind, defaults, skipInvalid: o.skipInvalid, onProgress: bar.update, onNote: (m) => process.stderr.write(`${m}\n`) });
          bar.stop();
          out(`${f}: ${s.kind}: ${s.appended} events appended, ${s.duplicates} already in the log${s.skipped ? `, ${s.skipped} invalid lines skipped` : ''}${s.records ? `, ${s.records} recompile reasons` : ''}`);
        } finally {
          bar.stop();
        }
      }
    });

  program
    .command('jobs')
    .description('the profiles held, with event counts and last change')
    .option('--json', 'JSON lines')
    .action(async (o: { json?: boolean }) => {
      const l = await open();
      for (const p of l.profiles()) {
        if (o.json) out(JSON.stringify({ cache_key: p.cacheKey, job: p.key.job, rank: p.key.rank, tag: p.key.tag, events: p.eventCount, last_position: p.lastPosition, last_time: iso(p.lastTime) }));
        else out(`${p.cacheKey}\t${p.eventCount} events\tlast change at ${p.lastPosition ?? '-'} (${iso(p.lastTime) ?? '-'})`);
      }
    });

  asOf(profileOpts(program.command('show').description("the profile exactly as PyTorch's render_code_state prints it")))
    .option('--json', 'the profile as JSON')
    .action(async (o: SelectOpts & { asOf?: string; json?: boolean }) => {
      const l = await open();
      const p = selectProfile(l, o);
      const view = profileAt(l, p, o.asOf);
      if (o.json) {
        const { entryToJson } = await import('../codecs/entry-json.ts');
        out(
          JSON.stringify({
            cache_key: p.cacheKey,
            codes: [...view.profile.codes.values()].map(({ id, state }) => ({ code: id, entries: Object.fromEntries([...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])) })),
            dynamic_sources: dynamicSources(view.profile),
          }),
        );
      } else out(renderProfile(view.profile));
    });

  asOf(profileOpts(program.command('history').description('the recompile-reason records, in order')))
    .option('--source <source>', 'only this source')
    .option('--json', 'JSON lines')
    .action(async (o: SelectOpts & { asOf?: string; source?: string; json?: boolean }) => {
      const l = await open();
      const p = selectProfile(l, o);
      const rows = o.asOf ? historyAsOf(l, p.id, pointFilter(o.asOf)) : l.history(p.id);
      for (const h of rows) {
        if (o.source && h.name !== o.source) continue;
        if (o.json) {
          out(
            JSON.stringify({
              position: h.position,
              code: codeIdText(h.code),
              name: h.name,
              dim_changed: h.dim_changed,
              reason: h.reason,
              cached: h.cached,
              new: h.new,
              run: h.run,
              time: iso(h.time),
              compile_id: h.compileId,
              origin: h.origin === null ? null : h.originLine === null ? h.origin : `${h.origin}:${h.originLine}`,
              guard: h.guard,
            }),
          );
        } else {
          out(`#${h.position} ${iso(h.time)} ${h.run ?? '-'}${h.compileId ? ` [${h.compileId}]` : ''} ${h.name} ${h.dim_changed === 'all' || h.dim_changed === 'scalar' ? h.dim_changed : `dim ${h.dim_changed}`}: ${h.reason}: ${h.cached} -> ${h.new}`);
          if (h.guard) out(`    guard failure: ${h.guard.split('\n')[0]}`);
        }
      }
    });

  asOf(profileOpts(program.command('why').description('when and why each dim of a source became dynamic')))
    .requiredOption('--source <source>', "the source, e.g. L['x']")
    .option('--dim <n>', 'one dim (a number, or "scalar")')
    .option('--code <ref>', 'only code ids whose text holds this (or with this name)')
    .option('--json', 'JSON')
    .action(async (o: SelectOpts & { asOf?: string; source: string; dim?: string; code?: string; json?: boolean }) => {
      const l = await open();
      const p = selectProfile(l, o);
      const dim: DimRef | undefined = o.dim === undefined ? undefined : o.dim === 'scalar' ? 'scalar' : /^\d+$/.test(o.dim) ? Number(o.dim) : usage(`--dim ${o.dim}: want a number or "scalar"`);
      const stories = explain(l, p.id, o.source, { dim, code: o.code, filter: pointFilter(o.asOf) });
      if (!stories.length) throw new UsageError(`${p.cacheKey} has no source ${o.source}${o.code ? ` in code ${o.code}` : ''}${dim !== undefined ? ` with dim ${dim}` : ''}`);
      if (o.json) return void out(JSON.stringify(stories.map((s) => ({ ...s, code: codeIdText(s.code), becameDynamic: s.becameDynamic && { ...s.becameDynamic, time: iso(s.becameDynamic.time) } }))));
      let lastCode = '';
      for (const s of stories) {
        const c = codeIdText(s.code);
        if (c !== lastCode) out(`${s.source} in ${c}:`);
        lastCode = c;
        const label = s.dim === 'scalar' ? 'the int itself' : s.dim === 'rank' ? 'the number of dims' : `dim ${s.dim}`;
        if (!s.dynamic) {
          out(`  ${label}: static at ${s.current}${s.values.length ? ` (${s.values.map((v) => `${v.value} seen ${v.count}x`).join(', ')})` : ''}`);
          continue;
        }
        const b = s.becameDynamic;
        if (b) {
          const where = b.origin ? `, from ${b.origin}${b.originLine !== null ? `:${b.originLine}` : ''}` : '';
          if (b.logged) {
            const lw = b.logged.origin ? `, ${b.logged.origin}${b.logged.originLine !== null ? `:${b.logged.originLine}` : ''}` : '';
            out(`  ${label}: dynamic since compile ${b.logged.compileId ?? '?'} (event #${b.position}, ${iso(b.time)}, run ${b.run ?? '-'}${lw}): it was ${b.logged.cached}, then ${b.logged.new} came`);
            if (b.logged.guard) out(`    PyTorch's guard failure: ${b.logged.guard.split('\n')[0]}`);
          } else {
            out(`  ${label}: dynamic since event #${b.position} (${iso(b.time)}, run ${b.run ?? '-'}${b.compileId ? `, compile ${b.compileId}` : ''}${where}): it was ${b.before}, ${b.kind === 'shape.observed' ? `that observation had ${b.observed}` : 'an imported profile had it dynamic'}`);
          }
        } else out(`  ${label}: dynamic from its first sighting`);
        if (s.values.length) out(`    values seen: ${s.values.map((v) => `${v.value} (${v.count}x${v.runs.length ? `, runs ${v.runs.join(', ')}` : ''})`).join('; ')}`);
        out(`    ${s.advice}`);
      }
    });

  asOf(profileOpts(program.command('export').description('what PyTorch loads: a pickle, a mega-cache bundle, the remote-cache JSON value, or a cache dir')))
    .addOption(new Option('--format <format>', 'output format').choices(['pickle', 'megacache', 'remote-json', 'local-dir']).makeOptionMandatory())
    .option('-o, --output <path>', 'output file (for local-dir: the cache dir)')
    .addOption(new Option('--protocol <n>', 'pickle protocol').choices(['2', '3', '4', '5']).default('4'))
    .option('--base <bundle>', 'megacache: write into this existing bundle, keeping its other artifacts')
    .action(async (o: SelectOpts & { asOf?: string; format: ExportFormat; output?: string; protocol: string; base?: string }) => {
      const l = await open();
      const p = selectProfile(l, o);
      if (!o.output) throw new UsageError('export needs -o/--output');
      const view = profileAt(l, p, o.asOf);
      const protocol = Number(o.protocol) as PickleProtocol;
      if (o.format === 'local-dir') {
        out(`wrote ${writeLocalDir(o.output, p.cacheKey, view.profile, protocol)}`);
        return;
      }
      const bytes = exportBytes(view.profile, { format: o.format, cacheKey: p.cacheKey, protocol, base: o.base ? readFileSync(o.base) : undefined });
      if (o.output === '-') process.stdout.write(bytes);
      else {
        writeFileAtomic(o.output, bytes);
        out(`wrote ${o.output} (${o.format}, ${bytes.length} bytes, ${view.profile.codes.size} code ids)`);
      }
    });

  program
    .command('replay')
    .description('rebuild every view from the log')
    .option('--until <pos|time>', 'fold only up to this position or time')
    .option('--exclude-run <run>', 'leave a run out (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (o: { until?: string; excludeRun: string[] }) => {
      const l = await open();
      const p: Point | undefined = o.until ? parsePoint(o.until) : undefined;
      const bar = progressBar('replay', 'events');
      const total = l.sql.get<{ n: number | null }>('select max(position) n from events')?.n ?? 0;
      const r = l.replay({ untilPosition: p?.position, untilTime: p?.time, excludeRuns: o.excludeRun }, (n) => bar.update(n, total));
      bar.stop();
      out(`replayed ${r.events} events into ${r.profiles} profiles (${r.records} recompile reasons)${o.until ? `, up to ${o.until}` : ''}${o.excludeRun.length ? `, without run ${o.excludeRun.join(', ')}` : ''}`);
    });

  program
    .command('verify')
    .description('fold the log afresh and report any difference from the stored views (exit 1 if any)')
    .option('--json', 'JSON')
    .action(async (o: { json?: boolean }) => {
      const l = await open();
      const r = verifyLedger(l);
      if (o.json) out(JSON.stringify(r));
      else {
        for (const d of r.differences) out(d);
        out(r.differences.length ? `verify: ${r.differences.length} differences in ${r.profiles} profiles` : `verify: ${r.profiles} profiles match the log`);
      }
      if (r.differences.length) code = 1;
    });

  profileOpts(program.command('diff').description('entries and dims that changed between two points'))
    .requiredOption('--from <pos|time>', 'the earlier point')
    .requiredOption('--to <pos|time>', 'the later point')
    .option('--json', 'JSON lines')
    .action(async (o: SelectOpts & { from: string; to: string; json?: boolean }) => {
      const l = await open();
      const p = selectProfile(l, o);
      const a = l.fold(p.id, pointFilter(o.from));
      const b = l.fold(p.id, pointFilter(o.to));
      const changes = diffProfiles(a.profile, b.profile);
      for (const c of changes) {
        if (o.json) out(JSON.stringify(c));
        else out(`${c.change} ${c.source} in ${c.code}: ${c.from ?? ''}${c.from && c.to ? ' -> ' : ''}${c.to ?? ''}${c.dims.length ? `\n    ${c.dims.join('\n    ')}` : ''}`);
      }
      if (!changes.length && !o.json) out('no change');
    });

  program
    .command('retract')
    .description('retract a run: the profiles become what a store that never saw it would hold')
    .requiredOption('--run <run>', 'the run to retract')
    .option('--job <job>', 'only in this job')
    .option('--reason <text>', 'why')
    .action(async (o: { run: string; job?: string; reason?: string }) => {
      const l = await open();
      const n = retractRun(l, o.run, { job: o.job, reason: o.reason });
      if (!n.length) throw new UsageError(`run ${o.run} has no events${o.job ? ` in job ${o.job}` : ''}`);
      out(`retracted run ${o.run} in ${n.join(', ')}`);
    });

  program
    .command('report')
    .description("an HTML report of a profile's history: one self-contained file that works from disk")
    .option('--job <job>', 'the job')
    .option('--rank <rank>', 'rank')
    .option('--tag <tag>', 'cache_key_tag')
    .option('--all', 'every profile')
    .requiredOption('-o, --output <file>', 'the HTML file')
    .action(async (o: { job?: string; rank?: string; tag?: string; all?: boolean; output: string }) => {
      const l = await open();
      if (!o.all && !o.job) throw new UsageError('report needs --job or --all');
      const profiles = o.all ? l.profiles() : [selectProfile(l, { job: o.job!, rank: o.rank, tag: o.tag })];
      if (!profiles.length) throw new UsageError('the ledger holds no profiles');
      const html = renderReportHtml(profiles.map((p) => reportProfile(l, p)));
      writeFileAtomic(o.output, Buffer.from(html));
      out(`wrote ${o.output} (${profiles.length} profile${profiles.length === 1 ? '' : 's'}, ${html.length} bytes)`);
    });

  program
    .command('publish')
    .description("set the profile as PyTorch's remote-cache entry (read with TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO=1)")
    .argument('<redis-url>', 'redis:// or rediss:// URL, with a password if needed')
    .requiredOption('--job <job>', 'job id')
    .option('--rank <rank>', 'rank')
    .option('--tag <tag>', 'cache_key_tag')
    .option('--ttl <seconds>', 'expire the entry after this many seconds')
    .option('--as-of <pos|time>', 'publish the profile as of a point')
    .action(async (url: string, o: SelectOpts & { ttl?: string; asOf?: string }) => {
      const l = await open();
      const p = selectProfile(l, o);
      if (o.ttl !== undefined && !/^\d+$/.test(o.ttl)) throw new UsageError(`--ttl ${o.ttl}: want whole seconds`);
      const view = profileAt(l, p, o.asOf);
      const key = await publishProfile(url, p.cacheKey, view.profile, { ttlSeconds: o.ttl === undefined ? undefined : Number(o.ttl) });
      out(`set ${key} (${view.profile.codes.size} code ids)${o.ttl ? `, expiring in ${o.ttl} s` : ''}`);
    });

  program
    .command('pull')
    .description('ingest the profiles jobs wrote to the remote cache')
    .argument('<redis-url>', 'redis:// or rediss:// URL')
    .option('--job <job>', 'the job to pull')
    .option('--rank <rank>', 'rank')
    .option('--tag <tag>', 'cache_key_tag')
    .option('--all', 'every pt2:dynamo-pgo::* entry')
    .option('--run <run>', 'run id to record')
    .action(async (url: string, o: { job?: string; rank?: string; tag?: string; all?: boolean; run?: string }) => {
      if (!o.all && !o.job) throw new UsageError('pull needs --job or --all');
      const l = await open();
      const which = o.all ? ({ all: true } as const) : { cacheKey: cacheKeyOf({ job: o.job!, rank: o.rank === undefined ? null : parseRank(o.rank), tag: o.tag ?? '' }) };
      const r = await pullProfiles(l, url, which, { run: o.run ?? null });
      if (!r.keys.length && !r.missing.length) out('no pt2:dynamo-pgo entries');
      for (const k of r.missing) out(`${k}: not set`);
      if (r.keys.length) out(`pulled ${r.keys.length} entr${r.keys.length === 1 ? 'y' : 'ies'}: ${r.appended} events appended, ${r.duplicates} already in the log${r.records ? `, ${r.records} recompile reasons` : ''}`);
      if (!o.all && r.missing.length) code = 2;
    });

  program
    .command('merge')
    .description("the join of profiles, as PyTorch's compiler collectives join ranks")
    .requiredOption('--from <profile>', 'a job id or cache key (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--into <job>', 'the job (or cache key) to join them into')
    .option('--rank <rank>', 'rank of the target')
    .option('--tag <tag>', 'cache_key_tag of the target')
    .action(async (o: { from: string[]; into: string; rank?: string; tag?: string }) => {
      const l = await open();
      const from = o.from.map((f) => l.profileByKey(f) ?? selectProfile(l, { job: f }));
      const into = l.profileByKey(o.into)?.cacheKey ?? cacheKeyOf({ job: o.into, rank: o.rank === undefined ? null : parseRank(o.rank), tag: o.tag ?? '' });
      const r = mergeProfiles(l, from, into);
      out(`joined ${from.map((f) => f.cacheKey).join(' + ')} into ${into}: ${r.appended} events${r.records ? `, ${r.records} recompile reasons` : ''}`);
    });


  try {
    await program.parseAsync(argv);
  } finally {
    await ledger?.close();
  }
  return code;
}

export interface SelectOpts {
  job: string;
  rank?: string;
  tag?: string;
}

function usage(msg: string): never {
  throw new UsageError(msg);
}

export function parseRank(r: string): number | null {
  if (r === 'None' || r === 'none') return null;
  if (!/^\d+$/.test(r)) usage(`--rank ${r}: want a number or None`);
  return Number(r);
}

/** The stored view, or the log folded afresh as of `--as-of`. */
function profileAt(l: Ledger, p: ProfileRow, asOf: string | undefined): StreamView {
  return asOf ? l.fold(p.id, pointFilter(asOf)) : l.view(p.id);
}

/** The profile a command means: job/rank/tag as given; rank and tag may be left out when one profile fits. */
export function selectProfile(l: Ledger, o: SelectOpts): ProfileRow {
  const all = l.profiles().filter((p) => p.key.job === o.job);
  const fits = all.filter((p) => (o.rank === undefined || p.key.rank === parseRank(o.rank)) && (o.tag === undefined || p.key.tag === o.tag));
  if (fits.length === 1) return fits[0];
  const exact = fits.find((p) => p.key.rank === null && p.key.tag === '');
  if (fits.length > 1 && o.rank === undefined && o.tag === undefined && exact) return exact;
  if (!fits.length) usage(`no profile for job ${o.job}${o.rank !== undefined ? ` rank ${o.rank}` : ''}${o.tag !== undefined ? ` tag ${JSON.stringify(o.tag)}` : ''}${all.length ? ` (it has: ${all.map((p) => p.cacheKey).join(', ')})` : ''}`);
  return usage(`job ${o.job} has several profiles (${fits.map((p) => p.cacheKey).join(', ')}): pick one with --rank/--tag`);
}

