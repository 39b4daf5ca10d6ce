import type { Sql } from './database.ts';
import { damaged } from './damage.ts';

/**
 * How a profile's events are found: its spans, not an index of every event by profile.
 *
 * A span (profile_spans: profile_id, first_position, last_position) is a maximal run of one
 * profile's positions in which each is at most SPAN_GAP past the one before, so every event of
 * the profile lies in one of its spans, and a read of the profile's events walks the log by
 * its primary key within them, passing at most SPAN_GAP - 1 rows of other profiles per row of
 * its own. The append keeps them (extending the profile's last span, or starting one), in the
 * batch's transaction: a row or two a profile and batch, where events_by_profile took an entry
 * an event, each a descent of its own (the costliest of the events' indexes to keep).
 *
 * Spans are a function of the log alone (the same whichever batches wrote it): the migration's
 * backfill makes them in SQL (spansSelect), replay as its scan meets the events (trackSpan),
 * the append with batchSpans and spanStart.
 */

/**
 * The largest step between two positions of a profile within one span. A read walks at most
 * this many rows a row of its own; a profile whose events come SPAN_GAP apart or closer (every
 * profile of a mixed input of up to SPAN_GAP jobs, and nearly every one of a randomly mixed
 * input of a few) keeps one span a batch, or one in all. README "How it is built" gives the
 * measurement it was picked by.
 */
export const SPAN_GAP = 32;

/**
 * The spans of a batch's events, as flat triples [profile, first, last, ...] in the order
 * their first events come: `positionOf(i)` is row i's position (0: not inserted), rising with
 * i among the rows inserted, `profileOf(i)` its profile. Each triple's first position may
 * still continue the profile's last stored span (spanStart).
 */
export function batchSpans(n: number, profileOf: (i: number) => number, positionOf: (i: number) => number): number[] {
  const open = new Map<number, number>(); // profile -> index of its open triple in out
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = positionOf(i);
    if (p === 0) continue;
    const pid = profileOf(i);
    const at = open.get(pid);
    if (at !== undefined && p - out[at + 2] <= SPAN_GAP) out[at + 2] = p;
    else {
      open.set(pid, out.length);
      out.push(pid, p, p);
    }
  }
  return out;
}

/**
 * SQL of the first position of a span of profile `pid` from position `first` on: the first
 * of the profile's last stored span where `first` continues it (no more than SPAN_GAP past
 * its end), else `first`. Only a batch's first span of a profile can continue one (the
 * others start more than SPAN_GAP past the one before), and the profile's write lock keeps
 * its last span from moving meanwhile.
 */
export function spanStart(pid: string, first: string): string {
  return `coalesce((select l.first_position from profile_spans l where l.profile_id = ${pid} and l.last_position >= ${first} - ${SPAN_GAP}
      and l.first_position = (select max(m.first_position) from profile_spans m where m.profile_id = ${pid})), ${first})`;
}

/** The upsert of spans (profile_id, first_position: spanStart's, last_position) selected by `select`: a continued span is lengthened. */
export function upsertSpans(select: string): string {
  return `insert into profile_spans(profile_id, first_position, last_position) ${select}
    on conflict (profile_id, first_position) do update set last_position = excluded.last_position`;
}

/** SQLite's writes of a batch's spans (batchSpans), a statement each (a batch makes a few). */
export function writeSpans(sql: Sql, spans: readonly number[]): void {
  if (!spans.length) return;
  // (`where true`: SQLite's parser otherwise takes the upsert's `on` for a join's)
  const st = sql.statement(upsertSpans(`select ?, ${spanStart('?', '?')}, ? where true`));
  for (let k = 0; k < spans.length; k += 3) st.run([spans[k], spans[k], spans[k + 1], spans[k], spans[k + 1], spans[k + 2]]);
}

/**
 * The spans of the events `rows` (a table or subquery with profile_id and position), as rows
 * of (profile_id, first_position, last_position): gaps and islands, a span starting where the
 * step from the profile's previous position exceeds SPAN_GAP. Portable (window functions).
 */
export function spansSelect(rows: string): string {
  return `select profile_id, min(position) first_position, max(position) last_position from (
      select profile_id, position, sum(brk) over (partition by profile_id order by position rows unbounded preceding) island from (
        select profile_id, position, case when position - lag(position) over (partition by profile_id order by position) <= ${SPAN_GAP} then 0 else 1 end brk
        from ${rows}) a) b
    group by profile_id, island`;
}

/**
 * A profile's spans made from its positions met in order (replay's scan): the closed ones as
 * flat pairs, and the open one (0: none yet).
 */
export interface SpanTrack {
  done: number[];
  first: number;
  last: number;
}

export const spanTrack = (): SpanTrack => ({ done: [], first: 0, last: 0 });

