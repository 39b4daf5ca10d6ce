import type { Sql } from './database.ts';
import { checkpointDue, checkpointEvery, emptyViewRows, viewEntries, writeCheckpoint, type ViewRows } from './checkpoints.ts';
import { codeKey } from '../model/code-id.ts';
import { emptyStream, fold, type StreamView } from './fold.ts';
import { foldWindow } from './fold-window.ts';
import type { Interner } from './intern.ts';
import { spanTrack, trackSpan, writeTracked, type SpanTrack } from './profile-spans.ts';
import { fillEvent, leanEvent, scanEvents, type Dictionaries, type LeanEvent } from './log.ts';
import { historyRows, writeCodeStates } from './views.ts';
import type { HistoryInsert } from './dialect/dialect.ts';
import { leftOutRuns } from './window.ts';
import { writeWhyCheckpoint } from './why-checkpoints.ts';
import { emptyWhyState, eventDetails, KEEP_ALL, whyCount, whySlot, whyStep, type Carried, type WhyState } from './why-fold.ts';
import { emptyLogCounts, sourceCounts, type LogCounts } from './log-counts.ts';
import { addProfileRun } from './profile-runs.ts';

/**
 * Replay: the stored views rebuilt from the log. Runs inside the caller's write transaction.
 * The whole log: every profile's code states, history and checkpoints.
 */
