import type { CodeId } from '../model/code-id.ts';
import { codeFromColumns } from './code-columns.ts';
import type { Sql } from './database.ts';
import { automaticDynamicOf, decodePayload, eventSchemas, EventPayloadError, joinPayload, zodMessage, type ShapeObserved } from './events.ts';
import { damaged } from './damage.ts';
import { checkEnds, profileRanges } from './profile-spans.ts';
import { shapeFromJson, type FoldInput, type FoldPayload } from './fold.ts';

const PAGE = 5000;

export interface ReadFilter {
  profileId?: number;
  /** Last position included. */
  untilPosition?: number;
  /** Last event time (ms) included. */
  untilTime?: number;
  /** Start after this position (a checkpoint's). */
  afterPosition?: number;
  /** scanEvents: fill each event's time even with no time bound. */
  withTime?: boolean;
  /** scanEvents: fill each event's time, origin, origin line and compile id too (for steps an answer reports). */
  details?: boolean;
}

/** A stored body read back: checked by zod once, then shared by every event that has it. */
export interface Body extends FoldPayload {
  kind: string;
  version: number;
  /** entry.imported: the snapshot's format. */
  format: string | null;
  /** The stored JSON, parsed and validated (joinPayload's input). */
  stored: unknown;
}

/** Readers of the log's dictionaries (codes, sources, runs, bodies), each row read once. */
export interface Dictionaries {
  code(id: number): CodeId;
  /** The row a code id object of code() was read from (its id in the codes table, which the interner asks for). */
  codeRow(c: CodeId): number | undefined;
  source(id: number): string;
  run(id: number): string;
  origin(id: number): string;
  body(id: number): Body;
  /** Reads the rows of these ids not read yet, many a query (where each query is a round trip: Dialect.remote). */
  load(table: 'bodies' | 'codes' | 'sources' | 'runs', ids: Iterable<number>): void;
}

/** The code id rows (numbers) at `at` of a stored state's rows (a damaged row's is left to its reader to refuse). */
export function codeRows(rows: readonly unknown[], at: number): number[] {
  const out: number[] = [];
  for (const r of rows) if (Array.isArray(r) && typeof r[at] === 'number') out.push(r[at] as number);
  return out;
}

/** Ids a load query takes (always this many marks, so that it is one statement). */
const LOAD_CHUNK = 256;

const BOUND = 200_000;

export function dictionaries(sql: Sql): Dictionaries {
  const codes = new Map<number, CodeId>();
  const codeRows = new WeakMap<CodeId, number>();
  const sources = new Map<number, string>();
  const runs = new Map<number, string>();
  const origins = new Map<number, string>();
  const bodies = new Map<number, Body>();
  // rows load() read and no event has named yet: checked and kept by the readers below when one
  // does (a row no event names, one a rolled-back batch left, is never checked, as before)
  const loaded = { bodies: new Map<number, Record<string, unknown>>(), codes: new Map<number, Record<string, unknown>>(), sources: new Map<number, Record<string, unknown>>(), runs: new Map<number, Record<string, unknown>>() };
  const take = (table: keyof typeof loaded, id: number) => {
    const row = loaded[table].get(id);
    if (row !== undefined) loaded[table].delete(id);
    return row;
  };
  const text = (cache: Map<number, string>, table: string, column: string, id: number): string => {
    let s = cache.get(id);
    if (s === undefined) {
      const row = (table === 'sources' || table === 'runs' ? take(table, id) : undefined) ?? sql.get<Record<string, unknown>>(`select ${column} from ${table} where id = ?`, id);
      if (!row || typeof row[column] !== 'string') throw new EventPayloadError(`${column} id ${id} is missing`);
      if (cache.size > BOUND) cache.clear();
      cache.set(id, (s = row[column] as string));
    }
    return s;
  };
  const COLUMNS = { bodies: 'id, kind, version, payload', codes: 'id, filename, firstlineno, name, file_hash, closure_hash, extra', sources: 'id, source', runs: 'id, run' };
  const dict: Dictionaries = {
    load(table, ids) {
      const cache: Map<number, unknown> = table === 'bodies' ? bodies : table === 'codes' ? codes : table === 'sources' ? sources : runs;
      const want = [...new Set(ids)].filter((id) => !cache.has(id) && !loaded[table].has(id));
      for (let i = 0; i < want.length; i += LOAD_CHUNK) {
        const part = want.slice(i, i + LOAD_CHUNK);
        const marks = part.concat(Array(LOAD_CHUNK - part.length).fill(part[0]));
        for (const row of sql.all<Record<string, unknown> & { id: number }>(`select ${COLUMNS[table]} from ${table} where id in (${marks.map(() => '?').join(', ')})`, ...marks)) loaded[table].set(row.id, row);
      }
    },
    code(id) {
      let c = codes.get(id);
      if (!c) {
        const row = take('codes', id) ?? sql.get<Record<string, unknown>>('select filename, firstlineno, name, file_hash, closure_hash, extra from codes where id = ?', id);
        if (!row) throw new EventPayloadError(`code id ${id} is missing from the codes table`);
        let code: CodeId;
        try {
          code = codeFromColumns(row as Parameters<typeof codeFromColumns>[0]);
        } catch (e) {
          throw new EventPayloadError(`code id ${id}: ${(e as Error).message}`);
        }
        // zod only for what the plain check cannot pass (it passes nothing zod would refuse)
        if (!plainCodeId(code)) {
          const r = eventSchemas().CodeIdSchema.safeParse(code);
          if (!r.success) throw new EventPayloadError(`code id ${id}: ${zodMessage(r.error)}`);
        }
        codes.set(id, (c = code));
        codeRows.set(c, id);
      }
      return c;
    },
    codeRow: (c) => codeRows.get(c),
    source: (id) => text(sources, 'sources', 'source', id),
    run: (id) => text(runs, 'runs', 'run', id),
    origin: (id) => text(origins, 'origins', 'origin', id),
    body(id) {
      let b = bodies.get(id);
      if (!b) {
        const row = (take('bodies', id) as { kind: string; version: number; payload: string | Uint8Array } | undefined) ?? sql.get<{ kind: string; version: number; payload: string | Uint8Array }>('select kind, version, payload from bodies where id = ?', id);
        if (!row) throw new EventPayloadError(`body ${id} is missing`);
        // zod checks the body on the way out (placeholders stand for the code and source columns)
        let stored: unknown;
        let ev: ReturnType<typeof joinPayload>;
        try {
          stored = decodePayload(row.payload);
          // zod only for what the plain check cannot pass (it passes nothing zod would refuse)
          ev =
            row.kind === 'shape.observed' && row.version === 1 && plainShapeBody(stored)
              ? { kind: 'shape.observed', payload: { code: PLACEHOLDER_CODE, source: '', shape: stored as ShapeObserved['shape'], automatic_dynamic: stored.automatic_dynamic !== false } }
              : joinPayload(row.kind, row.version, PLACEHOLDER_CODE, '', stored);
        } catch (e) {
          throw damaged(sql.path, `event body ${id} cannot be read`, e);
        }
        b = {
          kind: row.kind,
          version: row.version,
          stored,
          shape: ev.kind === 'shape.observed' ? shapeFromJson(ev.payload.shape) : null,
          automaticDynamic: automaticDynamicOf(ev),
          entry: ev.kind === 'entry.imported' ? ev.payload.entry : null,
          format: ev.kind === 'entry.imported' ? ev.payload.format : null,
          quiet: ev.kind === 'entry.imported' && ev.payload.records === 'logged',
          record: ev.kind === 'dynamic.logged' ? ev.payload.record : null,
          guard: ev.kind === 'dynamic.logged' ? ev.payload.guard : null,
        };
        if (bodies.size > BOUND) bodies.clear();
        bodies.set(id, b);
      }
      return b;
    },
  };
  return dict;
}

