import { entryToJson } from '../codecs/entry-json.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { covers } from '../model/entry.ts';
import type { AppendState } from './append.ts';
import { appendBatch, dropIfStale } from './append.ts';
import type { Sql } from './database.ts';
import { prepareEvent, type NewEvent } from './prepare-event.ts';

/**
 * Live merges (issue 12.5): `merge --live` stores a target and its sources (cache keys, or
 * globs over them such as `job:*`); after each batch, in the batch's own transaction, the
 * append path joins into the target every entry of a touched matching source that the target
 * does not already cover. The events are entry.imported snapshots of the source's entries
 * (format `merge`, origin `profile <source>`) as `merge` writes them, so `why` on the target
 * follows a dim into the source profile. A merge joins, it never takes back: a run retracted
 * from a source stays in the target (a merge into it again joins too): only a new target leaves it out.
 * Each event takes the time of the source's events it joins (see entryTimes), not the append's:
 * `why` and `--as-of` on the target then tell when the rank saw it, as they do on the rank.
 */

export interface LiveMerge {
  into: string;
  pattern: string;
}

/** A glob over cache keys: `*` any run of characters (`:` included), `?` one character. */
export function globToRegExp(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

export const isGlob = (s: string) => /[*?]/.test(s);

/** The cache keys a source pattern names (never the target itself). */
export function matchingKeys(keys: readonly string[], pattern: string, into: string): string[] {
  const re = globToRegExp(pattern);
  return keys.filter((k) => k !== into && re.test(k));
}

const LIVE_MERGES = 'select into_key, pattern from live_merges order by into_key, pattern';

export function liveMerges(sql: Sql): LiveMerge[] {
  return sql.all<{ into_key: string; pattern: string }>(LIVE_MERGES).map((r) => ({ into: r.into_key, pattern: r.pattern }));
}

/** Starts the read of the live merges in a batch's transaction, once its locks are held, for followLiveMerges to take after the batch (Dialect.ask: on PostgreSQL no round trip of its own). */
export function askLiveMerges(sql: Sql): void {
  sql.dialect.ask?.(sql, LIVE_MERGES, []);
}

/**
 * Stores a live merge (again: nothing changes). It first takes the ledger's lock alone (as
 * replay does), so that no batch is under way: one that read the live merges before this
 * one committed has committed, and its events are in the sources the merge joins now; one
 * that starts later reads it once it is committed. (SQLite: the write lock already does.)
 */
export function defineLiveMerge(sql: Sql, into: string, patterns: readonly string[]): void {
  sql.dialect.lock(sql, 'all');
  for (const p of patterns) sql.run('insert into live_merges(into_key, pattern, created_at) values (?, ?, ?) on conflict do nothing', into, p, Date.now());
}

/** Drops a target's live merges; how many there were. */
export function dropLiveMerges(sql: Sql, into: string): number {
  return sql.run('delete from live_merges where into_key = ?', into).changes;
}

/** What followLiveMerges reads of an event appended: its profile, entry and time. */
export interface Appended {
  cacheKey: string;
  code: CodeId | null;
  source: string | null;
  time: number;
}

/**
 * After a batch (inside its transaction): each live merge whose pattern matches a profile the
 * batch touched gets that profile's entries the target does not cover yet. A target may be
 * another merge's source, so this goes on for what it appended, a few levels at most.
 * Whether any live merge is defined.
 */
export function followLiveMerges(st: AppendState, batch: readonly Appended[], depth = 0): boolean {
  if (depth > 8) return true;
  const merges = liveMerges(st.sql);
  if (!merges.length) return false;
  const touched = keysOf(batch);
  const appended: Appended[] = [];
  for (const m of merges) {
    const re = globToRegExp(m.pattern);
    for (const key of touched) {
      if (key === m.into || !re.test(key)) continue;
      const events = catchUpEvents(st, key, m.into, batch).map((e) => prepareEvent(e));
      if (events.length && appendBatch(st, events).appended) appended.push(...events);
    }
  }
  if (appended.length) followLiveMerges(st, appended, depth + 1);
  return true;
}

function keysOf(batch: readonly { cacheKey: string }[]): Set<string> {
  const out = new Set<string>();
  let last = '';
  for (const e of batch) if (e.cacheKey !== last) out.add((last = e.cacheKey));
  return out;
}

/**
 * A source's entries' times in a batch: per code id and source, the latest time of the
 * batch's events there, and (key '') of any of its events. What a catch-up joins is the
 * source's entry after them, so from that time on the source, `--as-of` any later time, holds
 * it too; an entry the batch did not name (another writer's batch changed it) takes the
 * batch's latest time.
 */
function entryTimes(batch: readonly Appended[], cacheKey: string): Map<string, number> {
  const out = new Map<string, number>();
  const later = (k: string, t: number) => {
    const had = out.get(k);
    if (had === undefined || t > had) out.set(k, t);
  };
  for (const e of batch) {
    if (e.cacheKey !== cacheKey) continue;
    later('', e.time);
    if (e.code !== null && e.source !== null) later(`${codeKey(e.code)}\u0000${e.source}`, e.time);
  }
  return out;
}

/** A profile's live view, read again when another writer appended to it since (its last position differs). */
function liveView(st: AppendState, p: { id: number; last_position: number | null }) {
  dropIfStale(st, p.id, p.last_position);
  return st.live.get(p.id, p.last_position);
}

/** The source's entries (its live fold) that the target does not cover, as merge events. */
function catchUpEvents(st: AppendState, from: string, into: string, batch: readonly Appended[]): NewEvent[] {
  const src = st.sql.get<{ id: number; last_position: number | null }>('select id, last_position from profiles where cache_key = ?', from);
  if (!src) return [];
  const dst = st.sql.get<{ id: number; last_position: number | null }>('select id, last_position from profiles where cache_key = ?', into);
  const target = dst ? liveView(st, dst).view.profile : null;
  const times = entryTimes(batch, from);
  const out: NewEvent[] = [];
  for (const [k, { id, state }] of liveView(st, src).view.profile.codes) {
    const have = target?.codes.get(k)?.state.automaticDynamic;
    for (const [source, e] of state.automaticDynamic) {
      const t = have?.get(source);
      // PyTorch's == decides what a change is: a join that would only clear the target's
      // excluded_* (compare=False) is none, and appends nothing
      if (t && covers(t, e)) continue;
      const entry = entryToJson(e);
      out.push({
        kind: 'entry.imported',
        cacheKey: into,
        payload: { code: id, source, entry, import_id: null, format: 'merge' },
        time: times.get(`${k}\u0000${source}`) ?? times.get('')!,
        keyedTime: false,
        run: null,
        origin: `profile ${from}`,
        originLine: null,
        idempotencyKey: `live\u0000${into}\u0000${from}\u0000${codeKey(id)}\u0000${source}\u0000${JSON.stringify(entry, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
      });
    }
  }
  return out;
}