export function replayAll(sql: Sql, interner: Interner, onProgress?: (events: number) => void): { events: number; profiles: number; records: number } {
  const dict = interner.dict;
  let records = 0;
  sql.run('delete from history');
  sql.run('delete from code_states');
  // Older versions could pin the live views to a what-if; the views now always fold the whole log.
  sql.run("delete from meta where key = 'views'");
  const excluded = new Map<number, Set<string>>();
  for (const r of sql.allRaw('select id from profiles')) excluded.set(r[0] as number, leftOutRuns(sql, r[0] as number, {}, dict));
  // Checkpoints are rebuilt for profiles whose whole-log fold equals every prefix's fold (no
  // retraction); the others fold from the start when asked as of a point.
  sql.run('delete from checkpoints');
  sql.run('delete from why_checkpoints');
  // profile_runs is derived too: each profile's runs from their first position, noted as the scan meets them
  sql.run('delete from profile_runs');
  const remote = sql.dialect.remote;
  const every = checkpointEvery();
  // The count at which a profile's next checkpoint may be due (checkpointDue: once `every`
  // events have come since its last, and as many as its fold holds entries), for the hot path
  // (a compare per event); an odd PGO_LEDGER_CHECKPOINT_EVERY (not a whole number above 0)
  // sends every event to visit, which asks checkpointDue itself.
  const stepwise = Number.isInteger(every) && every > 0;
  // each profile's part of the scan, found once an event (the log interleaves its profiles)
  const profiles: Scanned[] = [];
  // by id (rows: an array finds one fastest)
  const byId: (Scanned | undefined)[] = [];
  let p: Scanned | undefined;
  // history rows go in bulk (a round trip each on PostgreSQL)
  let pending: HistoryInsert[] = [];
  const flush = () => {
    sql.dialect.insertHistory(sql, pending);
    pending = [];
  };
  /** One event folded into its profile's view (and why's state): the records it logged. */
  const foldOne = (ev: LeanEvent, m: Unchanged | null): number => {
    const why = p!.why;
    // A body the fold found changes nothing, brought again with nothing folded in between:
    // it changes nothing again (the fold is a function of the entry and the body).
    if (m) {
      // most sources bring one body over and over: the last one found is asked first
      const known = m.lastBody === ev.bodyId ? m.lastSlot : m.bodies.get(ev.bodyId);
      if (known !== undefined) {
        m.lastBody = ev.bodyId;
        m.lastSlot = known;
        if (known) whyCount(known, ev.run);
        return 0;
      }
      m.lastBody = -1;
    }
    const step = fold(p!.view, ev);
    if (!step) return 0;
    // the fold changed the code id's state (in place; before === after: the fold's word that the
    // entry stayed as it was, UpdateResult): its checkpoint row is written anew
    if (step.before !== step.after) p!.rows.dirty.add(codeKey(step.code));
    if (why) whyStep(why.why, step, ev, KEEP_ALL, details);
    // before === after: the fold's own word that the entry stayed as it was (UpdateResult)
    const slot = why && step.before === step.after ? whySlot(why.why, step, ev.bodyId) : null;
    if (m && step.before === step.after && (slot || !why)) m.bodies.set(ev.bodyId, slot);
    else {
      const u = m ?? unchangedAt(p!, ev.codeRow!, ev.sourceRow!);
      u.bodies.clear();
      u.lastBody = -1;
    }
    if (!step.records.length) return 0;
    historyRows(pending, interner, ev.position, ev.profileId, step);
    if (pending.length >= 5000) flush();
    return step.records.length;
  };
  const visit = (ev: LeanEvent): void => {
    if (onProgress && ev.position % 50000 === 0) onProgress(ev.position);
    if (p?.id !== ev.profileId) {
      p = byId[ev.profileId];
      if (!p) {
        const ex = excluded.get(ev.profileId)!;
        byId[ev.profileId] = p = { id: ev.profileId, view: emptyStream(), ex, why: ex.size === 0 ? { why: emptyWhyState(), counts: emptyLogCounts() } : undefined, n: 0, due: stepwise ? every : 1, checkpointed: 0, time: 0, runs: new Map(), lastRunRow: null, unchanged: [], rows: emptyViewRows(), spans: spanTrack() };
        profiles.push(p);
      }
    }
    const why = p.why;
    // the run last met in the profile: its first position noted, and the report's count of runs
    if (ev.runRow !== null && ev.runRow !== p.lastRunRow) {
      p.lastRunRow = ev.runRow;
      if (!p.runs.has(ev.runRow)) p.runs.set(ev.runRow, ev.position);
      if (why) why.counts.runs.add(ev.runRow);
    }
    p.n++;
    trackSpan(p.spans, ev.position);
    if (ev.time > p.time) p.time = ev.time;
    const m = ev.kind === 'shape.observed' || ev.kind === 'entry.imported' ? unchangedAt(p, ev.codeRow!, ev.sourceRow!) : null;
    // addToLogCounts, with the counts of the code id and source kept (a set adds a run once)
    if (why && m) countSource(p, m, ev.runRow);
    if (ev.kind !== 'run.retracted' && !(ev.run !== null && p.ex.size !== 0 && p.ex.has(ev.run))) records += foldOne(ev, m);
    if (p.n >= p.due) {
      const q = p;
      let entries = 0;
      if (q.ex.size === 0 && checkpointDue(q.n, q.checkpointed, () => (entries = viewEntries(q.view)))) {
        writeCheckpoint(sql, ev.profileId, ev.position, q.n, q.time, q.view, interner.codeId, q.rows);
        writeWhyCheckpoint(sql, ev.profileId, ev.position, why!.why, interner.codeId, why!.counts, true);
        q.checkpointed = q.n;
      }
      // above n (the hot path sends the event that reaches it here): where checkpointDue may say
      // yes next; a profile with runs left out writes none, and is asked a checkpoint's worth on
      q.due = !stepwise ? q.n + 1 : q.ex.size !== 0 ? q.n + every : Math.max(q.checkpointed + Math.max(every, entries), q.n + 1);
    }
  };
  /**
   * The hot path of the packed scan: an event its profile's fold has met before, body and
   * all, since the last step that may have changed the entry. All `visit` would do for it is
   * count it (the fold and why's state are functions of the entry and the body): done here
   * with no event filled. False: not such an event (`visit` folds it).
   */
  const counted = (u: Unchanged | undefined, bodyId: number, runRow: number | null, position: number, time: number): boolean => {
    if (u === undefined) return false;
    const known = u.lastBody === bodyId ? u.lastSlot : u.bodies.get(bodyId);
    if (known === undefined) return false;
    // a read past an array's end, met late (a run or key new to the scan), throws the compiled
    // scan away (V8's 'out of bounds' deopt): the length is asked first
    const run = runRow === null ? null : runRow < runNames.length ? runNames[runRow] : undefined;
    if (run === undefined) return false;
    const q = u.owner;
    // the rare steps (a checkpoint due, progress to report) go to `visit`: compiled code for
    // the hot path, which meets them long after it was made, knows nothing of them and would be
    // thrown away and made again (TurboFan's work, on another thread, counts in the process's CPU)
    // So does a run new to the profile's last event (a few each run, met late: the compiled
    // hot path would be made again for want of type feedback).
    if (q.n + 1 === q.due || (onProgress && position % 50000 === 0) || (runRow !== null && runRow !== q.lastRunRow)) return false;
    q.n++;
    trackSpan(q.spans, position);
    if (time > q.time) q.time = time;
    countSource(q, u, runRow);
    u.lastBody = bodyId;
    u.lastSlot = known;
    whyCount(known!, run);
    p = q;
    return true;
  };
  // PGO_LEDGER_REPLAY_SCAN=rows: scanEvents (the tests compare the two scans)
  const layout = process.env.PGO_LEDGER_REPLAY_SCAN === 'rows' ? null : packedLayout(sql);
  // Where scanEvents reads where each query is a round trip (PostgreSQL), it reads every event's
  // details at once rather than one query for each step that gives evidence.
  const details = !layout && remote ? () => {} : eventDetails(sql, dict);
  // by run row, as long as the runs from the start: a store past an array's end (a run met
  // late) throws the compiled scan away ('out of bounds'), as a read does
  const runNames: (string | undefined)[] = new Array<string | undefined>(layout ? (sql.get<{ m: number | null }>('select max(id) m from runs')?.m ?? 0) + 1 : 0).fill(undefined);
  // The scan reads the whole events table once: SQLite reads its pages from a memory map rather
  // than copying each in by a read() call (a 1M-event log: ~40 ms less of the kernel's CPU), the
  // connection's own setting put back after.
  const mapped = layout && !remote ? sql.get<{ mmap_size: number }>('pragma mmap_size')?.mmap_size : undefined;
  if (mapped !== undefined && mapped < MMAP_SIZE) sql.get(`pragma mmap_size = ${MMAP_SIZE}`);
  // The pages of the map the scan has read stay in the process's memory (RSS) until unmapped:
  // a 5M-event log's 400 MB file was 420 MB of a replay's 536 MB peak. The map is let go and
  // made again (lazily, at the next read) every REMAP_PAGES pages, so that the scan holds at most
  // their part of the file; SQLite unmaps only while no page of the map is held (no statement
  // reads between the scan's pages).
  const remap =
    mapped === undefined
      ? null
      : () => {
          sql.get('pragma mmap_size = 0');
          sql.get(`pragma mmap_size = ${Math.max(mapped, MMAP_SIZE)}`);
        };
  let events: number;
  try {
    events = layout
      ? packedScan(sql, layout, dict, remap, counted, (ev) => {
          visit(ev);
          if (ev.runRow !== null) runNames[ev.runRow] = ev.run!;
          // its (profile, code id, source) known from now on to the hot path, where its checkpoints are rebuilt
          const u = p!.why && ev.codeRow !== null && ev.sourceRow !== null ? p!.unchanged[ev.codeRow]?.[ev.sourceRow] : undefined;
          return u;
        })
      : scanEvents(sql, remote ? { details: true } : { withTime: true }, visit, dict);
  } finally {
    if (mapped !== undefined && mapped < MMAP_SIZE) sql.get(`pragma mmap_size = ${mapped}`);
  }
  flush();
  for (const q of profiles) writeCodeStates(sql, q.id, q.view, 'all');
  for (const q of profiles) for (const [rid, position] of q.runs) addProfileRun(sql, q.id, rid, position);
  // the spans a profile's events are read in are derived too (verify names any event outside them)
  writeTracked(sql, profiles.map((q) => [q.id, q.spans]));
  return { events, profiles: profiles.length, records };
}

