import { entryFromJson, entryToJson, type EntryJson } from '../codecs/entry-json.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { DynamicRecord } from '../model/update.ts';
import { closureColumn, codeFromColumns, extraColumn } from './code-columns.ts';
import { damaged } from './damage.ts';
import type { Selectable } from 'kysely';
import type { OpenedDatabase, Sql } from './database.ts';
import type { LedgerSchema } from './schema.ts';
import { emptyStream, type FoldStep, type StreamView } from './fold.ts';
import type { Interner } from './intern.ts';
import { leftOutRuns } from './window.ts';
import { emptyWhyState, type WhyState } from './why-fold.ts';
import { emptyLogCounts, type LogCounts } from './log-counts.ts';
import type { CodeStateRow, HistoryInsert } from './dialect/dialect.ts';
import { emptyViewRows, type ViewRows } from './checkpoints.ts';

/**
 * The stored views: each profile's whole-log fold (`code_states`) and the records it logged
 * (`history`). They are a cache of the fold; the log is the truth (`verify`, `replay`).
 */
export interface HistoryRow extends DynamicRecord {
  position: number;
  code: CodeId;
  codeSeq: number;
  run: string | null;
  time: number;
  compileId: string | null;
  origin: string | null;
  originLine: number | null;
  /** PyTorch's guard failure text, where a trace gave it. */
  guard: string | null;
  /**
   * The event that logged it: `dynamic.logged` is PyTorch's own record; for `shape.observed`
   * and `entry.imported` pgo-ledger applied PyTorch's rule itself (an imported snapshot's
   * record says what PyTorch would log joining it, not what it logged at the time).
   */
  kind: string;
}

export function loadView(sql: Sql, pid: number): StreamView {
  const view = emptyStream();
  for (const r of sql.all<{ seq: number; filename: string; firstlineno: number; name: string; file_hash: string; closure_hash: string; extra: string; entries: string }>(
    'select seq, filename, firstlineno, name, file_hash, closure_hash, extra, entries from code_states where profile_id = ? order by seq',
    pid,
  )) {
    const id = codeFromColumns(r);
    let entries: Map<string, ReturnType<typeof entryFromJson>>;
    try {
      entries = new Map((JSON.parse(r.entries) as [string, EntryJson][]).map(([s, e]) => [s, entryFromJson(e)]));
    } catch (e) {
      throw damaged(sql.path, `the stored view of profile ${pid}, code state ${r.seq}, cannot be read`, e);
    }
    view.profile.codes.set(codeKey(id), { id, state: { automaticDynamic: entries } });
    view.codeSeq.set(codeKey(id), r.seq);
  }
  return view;
}

/** The code ids of a profile's stored view, in its order (loadView's), none of their entries read. */
export function storedCodeIds(sql: Sql, pid: number): CodeId[] {
  return sql
    .all<{ filename: string; firstlineno: number; name: string; file_hash: string; closure_hash: string; extra: string }>('select filename, firstlineno, name, file_hash, closure_hash, extra from code_states where profile_id = ? order by seq', pid)
    .map(codeFromColumns);
}

/** Writes the code states of a view (those of the given seqs, or all). */
export function writeCodeStates(sql: Sql, pid: number, view: StreamView, seqs: Iterable<number> | 'all'): void {
  sql.dialect.upsertCodeStates(sql, codeStateRows([], pid, view, seqs));
}

/** The code state rows of a view (those of the given seqs, or all), added to `rows`. */
export function codeStateRows(rows: CodeStateRow[], pid: number, view: StreamView, seqs: Iterable<number> | 'all'): CodeStateRow[] {
  const want = seqs === 'all' ? null : new Set(seqs);
  for (const [key, { id, state }] of view.profile.codes) {
    const seq = view.codeSeq.get(key)!;
    if (want && !want.has(seq)) continue;
    const entries = JSON.stringify([...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)]));
    rows.push([pid, seq, id.filename, id.firstlineno, id.name, id.file_hash, closureColumn(id), extraColumn(id), entries]);
  }
  return rows;
}

export function insertHistory(sql: Sql, interner: Interner, position: number, pid: number, step: FoldStep): void {
  sql.dialect.insertHistory(sql, historyRows([], interner, position, pid, step));
}

