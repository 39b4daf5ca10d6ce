import { inputError } from '../errors.ts';
import type { Sql } from './database.ts';
import type { Window } from './window.ts';
import type { CodeId } from '../model/code-id.ts';

/**
 * What a read names must be in the ledger: a profile id, the runs a window leaves out, a
 * source. An unknown one is an error that names it (kind input: the command line's exit 2),
 * never an empty answer, where a typo would read as "nothing there". The library's reads
 * check here, and the command line's options go through the same checks and words.
 */

/** The ledger as these checks need it. */
interface Named {
  readonly sql: Sql;
  readonly path: string;
}

/** A profile the ledger holds (one with events, as `profiles()` lists them): its cache key. */
export function knownProfile(ledger: Named, profileId: number): string {
  const row = ledger.sql.get<{ cache_key: string }>('select cache_key from profiles where id = ? and event_count > 0', profileId);
  if (!row) throw inputError(`no profile with id ${profileId} in ${ledger.path} (profiles() lists them)`);
  return row.cache_key;
}

/** How a caller names the runs to leave out, and where its user finds the runs there are. */
export interface RunWords {
  field: string;
  lists: string;
}

/** The library's (trial 19.2: it named `pgo-ledger jobs --json`, a command, to a program). */
export const RUN_FIELDS: RunWords = { field: 'excludeRuns', lists: "runsByProfile(ledger.sql) lists them by profile; historyAsOf gives each record's run" };

/**
 * Each run a window leaves out, one the ledger holds events of (a misspelt run would leave
 * nothing out, silently). `words`: how the caller names them (the command line: `--exclude-run`,
 * `jobs --json`). A run is known by its events (profile_runs, written with them), not by its
 * dictionary row: on PostgreSQL dictionary rows are committed apart from the batch that names
 * them, so an ingest that failed (or was killed) after them leaves a run with no events, which
 * a SQLite ledger would not hold (trial s33a), as knownProfile asks a profile for events.
 */
export function knownRuns(ledger: Named, runs: readonly string[] | undefined, words: RunWords = RUN_FIELDS): void {
  const held = 'exists (select 1 from profile_runs pr where pr.run_id = r.id)';
  for (const run of runs ?? []) {
    if (ledger.sql.get(`select 1 from runs r where r.run = ? and ${held}`, run)) continue;
    // the runs there are, as an unknown --job, --code or --source lists what there is
    const there = ledger.sql.allRaw(`select r.run from runs r where ${held} order by r.id`).map((r) => String(r[0]));
    throw inputError(`${words.field} ${run}: no such run in ${ledger.path} (${there.length ? `runs there: ${listed(there)}; ` : ''}${words.lists})`);
  }
}

/**
 * What there is where a job names no profile: the ledger's jobs, and, where the job given is a
 * profile's cache key (`jobs` prints them: `j1:None:`), that a job is its first part (trial
 * s35b: `retract --job j1:0:` said the run had no events in that "job").
 */
export function jobsThere(profiles: readonly { cacheKey: string; key: { job: string } }[], job: string, lists: string): string {
  const jobs = [...new Set(profiles.map((p) => p.key.job))].sort();
  if (!jobs.length) return 'the ledger holds no profile yet';
  const keyed = profiles.find((p) => p.cacheKey === job);
  const key = keyed ? `${job} is the cache key of a profile of job ${keyed.key.job}, a job id its first part; ` : '';
  return `${key}the ledger's jobs: ${listed(jobs)}; ${lists}`;
}

/**
 * A window's points are a log position and a time the rule can compare: NaN compares false
 * with every event (an empty answer as a position, the whole log as a time), and a fraction or
 * a negative number is no position; the command line's parsePoint never makes one.
 */
export function knownPoints(window: Window): void {
  const p = window.untilPosition;
  if (p !== undefined && !(Number.isSafeInteger(p) && p >= 0)) throw inputError(`untilPosition ${typeof p === 'string' ? JSON.stringify(p) : String(p)}: a log position is a whole number, 0 or more`);
  const t = window.untilTime;
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t))) throw inputError(`untilTime ${typeof t === 'string' ? JSON.stringify(t) : String(t)}: a time is ms since the epoch, a finite number`);
}

/** A read of one profile over a window: the profile, the window's points and runs known. Returns the profile's cache key. */
export function knownRead(ledger: Named, profileId: number, window: Window = {}): string {
  const cacheKey = knownProfile(ledger, profileId);
  knownPoints(window);
  knownRuns(ledger, window.excludeRuns);
  return cacheKey;
}

/** A window in words, after what it names: ` as of 1200`, ` as of 2026-11-26T10:00:00Z`, ` without run r1`. */
export function windowWords(w: Window): string {
  const point = [w.untilPosition !== undefined ? String(w.untilPosition) : '', w.untilTime !== undefined ? new Date(w.untilTime).toISOString().replace('.000Z', 'Z') : ''].filter(Boolean).join(' and ');
  const runs = w.excludeRuns ?? [];
  return `${point ? ` as of ${point}` : ''}${runs.length ? ` without run${runs.length > 1 ? 's' : ''} ${runs.join(', ')}` : ''}`;
}

/**
 * A profile holds no such source (in that code id, with that dim) in the window: one error for
 * `why`, `history` and the library, naming the window, where a source that is there later reads
 * as a typo.
 */
export function noSuchSource(cacheKey: string, o: { source?: string; code?: string; dim?: string; window?: Window; has: Iterable<string> }): never {
  const where = `${o.source !== undefined ? ` ${o.source}` : ''}${o.code ? ` in code ${o.code}` : ''}${o.dim !== undefined ? ` with dim ${o.dim}` : ''}`;
  // what it has, as a --code or --rank that fits nothing lists what there is (a typo reads at a glance)
  // (a dim asked alone is no typo of a source: its sources are no help)
  const has = [...new Set(o.has)];
  const list = o.source === undefined ? '' : ` (its sources${o.code ? ' there' : ''}: ${has.length ? listed(has) : 'none'})`;
  throw inputError(`${cacheKey} has no source${where}${windowWords(o.window ?? {})}${list}`);
}

/** The most names an error lists (a profile may hold thousands of sources), then how many more. */
export const LISTED = 20;

/** Inputs a stop leaves out (a folder's files, a command line's), named: at most this many, then how many more. */
export const INPUTS_LISTED = 10;

/** Names an error lists, what there is where a name fits nothing: at most `most`, then how many more. */
export function listed(names: readonly string[], most = LISTED): string {
  return `${names.slice(0, most).join(', ')}${names.length > most ? `, and ${names.length - most} more` : ''}`;
}

/** The sources of a profile's code ids (those `wanted` keeps), in the order it holds them: what noSuchSource lists. */
export function sourcesOf(codes: Iterable<{ id: CodeId; state: { automaticDynamic: ReadonlyMap<string, unknown> } }>, wanted: ((id: CodeId) => boolean) | null): string[] {
  const out: string[] = [];
  for (const c of codes) if (!wanted || wanted(c.id)) out.push(...c.state.automaticDynamic.keys());
  return out;
}