/**
 * A code id of the most common form, which CodeIdSchema passes: its four fields of their types
 * and at most a null closure_hash (anything else goes to zod, which gives the verdict).
 */
export function plainCodeId(c: CodeId): boolean {
  return (
    typeof c.filename === 'string' &&
    typeof c.name === 'string' &&
    typeof c.file_hash === 'string' &&
    Number.isSafeInteger(c.firstlineno) &&
    (c.closure_hash === undefined || c.closure_hash === null) &&
    c.extra === undefined
  );
}

const safeInts = (a: unknown): boolean => Array.isArray(a) && a.every((x) => Number.isSafeInteger(x));

/**
 * A shape.observed v1 body of the common form, which its stored schema passes as it is: an
 * object with only its kind's keys and `automatic_dynamic` (a boolean, or absent), each int a
 * safe integer (ints written as strings, other keys and anything else go to zod).
 */
export function plainShapeBody(b: unknown): b is { kind: string; automatic_dynamic?: boolean } {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  const o = b as Record<string, unknown>;
  let n = 1;
  if (o.automatic_dynamic !== undefined) {
    if (typeof o.automatic_dynamic !== 'boolean') return false;
    n++;
  }
  if (o.kind === 'tensor') n += 2;
  else if (o.kind === 'scalar' || o.kind === 'size') n++;
  else return false;
  if (Object.keys(o).length !== n) return false;
  if (o.kind === 'scalar') return Number.isSafeInteger(o.value);
  return safeInts(o.size) && (o.kind === 'size' || safeInts(o.stride));
}

const PLACEHOLDER_CODE: CodeId = { filename: '', firstlineno: 0, name: '', file_hash: '' };

/** One event as the fold needs it; the same object is refilled for every event (no garbage). */
export interface LeanEvent extends FoldInput {
  position: number;
  profileId: number;
  /** The stored body's id (events with one body carry the same shape or entry). */
  bodyId: number;
  /** The rows of its code id, source and run (null where it has none). */
  codeRow: number | null;
  sourceRow: number | null;
  runRow: number | null;
  time: number;
  run: string | null;
  /** With `details`: where the event came from, and the compile that saw it. */
  origin: string | null;
  originLine: number | null;
  compileId: string | null;
  /** entry.imported: the snapshot's format. */
  format: string | null;
}