/** The history rows of a fold step, added to `out` (the append and replay insert them in bulk). */
export function historyRows(out: HistoryInsert[], interner: Interner, position: number, pid: number, step: FoldStep): HistoryInsert[] {
  const cid = interner.codeId(step.code);
  for (const r of step.records) out.push([position, pid, step.codeSeq, cid, r.name, String(r.dim_changed), r.reason, r.cached, r.new, step.guard]);
  return out;
}

/** The stored history of a profile, in the order it was logged. */
export function readHistory(db: OpenedDatabase, pid: number): HistoryRow[] {
  // Plain SQL, not Kysely's builder: a read-only open loads no Kysely (see database.ts).
  type Row = Pick<Selectable<LedgerSchema['history']>, 'position' | 'code_seq' | 'source' | 'dim_changed' | 'reason' | 'cached' | 'new' | 'guard'> &
    Pick<Selectable<LedgerSchema['events']>, 'time' | 'compile_id' | 'origin_line' | 'kind'> &
    Pick<Selectable<LedgerSchema['codes']>, 'filename' | 'firstlineno' | 'name' | 'file_hash' | 'closure_hash' | 'extra'> & { run: string | null; origin: string | null };
  const found = db.sql.all<Row>(
    `select h.position, h.code_seq, h.source, h.dim_changed, h.reason, h.cached, h."new", h.guard, r.run, e.time, e.compile_id, o.origin, e.origin_line, e.kind,
            c.filename, c.firstlineno, c.name, c.file_hash, c.closure_hash, c.extra
       from history as h
       inner join events as e on e.position = h.position
       inner join codes as c on c.id = h.code_id
       left join origins as o on o.id = e.origin_id
       left join runs as r on r.id = e.run_id
      where h.profile_id = ?
      order by h.id`,
    pid,
  );
  return found.map((r) => ({
    position: r.position,
    code: codeFromColumns(r),
    codeSeq: r.code_seq,
    name: r.source,
    dim_changed: /^\d+$/.test(r.dim_changed) ? Number(r.dim_changed) : (r.dim_changed as 'all' | 'scalar'),
    reason: r.reason as DynamicRecord['reason'],
    cached: r.cached,
    new: r.new,
    run: r.run,
    time: r.time,
    compileId: r.compile_id,
    origin: r.origin,
    originLine: r.origin_line,
    guard: r.guard,
    kind: r.kind,
  }));
}

/** A profile's live view in memory while appends fold into it, and the code states they touched. */
export interface LiveView {
  view: StreamView;
  /** Runs whose events the whole log leaves out (retracted). */
  retracted: Set<string>;
  dirty: Set<number>;
  /** `why`'s state of the whole log, once a why-checkpoint was due (why-checkpoints.ts). */
  why?: WhyState;
  /** The report's counts of the log (log-counts.ts), likewise. */
  counts?: LogCounts;
  /** The profile's last position folded into it: another writer's append makes it stale. */
  lastPosition: number | null;
  /** Its checkpoints' rows, kept between them (replay's way): only code ids a fold changed since are encoded again. */
  rows: ViewRows;
}

/** The live views the append path folds into, loaded once per profile and dropped when stale. */
export function liveViews(sql: Sql, interner: Interner) {
  const live = new Map<number, LiveView>();
  return {
    /** The live view, loaded if need be (lastPosition: the profile's, as read under its lock). */
    get(pid: number, lastPosition: number | null): LiveView {
      let s = live.get(pid);
      // every field made at once: why and counts added later changed the object's shape under the append's compiled loop (a deopt and a recompile each)
      if (!s) live.set(pid, (s = { view: loadView(sql, pid), retracted: leftOutRuns(sql, pid, {}, interner.dict), dirty: new Set(), why: undefined, counts: undefined, lastPosition, rows: emptyViewRows() }));
      // A new profile: why's state is folded along from its first event (never read back from the
      // log), and the report's counts counted along likewise (never counted from the log at its first checkpoint).
      if (!s.why && s.lastPosition === null) s.why = emptyWhyState();
      if (!s.counts && s.lastPosition === null) s.counts = emptyLogCounts();
      return s;
    },
    peek: (pid: number) => live.get(pid),
    entries: () => live.entries(),
    drop: (pid: number) => void live.delete(pid),
    clear: () => live.clear(),
  };
}
export type LiveViews = ReturnType<typeof liveViews>;