/** What replay keeps per profile, code id and source (their rows). */
interface Unchanged {
  /**
   * The bodies that changed nothing when last folded, since the last step that may have
   * changed the entry; each with why's count of it (null where why's state is not kept). Most
   * events of a long log are such.
   */
  bodies: Map<number, Carried | null>;
  /** The body last found in `bodies` (-1: none), and what `bodies` holds for it. */
  lastBody: number;
  lastSlot: Carried | null;
  /** Its profile, code id and source (rows). */
  owner: Scanned;
  codeRow: number;
  sourceRow: number;
  /** The report's counts of the code id and source (log-counts.ts), and the run last added to them (-1: none). */
  counts: ReturnType<typeof sourceCounts> | undefined;
  run: number;
}

/** What replay keeps per profile as it scans. */
interface Scanned {
  id: number;
  view: StreamView;
  /** The runs its window leaves out (a retraction); none: its checkpoints are rebuilt. */
  ex: Set<string>;
  /** why's state and the report's counts, where checkpoints are rebuilt. */
  why: { why: WhyState; counts: LogCounts } | undefined;
  /** Its events so far, the count at which its next checkpoint may be due (or, see `due`, the next event goes to visit), the count at its last checkpoint, and their latest time. */
  n: number;
  due: number;
  checkpointed: number;
  time: number;
  /** Its runs (rows) from their first position, and the run of its last event. */
  runs: Map<number, number>;
  lastRunRow: number | null;
  /** By code id, then source (rows: arrays find them fastest). */
  unchanged: Unchanged[][];
  /** Its checkpoints' rows, kept between them. */
  rows: ViewRows;
  /** Its spans so far (profile-spans.ts). */
  spans: SpanTrack;
}