/**
 * One event's row (its position and the ids of its columns) resolved through the dictionaries
 * into `ev`: scanEvents's, and replay's for the events its own scan does not fold by counting.
 */
export function fillEvent(sql: Sql, dict: Dictionaries, ev: LeanEvent, position: number, profileId: number, codeRow: number | null, sourceRow: number | null, bodyId: number, runRow: number | null): void {
  let b: Body;
  try {
    b = dict.body(bodyId);
    if (b.kind !== 'run.retracted') {
      if (codeRow === null || sourceRow === null) throw new EventPayloadError(`${b.kind}: no code id or source`);
      ev.code = dict.code(codeRow);
      ev.source = dict.source(sourceRow);
    }
  } catch (e) {
    throw damaged(sql.path, `event at position ${position} cannot be read`, e);
  }
  ev.position = position;
  ev.profileId = profileId;
  ev.bodyId = bodyId;
  ev.codeRow = codeRow;
  ev.sourceRow = sourceRow;
  ev.runRow = runRow;
  ev.kind = b.kind;
  ev.run = runRow === null ? null : dict.run(runRow);
  ev.shape = b.shape;
  ev.automaticDynamic = b.automaticDynamic;
  ev.entry = b.entry;
  ev.quiet = b.quiet;
  ev.record = b.record;
  ev.guard = b.guard;
  ev.format = b.format;
}

/** A LeanEvent to refill (scanEvents's, and replay's). */
export const leanEvent = (): LeanEvent => ({ position: 0, profileId: 0, bodyId: 0, codeRow: null, sourceRow: null, runRow: null, kind: '', time: 0, run: null, code: PLACEHOLDER_CODE, source: '', shape: null, automaticDynamic: true, entry: null, quiet: false, record: null, guard: null, origin: null, originLine: null, compileId: null, format: null });

/**
 * The log's one read loop (replay, verify, every window's fold): rows of integers a page at a
 * time, resolved through the dictionaries (each distinct body parsed and checked by zod once).
 * Memory stays flat however long the log, and no cursor is held open between pages. A
 * profile's events are read within its spans (profile-spans.ts), by position.
 */
export function scanEvents(sql: Sql, filter: ReadFilter, visit: (ev: LeanEvent) => void, dict: Dictionaries = dictionaries(sql)): number {
  const ev = leanEvent();
  const until = filter.untilPosition ?? Number.MAX_SAFE_INTEGER;
  const byProfile = filter.profileId !== undefined;
  const details = filter.details === true;
  const timed = filter.untilTime !== undefined || filter.withTime === true || details;
  const q = `select position, profile_id, code_id, source_id, body_id, run_id${timed ? ', time' : ''}${details ? ', origin_id, origin_line, compile_id' : ''} from events
             where ${byProfile ? 'profile_id = ? and ' : ''}position > ? and position <= ? order by position limit ${PAGE}`;
  // the ranges (after, until] read, in order
  const after0 = filter.afterPosition ?? 0;
  // (a profile's: triples, with which of its span's ends each holds)
  const ranges = byProfile ? profileRanges(sql, filter.profileId!, after0, until) : [after0, until];
  const params = (after: number, to: number) => (byProfile ? [filter.profileId, after, to] : [after, to]);
  let n = 0;
  const step = byProfile ? 3 : 2;
  for (let k = 0; k < ranges.length; k += step) {
    let after = ranges[k];
    const to = ranges[k + 1];
    let first: number | undefined;
    let last: number | undefined;
    for (;;) {
      const rows = sql.allRaw(q, ...params(after, to));
      if (sql.dialect.remote) {
        // the page's dictionary rows in a few queries, not a round trip each
        dict.load('bodies', rows.map((r) => r[4] as number));
        dict.load('codes', rows.flatMap((r) => (r[2] === null ? [] : [r[2] as number])));
        dict.load('sources', rows.flatMap((r) => (r[3] === null ? [] : [r[3] as number])));
        dict.load('runs', rows.flatMap((r) => (r[5] === null ? [] : [r[5] as number])));
        // the next page (of this range, or the next) comes while this one is folded
        if (rows.length === PAGE) sql.dialect.prefetchRaw?.(sql, q, params(rows[rows.length - 1][0] as number, to));
        else if (k + step < ranges.length) sql.dialect.prefetchRaw?.(sql, q, params(ranges[k + step], ranges[k + step + 1]));
      }
      if (rows.length) {
        first ??= rows[0][0] as number;
        last = rows[rows.length - 1][0] as number;
      }
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        if (filter.untilTime !== undefined && (r[6] as number) > filter.untilTime) continue;
        fillEvent(sql, dict, ev, r[0] as number, r[1] as number, r[2] as number | null, r[3] as number | null, r[4] as number, r[5] as number | null);
        if (timed) ev.time = r[6] as number;
        if (details) {
          ev.origin = r[7] === null ? null : dict.origin(r[7] as number);
          ev.originLine = r[8] as number | null;
          ev.compileId = r[9] as string | null;
        }
        visit(ev);
        n++;
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1][0] as number;
    }
    if (byProfile) checkEnds(sql, filter.profileId!, ranges[k], to, ranges[k + 2], first, last);
  }
  return n;
}
