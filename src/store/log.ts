import type { Sql } from './database.ts';
import { decodePayload, validatePayload, type EventBody, type StoredEvent } from './events.ts';

interface EventRow {
  position: number;
  profile_id: number;
  kind: string;
  version: number;
  payload: string | Uint8Array;
  encoding: number;
  time: number;
  run: string | null;
  origin: string | null;
  origin_line: number | null;
  compile_id: string | null;
}

const PAGE = 5000;

export interface ReadFilter {
  profileId?: number;
  /** Last position included. */
  untilPosition?: number;
  /** Last event time (ms) included. */
  untilTime?: number;
  /** Skip payload validation (only `verify` wants it; everything else validates on the way out). */
}

/**
 * Streams events in log order, a page at a time (memory stays flat however long the log,
 * and no cursor is held open, so the caller may write between pages).
 */
export function* readEvents(sql: Sql, filter: ReadFilter = {}): Generator<StoredEvent> {
  let after = 0;
  const until = filter.untilPosition ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows =
      filter.profileId === undefined
        ? sql.all<EventRow>(
            `select e.position, e.profile_id, e.kind, e.version, e.payload, e.encoding, e.time, e.run, o.origin, e.origin_line, e.compile_id
             from events e left join origins o on o.id = e.origin_id where e.position > ? and e.position <= ? order by e.position limit ${PAGE}`,
            after,
            until,
          )
        : sql.all<EventRow>(
            `select e.position, e.profile_id, e.kind, e.version, e.payload, e.encoding, e.time, e.run, o.origin, e.origin_line, e.compile_id
             from events e left join origins o on o.id = e.origin_id where e.profile_id = ? and e.position > ? and e.position <= ? order by e.position limit ${PAGE}`,
            filter.profileId,
            after,
            until,
          );
    for (const r of rows) {
      if (filter.untilTime !== undefined && r.time > filter.untilTime) continue;
      yield decodeRow(r);
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].position;
  }
}

export function decodeRow(r: EventRow): StoredEvent {
  let payload: unknown;
  try {
    payload = validatePayload(r.kind, r.version, decodePayload(r.payload, r.encoding));
  } catch (e) {
    throw new Error(`event at position ${r.position} cannot be read: ${(e as Error).message}`);
  }
  return {
    kind: r.kind,
    payload,
    position: r.position,
    profileId: r.profile_id,
    time: r.time,
    run: r.run,
    origin: r.origin,
    originLine: r.origin_line,
    compileId: r.compile_id,
  } as StoredEvent & EventBody;
}

/** Runs retracted in a profile as of a point (a run.retracted event applies to the whole run). */
export function retractedRuns(sql: Sql, profileId: number, untilPosition = Number.MAX_SAFE_INTEGER): Set<string> {
  const rows = sql.all<{ payload: string | Uint8Array; encoding: number; version: number }>(
    "select payload, encoding, version from events where profile_id = ? and kind = 'run.retracted' and position <= ?",
    profileId,
    untilPosition,
  );
  return new Set(rows.map((r) => (validatePayload('run.retracted', r.version, decodePayload(r.payload, r.encoding)) as { run: string }).run));
}