/**
 * addToLogCounts for an event of the code id and source, with their counts kept (a set adds a
 * run once). One function for `visit` and the hot path: its rare branch (a run new to them)
 * has run in `visit` by the time the hot path, which inlines it, is compiled.
 */
function countSource(p: Scanned, u: Unchanged, runRow: number | null): void {
  const s = (u.counts ??= sourceCounts(p.why!.counts, u.codeRow, u.sourceRow));
  s.n++;
  if (runRow !== null && runRow !== u.run) s.runs.add((u.run = runRow));
}

function unchangedAt(p: Scanned, codeRow: number, sourceRow: number): Unchanged {
  const bySource = (p.unchanged[codeRow] ??= []);
  // every field made at once (a field added later changes the shape under the compiled hot path)
  return (bySource[sourceRow] ??= { bodies: new Map(), lastBody: -1, lastSlot: null, owner: p, codeRow, sourceRow, counts: undefined, run: -1 });
}

/** One profile's stored views rebuilt from its events (after a retraction). */
export function replayProfile(sql: Sql, interner: Interner, pid: number): void {
  sql.run('delete from history where profile_id = ?', pid);
  sql.run('delete from code_states where profile_id = ?', pid);
  const pending: HistoryInsert[] = [];
  const view = foldWindow(sql, interner.dict, pid, {}, (step, ev) => historyRows(pending, interner, ev.position, pid, step));
  sql.dialect.insertHistory(sql, pending);
  writeCodeStates(sql, pid, view, 'all');
}

/**
 * Replay's scan, where each value read costs more than the fold of most events (and on
 * PostgreSQL each crosses the server's wire and the worker's bridge): the ids of an event's
 * columns packed by SQL into one number (a page of numbers, no array per row). Above the ids, the event's time less a base, where the bits left let it (a page
 * whose positions run with no gap: each event's position is its place in the page); else its
 * offset in the page, and its time read in a second page of numbers. Rows whose ids or time do
 * not fit (null, out of their range, not whole numbers) come as a mark, and are read as
 * scanEvents reads them. Null where the ids need more bits than a double's 53: scanEvents then.
 */
