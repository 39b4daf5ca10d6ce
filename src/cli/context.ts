import type { Command } from 'commander';
import { inputError } from '../errors.ts';
import { jobsThere, knownRuns, listed } from '../store/known.ts';
import type { Ledger, ProfileRow } from '../store/ledger.ts';
import type { StreamView } from '../store/fold.ts';
import type { Profile } from '../model/profile.ts';
import { parsePoint, type Window } from '../store/window.ts';

/** What every command gets: the ledger (opened on first use), output, and the exit code. */
export interface CliContext {
  program: Command;
  /** `write`: may change the ledger; `create`: may also create it (ingest, pull). */
  /**
   * `takeBack`: a new SQLite ledger this open makes is taken back where the command then fails
   * having written nothing (new-ledger-file.ts): `pull` and `watch`, whose failures leave nothing
   * to look at (ingest keeps the empty ledger a failed ingest made, which its tests read).
   */
  open(options?: { write?: boolean; create?: boolean; takeBack?: boolean }): Promise<Ledger>;
  out(s: string): void;
  setExitCode(code: number): void;
  /** A command that printed its own failure's `{error}` line (watch) says so: the command line prints none again. */
  errorSaid(): void;
  /**
   * A one-shot write command (ingest) stopped by SIGINT or SIGTERM stops at once, as under
   * kill -9: what it committed stays, a transaction under way rolls back (every append is
   * synchronous, so none is open when a handler runs; a PostgreSQL batch in flight is waited
   * for). It says `said(signal)` (under --json its `{error}` line on stdout too, with the
   * fields `json` gives) and exits 130 or 143; a new
   * ledger it wrote nothing to is taken back. Returns the handlers' removal. (watch finishes
   * its input under way instead: it runs until stopped.)
   */
  stopOnSignal(said: (signal: NodeJS.Signals) => { message: string; json: Record<string, unknown> }, json: boolean): () => void;
}

/** The command line's words for the ledger's path (OpenOptions.words): where every command reads it. */
export const DB_FLAG = { check: '--db or PGO_LEDGER_DB', give: '--db' };

/** The command line's words for the ways to say which profile an input is for (ingest-words.ts). */
export const INGEST_FLAGS = { job: '--job', rank: '--rank', tag: '--tag', key: '--key', run: '--run' };

/** What `watch` names instead: it has no --job or --key, so the advice points at ingest's (watch.ts WatchOptions.words). */
export const WATCH_FLAGS = { job: '--job of pgo-ledger ingest', rank: '--rank', tag: '--tag', key: '--key of pgo-ledger ingest', run: '--run of pgo-ledger ingest' };

/** The command line's words for a run to leave out, and where its runs are listed (known.ts RunWords). */
export const EXCLUDE_RUN = { field: '--exclude-run', lists: "pgo-ledger jobs --json lists them by profile; history shows each record's run" };

/** The command line's words for the write that replaces a Redis value that is no PGO profile (redis.ts ReplaceWords). */
export const PUBLISH_REPLACES = 'publish without --merge';

/** The command line's words for profileAsWritten's error (export-profile.ts). */
export const LAYOUT_FLAGS = { torch: '--torch 2.12', mergeClosures: '--merge-closures' };

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function usage(msg: string): never {
  throw inputError(msg);
}

/**
 * --job/--rank/--tag: which profile (`one`: --job may be left out where the ledger holds one
 * job, selectProfile). `every`: each one left out takes every value of it (stats), not
 * PyTorch's None and empty tag.
 */
export function profileOptions(c: Command, which: 'one' | 'every' = 'one'): Command {
  if (which === 'every') {
    return c
      .option('--job <job>', 'job id (torch.compiler.config.job_id; omit for every job)')
      .option('--rank <rank>', 'rank (omit for every rank)')
      .option('--tag <tag>', 'cache_key_tag (omit for every tag)');
  }
  c.option('--job <job>', 'job id (torch.compiler.config.job_id; omit where the ledger holds one job)')
    .option('--rank <rank>', "rank (omit for PyTorch's None when the job has one profile)")
    .option('--tag <tag>', 'cache_key_tag');
  return c;
}

