import type { EntryJson } from '../codecs/entry-json.ts';
import type { CodeId } from '../model/code-id.ts';
import type { Shape } from '../model/observation.ts';
import { CURRENT_VERSION, splitPayload, validatePayload, VALIDATED, type DynamicLogged, type EventBody, type EventKind } from './events.ts';
import { shapeFromJson } from './fold.ts';
import { hash53 } from './hash53.ts';
import { inputError } from '../errors.ts';
import { isEventTime } from '../model/event-time.ts';
import { parseCacheKey } from '../model/cache-key.ts';

/** One event to append. */
export type NewEvent = EventBody & {
  /** The profile it belongs to: `job:rank:tag`. */
  cacheKey: string;
  /** When it happened (ms since the epoch); defaults to now. */
  time?: number;
  /**
   * Whether the time is part of what the event is (default: when given). An import's time
   * is its file's mtime, not its content: a copy of the file is the same import.
   */
  keyedTime?: boolean;
  run?: string | null;
  origin?: string | null;
  originLine?: number | null;
  compileId?: string | null;
  /** What makes it the same event if ingested again (hashed into the unique key). */
  idempotencyKey: string;
  /** A ready key in place of hashing idempotencyKey (must be below 2**53). */
  idempotencyHash?: number;
  /** Set by builders that already ran the payload's zod schema. */
  [VALIDATED]?: true;
};

/**
 * An event ready for the log: its body already split for storage and its entry ready for
 * the fold. `append` builds these from NewEvents; the ingest worker builds them in bulk.
 */
export interface PreparedEvent {
  cacheKey: string;
  kind: EventKind;
  code: CodeId | null;
  source: string | null;
  /** The stored body (see events.ts StoredBodies). */
  json: string;
  /** shape.observed: the shape (may be shared between events: the fold never mutates it). */
  shape: Shape | null;
  /** entry.imported: the entry. */
  entry: EntryJson | null;
  automaticDynamic: boolean;
  /** entry.imported from a trace: the records are PyTorch's own (dynamic.logged). */
  quiet: boolean;
  /** dynamic.logged */
  record: DynamicLogged['record'] | null;
  guard: string | null;
  time: number;
  /** The time is part of the event's identity (a duplicate must have the same). */
  keyedTime: boolean;
  run: string | null;
  origin: string | null;
  originLine: number | null;
  compileId: string | null;
  /** hash53 of the idempotency key. */
  idem: number;
}

const BAD_ID = /[\u0000-\u001f\u007f]|\p{Cs}/u;

/** A NewEvent checked by zod (unless its builder already did) and split for storage. */
export function prepareEvent(ev: NewEvent, withShape = true): PreparedEvent {
  // Issue 9.5: a time past 9999 passed once, then broke jobs, history and report for the whole ledger.
  if (ev.time !== undefined && !isEventTime(ev.time)) throw inputError(`${ev.origin ?? 'event'}${ev.originLine != null ? `:${ev.originLine}` : ''}: field time: ${ev.time} ms is not a time between 1970 and 9999`);
  const version = CURRENT_VERSION[ev.kind];
  const checked = (ev as { [VALIDATED]?: boolean })[VALIDATED];
  if (!checked) validatePayload(ev.kind, version, ev.payload);
  const parts = splitPayload(ev);
  if (!checked) {
    // Issue 9.5: ids from pickles and traces as from lines: no control characters (they forge
    // lines in text output), no lone surrogates (not UTF-8: verify failed on them).
    const where = () => `${ev.origin ?? 'event'}${ev.originLine != null ? `:${ev.originLine}` : ''}`;
    const ids: [string, string | null | undefined][] = [
      ['source', parts.source],
      ['code.filename', parts.code?.filename],
      ['code.name', parts.code?.name],
      ['code.file_hash', parts.code?.file_hash],
      ['run', ev.run],
      ['compile_id', ev.compileId],
      ['cache key', ev.cacheKey],
    ];
    // A key from a bundle or a trace that is no job:rank:tag failed later, in SQL, as a bug.
    try {
      parseCacheKey(ev.cacheKey);
    } catch (e) {
      throw inputError(`${where()}: ${(e as Error).message}`, e);
    }
    for (const [field, v] of ids) {
      if (v != null && BAD_ID.test(v)) throw inputError(`${where()}: field ${field}: ${JSON.stringify(v).slice(0, 200)} holds a control character or a lone surrogate`);
    }
  }
  return {
    cacheKey: ev.cacheKey,
    kind: ev.kind,
    code: parts.code,
    source: parts.source,
    json: parts.json,
    shape: ev.kind === 'shape.observed' && withShape ? shapeFromJson(ev.payload.shape) : null,
    entry: ev.kind === 'entry.imported' ? ev.payload.entry : null,
    automaticDynamic: ev.kind === 'shape.observed' ? ev.payload.automatic_dynamic : true,
    quiet: ev.kind === 'entry.imported' && ev.payload.records === 'logged',
    record: ev.kind === 'dynamic.logged' ? ev.payload.record : null,
    guard: ev.kind === 'dynamic.logged' ? ev.payload.guard : null,
    time: ev.time ?? Date.now(),
    keyedTime: ev.keyedTime ?? ev.time !== undefined,
    run: ev.run ?? null,
    origin: ev.origin ?? null,
    originLine: ev.originLine ?? null,
    compileId: ev.compileId ?? null,
    idem: ev.idempotencyHash ?? hash53(ev.idempotencyKey),
  };
}