interface Layout {
  /** Bits of each packed id (the run's: its row, or all ones for none). */
  wr: number;
  wb: number;
  /** Of the profile, code id and source together (the hot path's key). */
  wpcs: number;
  ws: number;
  wc: number;
  /** The largest id of each dictionary. */
  tops: { bodies: number; codes: number; sources: number; runs: number };
  /** The page with times above the ids (null: too few bits left), and their bits. */
  timed: Page | null;
  wt: number;
  /** The page with offsets above the ids, and the page of times. */
  spread: Page;
  times: Page;
}

/** A page's query, its marks `?` (portable), and the name of the bound value each takes. */
interface Page {
  text: string;
  names: string[];
}

/** The query written with named values (`@after`), as a Page. */
function page(text: string): Page {
  const names: string[] = [];
  return { text: text.replace(/@(\w+)/g, (_, name: string) => (names.push(name), '?')), names };
}

/** Pages (of SPAN positions at most) after which the packed scan lets go of the memory map (~20 MB of a bench log's file). */
const REMAP_PAGES = 64;

/** The memory map the packed scan asks of SQLite (at most; SQLite caps it at its own limit, 2 GB by default). */
const MMAP_SIZE = 2 ** 31;

/** Dictionary rows (all tables) up to which replay on PostgreSQL reads them all before the scan. */
const PRELOAD = 50_000;

/** Positions a page spans (their offset in the page takes 12 bits). */
const SPAN = 4096;
/** Bits a time less its base needs at least to be packed (2**20 ms: 17 minutes, half each way). */
const TIME_BITS = 20;
/** A page with more marks than this is read again spread (its times too far from the base). */
const MARKS = 64;

function packedLayout(sql: Sql): Layout | null {
  if (!sql.pluck) return null;
  const top = (table: string) => sql.get<{ m: number | null }>(`select max(id) m from ${table}`)?.m ?? 0;
  const width = (n: number) => {
    let w = 0;
    while (w < 53 && 2 ** w <= n) w++;
    return w;
  };
  const wp = width(top('profiles'));
  const wc = width(top('codes'));
  const ws = width(top('sources'));
  const wb = width(top('bodies'));
  // all ones stands for no run
  const wr = width(top('runs') + 1);
  const low = 1 + wr + wb + ws + wc + wp;
  if (low + 12 > 53 || wr > 30 || wb > 30 || wp + wc + ws > 30) return null;
  const wt = Math.min(53 - low, 40);
  const mask = (w: number) => 2 ** w - 1;
  const fits = (col: string, w: number) => `${col} & ${mask(w)} = ${col}`;
  const idsFit = `${fits('profile_id', wp)} and ${fits('code_id', wc)} and ${fits('source_id', ws)} and ${fits('body_id', wb)} and (run_id is null or (${fits('run_id', wr)} and run_id < ${mask(wr)}))`;
  const packed = (high: string) => `(((((${high} * ${2 ** wp} + profile_id) * ${2 ** wc} + code_id) * ${2 ** ws} + source_id) * ${2 ** wb} + body_id) * ${2 ** wr} + coalesce(run_id, ${mask(wr)})) * 2`;
  const numbers = (expr: string) => page(sql.dialect.numbersByPosition(expr, 'position > @after and position <= @until'));
  return {
    tops: { bodies: top('bodies'), codes: top('codes'), sources: top('sources'), runs: top('runs') },
    wr,
    wb,
    wpcs: wp + wc + ws,
    ws,
    wc,
    timed: wt < TIME_BITS ? null : numbers(`case when ${idsFit} and ${sql.dialect.wholeUpTo('(time - @base)', mask(wt))} then ${packed('(time - @base)')} else 1 end`),
    wt,
    spread: numbers(`case when ${idsFit} then ${packed('(position - @after - 1)')} else (position - @after - 1) * ${2 ** low} + 1 end`),
    times: numbers('time'),
  };
}

/**
 * The whole log through the packed pages: `hot` takes what it can count by the ids alone
 * (the key of its profile, code id and source, its body, run and position); every other event
 * goes filled to `cold`, which says what `hot` may use for its key from then on.
 */