/** The profile's next position (rising), into its spans. */
export function trackSpan(t: SpanTrack, position: number): void {
  if (t.last !== 0 && position - t.last <= SPAN_GAP) {
    t.last = position;
    return;
  }
  if (t.last !== 0) t.done.push(t.first, t.last);
  t.first = t.last = position;
}

/** Rows of a VALUES list a statement of writeTracked carries. */
const TRACKED_ROWS = 200;

/** Replay: each profile's spans, as tracked over the whole log, in place of those stored (a statement a few hundred). */
export function writeTracked(sql: Sql, tracks: Iterable<[profileId: number, track: SpanTrack]>): void {
  sql.run('delete from profile_spans');
  const rows: number[] = [];
  const put = (n: number) => {
    const marks = Array(n / 3).fill('(?, ?, ?)').join(', ');
    sql.run(`insert into profile_spans(profile_id, first_position, last_position) values ${marks}`, ...rows.splice(0, n));
  };
  for (const [pid, t] of tracks) {
    if (t.last !== 0) t.done.push(t.first, t.last);
    for (let k = 0; k < t.done.length; k += 2) {
      rows.push(pid, t.done[k], t.done[k + 1]);
      if (rows.length === 3 * TRACKED_ROWS) put(rows.length);
    }
  }
  if (rows.length) put(rows.length);
}

/** Bits of a range's `ends` (profileRanges): its span's first event is the range's first, its last the range's last. */
export const FIRST = 1;
export const LAST = 2;

/**
 * THE rule of a profile's reads: the position ranges (after, until] to read its events in
 * after `after` up to `until`, as flat triples [after, until, ends, ...] in position order:
 * its spans that meet the window, cut to it. A reader still filters each range by
 * profile_id, and checks with checkEnds that the range's ends that are its span's (`ends`:
 * FIRST, LAST) are there: a span begins and ends at events of its profile.
 */
export function profileRanges(sql: Sql, profileId: number, after: number, until: number): number[] {
  if (until <= after) return [];
  // from the span holding after + 1 on (spans of a profile never overlap: the last one starting at or before it)
  const rows = sql.allRaw(
    `select first_position, last_position from profile_spans where profile_id = ? and first_position <= ? and last_position > ?
       and first_position >= coalesce((select max(first_position) from profile_spans where profile_id = ? and first_position <= ?), 0)
     order by first_position`,
    profileId,
    until,
    after,
    profileId,
    after + 1,
  );
  const out: number[] = [];
  for (const r of rows) {
    const first = r[0] as number;
    const last = r[1] as number;
    out.push(Math.max(first - 1, after), Math.min(last, until), (first > after ? FIRST : 0) | (last <= until ? LAST : 0));
  }
  return out;
}

/**
 * A range read (profileRanges) met `first` and `last` of the profile's events (undefined:
 * none): where a span's first or last event is missing from the log the file is damaged (a
 * page that reads as no rows), which a read must not take for a profile with fewer events.
 */
export function checkEnds(sql: Sql, profileId: number, after: number, until: number, ends: number, first: number | undefined, last: number | undefined): void {
  if (((ends & FIRST) !== 0 && first !== after + 1) || ((ends & LAST) !== 0 && last !== until)) {
    throw damaged(sql.path, `the events of profile ${profileId} from position ${after + 1} to ${until}`, new Error('an event a span of the profile begins or ends at (profile_spans) is not there'));
  }
}

/**
 * Verify: each profile's events that lie in no span of it (the profile's reads would miss
 * them), by profile: how many, and the first. The span a position would lie in is the
 * profile's last starting at or before it (spans never overlap).
 */
export function eventsOutsideSpans(sql: Sql): { profileId: number; n: number; first: number }[] {
  return sql
    .allRaw(
      `select e.profile_id, count(*), min(e.position) from events e
       where coalesce((select s.last_position from profile_spans s where s.profile_id = e.profile_id and s.first_position <= e.position
                       order by s.first_position desc limit 1), 0) < e.position
       group by e.profile_id order by e.profile_id`,
    )
    .map((r) => ({ profileId: Number(r[0]), n: Number(r[1]), first: Number(r[2]) }));
}

/** Verify: by profile, its spans that begin or end at a position that is no event of it (a read of them would take the log for damaged). */
export function spansWithoutEnds(sql: Sql): { profileId: number; n: number; first: number }[] {
  return sql
    .allRaw(
      `select s.profile_id, count(*), min(s.first_position) from profile_spans s
       where not exists (select 1 from events e where e.position = s.first_position and e.profile_id = s.profile_id)
          or not exists (select 1 from events e where e.position = s.last_position and e.profile_id = s.profile_id)
       group by s.profile_id order by s.profile_id`,
    )
    .map((r) => ({ profileId: Number(r[0]), n: Number(r[1]), first: Number(r[2]) }));
}
