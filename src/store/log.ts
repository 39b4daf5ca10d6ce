import type { Sql } from './database.ts';
import { CodeIdSchema, decodePayload, EventPayloadError, joinPayload, zodMessage, type EventBody, type StoredEvent } from './events.ts';
import type { CodeId } from '../model/code-id.ts';

interface EventRow {
  position: number;
  profile_id: number;
  kind: string;
  version: number;
  code_id: number | null;
  source: string | null;
  payload: string | Uint8Array;
  encoding: number;
  time: number;
  run: string | null;
  origin?: string | null;
  origin_line?: number | null;
  compile_id?: string | null;
}

const PAGE = 5000;

export interface ReadFilter {
  profileId?: number;
  /** Last position included. */
  untilPosition?: number;
  /** Last event time (ms) included. */
  untilTime?: number;
}

/** Code ids by row id, each read (and checked by zod) once, then shared. */
export function codeCache(sql: Sql): (id: number) => CodeId {
  const cache = new Map<number, CodeId>();
  return (id) => {
    let c = cache.get(id);
    if (!c) {
      const row = sql.get<CodeId>('select filename, firstlineno, name, file_hash from codes where id = ?', id);
      if (!row) throw new EventPayloadError(`code id ${id} is missing from the codes table`);
      const r = CodeIdSchema.safeParse(row);
      if (!r.success) throw new EventPayloadError(`code id ${id}: ${zodMessage(r.error)}`);
      cache.set(id, (c = r.data));
    }
    return c;
  };
}

/**
 * Streams events in log order, a page at a time (memory stays flat however long the log,
 * and no cursor is held open, so the caller may write between pages). `lean` skips what
 * a fold does not need (origin, compile id).
 */
export function* readEvents(sql: Sql, filter: ReadFilter = {}, opts: { lean?: boolean; codes?: (id: number) => CodeId } = {}): Generator<StoredEvent> {
  const codes = opts.codes ?? codeCache(sql);
  let after = 0;
  const until = filter.untilPosition ?? Number.MAX_SAFE_INTEGER;
  const cols = opts.lean
    ? 'e.position, e.profile_id, e.kind, e.version, e.code_id, e.source, e.payload, e.encoding, e.time, e.run'
    : 'e.position, e.profile_id, e.kind, e.version, e.code_id, e.source, e.payload, e.encoding, e.time, e.run, o.origin, e.origin_line, e.compile_id';
  const from = opts.lean ? 'events e' : 'events e left join origins o on o.id = e.origin_id';
  const byProfile = filter.profileId !== undefined;
  const q = `select ${cols} from ${from} where ${byProfile ? 'e.profile_id = ? and ' : ''}e.position > ? and e.position <= ? order by e.position limit ${PAGE}`;
  for (;;) {
    const rows = byProfile ? sql.all<EventRow>(q, filter.profileId, after, until) : sql.all<EventRow>(q, after, until);
    for (const r of rows) {
      if (filter.untilTime !== undefined && r.time > filter.untilTime) continue;
      yield decodeRow(r, codes, !!opts.lean);
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].position;
  }
}

export function decodeRow(r: EventRow, codes: (id: number) => CodeId, lean: boolean): StoredEvent {
  let body: EventBody;
  try {
    body = joinPayload(r.kind, r.version, r.code_id === null ? null : codes(r.code_id), r.source, decodePayload(r.payload, r.encoding));
  } catch (e) {
    throw new Error(`event at position ${r.position} cannot be read: ${(e as Error).message}`);
  }
  // Built field by field: an object spread here was five times slower than the rest of the read.
  return {
    kind: body.kind,
    payload: body.payload,
    position: r.position,
    profileId: r.profile_id,
    time: r.time,
    run: r.run,
    origin: lean ? null : (r.origin as string | null),
    originLine: lean ? null : (r.origin_line as number | null),
    compileId: lean ? null : (r.compile_id as string | null),
  } as StoredEvent;
}

/** Runs retracted in a profile as of a point (a run.retracted event applies to the whole run). */
export function retractedRuns(sql: Sql, profileId: number, untilPosition = Number.MAX_SAFE_INTEGER): Set<string> {
  const rows = sql.all<{ payload: string | Uint8Array; encoding: number; version: number }>(
    "select payload, encoding, version from events where profile_id = ? and kind = 'run.retracted' and position <= ?",
    profileId,
    untilPosition,
  );
  return new Set(rows.map((r) => (joinPayload('run.retracted', r.version, null, null, decodePayload(r.payload, r.encoding)).payload as { run: string }).run));
}