function packedScan(
  sql: Sql,
  l: Layout,
  dict: Dictionaries,
  remap: (() => void) | null,
  hot: (u: Unchanged | undefined, bodyId: number, runRow: number | null, position: number, time: number) => boolean,
  cold: (ev: LeanEvent) => Unchanged | undefined,
): number {
  const ev = leanEvent();
  // by the key of profile, code id and source
  const known: (Unchanged | undefined)[] = [];
  const RB = 2 ** l.wr;
  const NONE = RB - 1;
  const BB = 2 ** l.wb;
  const PCS = 2 ** l.wpcs;
  const SB = 2 ** l.ws;
  const CB = 2 ** l.wc;
  const HIGH = 2 ** (1 + l.wr + l.wb + l.wpcs);
  const PER_RB = 2 ** -l.wr;
  const PER_RBB = 2 ** -(l.wr + l.wb);
  const PER_LOW = 2 ** -(l.wr + l.wb + l.wpcs);
  const last = sql.get<{ m: number | null }>('select max(position) m from events')?.m ?? 0;
  // times are packed less a base: the time last read, less half their range
  let lastTime = sql.get<{ t: number | null }>('select time t from events where position > 0 order by position limit 1')?.t ?? 0;
  const remote = sql.dialect.remote;
  // On SQLite bound as integers (BigInt): a JS number binds as a REAL, which made every row's
  // sums, masks and compares SQLite's floating-point and mixed ones (a 1M-event scan: 5.83G ->
  // 5.27G instructions); every bound is a whole number (positions; a time checked safe).
  // PostgreSQL types each by its column (pg-worker.ts writes it into the COPY as a literal).
  const args = (p: Page, values: { after: number; until: number; base?: number }) => p.names.map((k) => (remote ? values[k as 'after'] : BigInt(values[k as 'after'])));
  const read = (p: Page, values: { after: number; until: number; base?: number }) => sql.pluck!(p.text, ...args(p, values)) as number[];
  // Where each query is a round trip (PostgreSQL): the dictionary rows a page's events name,
  // read in a few queries before it is folded (not one each as events meet them), and the next
  // page asked for while this one is folded
  const asked = { bodies: new Set<number>(), codes: new Set<number>(), sources: new Set<number>(), runs: new Set<number>() };
  // a whole log names nearly every dictionary row: where they are few, all read at once
  // (each query waits behind the page being read ahead)
  const all = remote && l.tops.bodies + l.tops.codes + l.tops.sources + l.tops.runs <= PRELOAD;
  if (all) for (const table of ['bodies', 'codes', 'sources', 'runs'] as const) dict.load(table, Array.from({ length: l.tops[table] }, (_, i) => i + 1));
  const load = (ids: number[]) => {
    const want = { bodies: [] as number[], codes: [] as number[], sources: [] as number[], runs: [] as number[] };
    const ask = (table: keyof typeof want, id: number) => {
      if (!asked[table].has(id)) {
        asked[table].add(id);
        want[table].push(id);
      }
    };
    for (let i = 0; i < ids.length; i++) {
      const x = ids[i] / 2;
      if (x !== Math.floor(x)) continue;
      const r = Math.floor(x * PER_RB);
      const rb = Math.floor(x * PER_RBB);
      const key = rb - Math.floor(x * PER_LOW) * PCS;
      const run = x - r * RB;
      ask('bodies', r - rb * BB);
      ask('sources', key % SB);
      ask('codes', Math.floor(key / SB) % CB);
      if (run !== NONE) ask('runs', run);
    }
    for (const table of ['bodies', 'codes', 'sources', 'runs'] as const) if (want[table].length) dict.load(table, want[table]);
  };
  /** An event read from its row, as scanEvents reads it (its ids or time did not fit the packing). */
  const marked = (position: number) => {
    const r = sql.allRaw('select position, profile_id, code_id, source_id, body_id, run_id, time from events where position = ?', position)[0];
    fillEvent(sql, dict, ev, position, r[1] as number, r[2] as number | null, r[3] as number | null, r[4] as number, r[5] as number | null);
    lastTime = ev.time = r[6] as number;
    cold(ev);
  };
  let n = 0;
  let pages = 0;
  for (let a = 0; a < last; a += SPAN) {
    const until = a + SPAN;
    const bounds = { after: a, until };
    let ids: number[] | null = null;
    let base = 0;
    if (l.timed !== null && Number.isSafeInteger(lastTime)) {
      base = lastTime - 2 ** (l.wt - 1);
      ids = read(l.timed, { ...bounds, base });
      let marks = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i] === 1) marks++;
      // a gap in its positions, or too many times far from the base: read it spread
      if (ids.length !== Math.min(SPAN, last - a) || marks > MARKS) ids = null;
    }
    const spread = ids === null;
    if (spread) ids = read(l.spread, bounds);
    if (!ids!.length) {
      // a gap in the positions: on to the page of the next event
      const next = sql.get<{ m: number | null }>('select min(position) m from events where position > ?', a)?.m;
      if (next == null) break;
      a = next - 1 - SPAN;
      continue;
    }
    const times = spread ? read(l.times, bounds) : null;
    if (times && times.length !== ids!.length) throw new Error(`replay read ${ids!.length} events and ${times.length} times after position ${a}`);
    if (remote) {
      if (!all) load(ids!);
      // the next page as `lastTime` will be once this one is folded (its last event's time, where packed)
      const end = ids![ids!.length - 1] / 2;
      const t = end !== Math.floor(end) ? NaN : spread ? times![times!.length - 1] : base + Math.floor(end * PER_LOW);
      if (until < last && l.timed !== null && Number.isSafeInteger(t)) {
        const p = l.timed;
        sql.dialect.prefetchRaw?.(sql, p.text, args(p, { after: until, until: until + SPAN, base: t - 2 ** (l.wt - 1) }));
      }
    }
    for (let i = 0; i < ids!.length; i++) {
      const v = ids![i];
      n++;
      const x = v / 2;
      // a mark: odd
      if (x !== Math.floor(x)) {
        marked(a + 1 + (spread ? Math.floor(v / HIGH) : i));
        continue;
      }
      // whole numbers below 2**53 scaled by powers of two (a product by 2**-k is exact, as the
      // quotient is, and a multiply costs a fraction of a divide), each from x itself (no chain of
      // one on the last), with no fmod; each id below 2**30 (packedLayout), made a small integer
      // (no number boxed for each event)
      const r = Math.floor(x * PER_RB);
      const rb = Math.floor(x * PER_RBB);
      const q = Math.floor(x * PER_LOW);
      const run = (x - r * RB) | 0;
      const body = (r - rb * BB) | 0;
      const key = (rb - q * PCS) | 0;
      const position = spread ? a + 1 + (q | 0) : a + 1 + i;
      // a number in every path (a phi of a page's value and a sum boxed the sum: a heap number an event)
      let time: number;
      if (spread) {
        const t = times![i];
        // a spread page's times are read as they are: one that is no number (a hostile row) goes as a mark does
        if (typeof t !== 'number') {
          marked(position);
          continue;
        }
        time = t;
      } else time = base + q;
      const runRow = run === NONE ? null : run;
      if (hot(key < known.length ? known[key] : undefined, body, runRow, position, time)) continue;
      const source = key % SB;
      const code = Math.floor(key / SB) % CB;
      const profile = Math.floor(key / SB / CB);
      fillEvent(sql, dict, ev, position, profile, code, source, body, runRow);
      ev.time = time;
      const u = cold(ev);
      if (u) known[key] = u;
    }
    // the time of the page's last event, where packed (a mark's was taken as it was read): set
    // once a page, not an event (a variable the marks also set holds a boxed number)
    const end = ids![ids!.length - 1] / 2;
    if (end === Math.floor(end)) lastTime = spread ? times![times!.length - 1] : base + Math.floor(end * PER_LOW);
    if (remap && ++pages % REMAP_PAGES === 0) remap();
  }
  return n;
}