/** --as-of and --exclude-run: the same read-time window on every read command. */
export function windowOptions(c: Command, asOf = true): Command {
  if (asOf) c.option('--as-of <pos|time>', 'as of a log position or an ISO 8601 time (UTC where it names no offset)');
  return c.option('--exclude-run <run>', 'leave a run out (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[]);
}

export interface WindowOpts {
  asOf?: string;
  excludeRun?: string[];
}

/**
 * The window of a command's options, its runs checked against the ledger (a misspelt run is an
 * error, not a silent no-op). A point past the log's end (`flag`: the option that gave it) holds
 * the whole log, which is the right answer, but a mistyped position reads the same: a note on
 * stderr names the log's last position or time. A point before the log's first event holds
 * nothing (exit 0 all the same, as past the end: the answer is right): a note says so.
 */
export function windowFor(l: Ledger, o: WindowOpts, point: string | undefined = o.asOf, flag = '--as-of', profile?: ProfileRow): Window {
  knownRuns(l, o.excludeRun, EXCLUDE_RUN);
  const w = windowOf(o, point);
  if (w.untilPosition !== undefined || w.untilTime !== undefined) {
    // each profile keeps its last position and its latest event time (profiles' counters)
    let position = -1;
    let time = -Infinity;
    for (const p of l.profiles()) {
      position = Math.max(position, p.lastPosition ?? -1);
      time = Math.max(time, p.lastTime ?? -Infinity);
    }
    if (position >= 0 && w.untilPosition !== undefined && w.untilPosition > position) {
      process.stderr.write(`pgo-ledger: note: ${flag} ${point} is past the log's last position, ${position}: it holds every event (${notATime(w.untilPosition, time)})\n`);
    } else if (position >= 0 && w.untilTime !== undefined && w.untilTime > time) {
      process.stderr.write(`pgo-ledger: note: ${flag} ${point} is after the log's latest event time, ${iso(time)}: it holds every event\n`);
    } else if (position >= 0) {
      // before the log's start the answer is empty, which reads as a ledger that lost its data;
      // `limit 1` stops at the first event inside the window, so only that case reads further
      const before = w.untilPosition !== undefined
        ? !l.sql.get('select 1 from events where position <= ? limit 1', w.untilPosition)
        : !l.sql.get('select 1 from events where time <= ? limit 1', w.untilTime);
      if (before && w.untilPosition !== undefined) {
        const first = l.sql.get<{ p: number | string }>('select min(position) p from events')!.p;
        process.stderr.write(`pgo-ledger: note: ${flag} ${point} is before the log's first position, ${first}: no event is at or before it\n`);
      } else if (before) {
        // PostgreSQL's bigint comes as text
        const first = Number(l.sql.get<{ t: number | string }>('select min(time) t from events')!.t);
        process.stderr.write(`pgo-ledger: note: ${flag} ${point} is before the log's earliest event time, ${iso(first)}: no event is at or before it\n`);
      }
    }
  }
  // diff's two windows: a run retracted inside one is left out by the other's what-if still, so
  // "changes nothing" is said of a single window only
  excludedRunNote(l, w, flag === '--as-of', profile);
  return w;
}

/** The profiles and runs whose what-if note was written (diff reads two windows: each said once). */
const noted = new Set<string>();

/**
 * `--exclude-run` of a run that later runs warm-started from keeps what they carry of it (the
 * answer is right, and reads as if leaving the run out did nothing): said on stderr, once, as
 * `retract` says it (warm-starts.ts).
 */
function excludedRunNote(l: Ledger, w: Window, single: boolean, profile?: ProfileRow): void {
  if (!w.excludeRuns?.length) return;
  for (const n of l.excludedRunNotes(w, profile?.id)) {
    if (n.retracted && !single) continue;
    const k = `${n.cacheKey}\u0000${n.run}`;
    if (noted.has(k)) continue;
    noted.add(k);
    process.stderr.write(n.note);
  }
}

/**
 * A bare number is a position, but users paste epoch times (observation lines take them): past
 * the log's end, the note says how a time is written, and what the number is as one where it
 * reads as seconds (or milliseconds) since the epoch, from 2001 on, else the log's latest time as one.
 */
function notATime(n: number, latest: number): string {
  const position = 'a bare number is a log position; a time is written in ISO 8601';
  if (n >= 1e9 && n < 1e11) return `${position}: as seconds since the epoch, ${n} is ${iso(n * 1000)}`;
  if (n >= 1e12 && n < 1e14) return `${position}: as milliseconds since the epoch, ${n} is ${iso(n)}`;
  return `${position}, such as the log's latest event time, ${iso(latest)}`;
}

/** The window a command's options name (the whole log when none). */
export function windowOf(o: WindowOpts, point: string | undefined = o.asOf): Window {
  const p = point === undefined ? {} : parsePoint(point);
  return { untilPosition: p.position, untilTime: p.time, excludeRuns: o.excludeRun ?? [] };
}

export interface SelectOpts {
  /** Left out: the ledger's one job (trial s31: `show` asked for --job of a ledger of one profile). */
  job?: string;
  rank?: string;
  tag?: string;
}

export function parseRank(r: string): number | null {
  if (r === 'None' || r === 'none') return null;
  if (!/^\d+$/.test(r)) usage(`--rank ${r}: want a number or None`);
  return Number(r);
}

/** The profile a command means: job/rank/tag as given; rank and tag may be left out when one profile fits. */
export function selectProfile(l: Ledger, given: SelectOpts): ProfileRow {
  const o = { ...given, job: given.job ?? onlyJob(l) };
  const all = l.profiles().filter((p) => p.key.job === o.job);
  const fits = all.filter((p) => (o.rank === undefined || p.key.rank === parseRank(o.rank)) && (o.tag === undefined || p.key.tag === o.tag));
  if (fits.length === 1) return fits[0];
  // no --tag: PyTorch's key with no cache_key_tag, of the rank given (None where none is):
  // `--job J --rank 0` is J:0: beside J:0:v2, as `--job J` is J:None: (trial s26b)
  const exact = o.tag === undefined ? fits.find((p) => p.key.tag === '' && (o.rank !== undefined || p.key.rank === null)) : undefined;
  if (exact) return exact;
  if (!all.length) {
    // what there is, as a --rank or --code that fits nothing says it
    usage(`no profile for job ${o.job} (${jobsThere(l.profiles(), o.job, 'pgo-ledger jobs lists their profiles')})`);
  }
  if (!fits.length) usage(`no profile for job ${o.job}${o.rank !== undefined ? ` rank ${o.rank}` : ''}${o.tag !== undefined ? ` tag ${JSON.stringify(o.tag)}` : ''} (it has: ${all.map((p) => p.cacheKey).join(', ')})`);
  return usage(`job ${o.job} has several profiles (${fits.map((p) => p.cacheKey).join(', ')}): pick one with --rank/--tag`);
}

/** The ledger's jobs, in byte order. */
export function ledgerJobs(l: Ledger): string[] {
  return [...new Set(l.profiles().map((p) => p.key.job))].sort();
}

/** The job a command of one profile means with no --job: the ledger's one job, else a usage error naming them. */
function onlyJob(l: Ledger): string {
  const jobs = ledgerJobs(l);
  if (jobs.length === 1) return jobs[0];
  return usage(jobs.length ? `give --job: the ledger holds ${jobs.length} jobs (${listed(jobs)}; pgo-ledger jobs lists their profiles)` : 'the ledger holds no profile yet (ingest or pull adds them)');
}

/**
 * An empty profile written where PyTorch reads it would throw away what jobs learnt (an
 * `--as-of 0`, a window before the first event): refused unless asked for.
 */
export function refuseEmpty(cacheKey: string, profile: Profile, o: WindowOpts & { allowEmpty?: boolean; merge?: boolean }): void {
  if (profile.codes.size || (o.allowEmpty && !o.merge)) return;
  const when = o.asOf !== undefined || o.excludeRun?.length ? ' in the window given (--as-of/--exclude-run)' : '';
  // a merge of nothing adds nothing: --allow-empty is for replacing what the target holds
  if (o.merge) usage(`${cacheKey} has no code ids${when}: --merge never publishes an empty profile (a merge of nothing adds nothing${o.allowEmpty ? ', --allow-empty or not' : ''}); to write an empty profile over what Redis holds, publish --allow-empty without --merge`);
  usage(`${cacheKey} has no code ids${when}: writing it would leave PyTorch an empty profile; give --allow-empty if that is what you want`);
}

/** The live view, or the log folded afresh for a window. */
export function profileAt(l: Ledger, p: ProfileRow, w: Window): StreamView {
  return l.fold(p.id, w);
}
