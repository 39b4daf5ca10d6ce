import type { EntryJson } from '../codecs/entry-json.ts';
import type { CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import type { StreamView } from './fold.ts';
import type { LogCounts, sourceCounts } from './log-counts.ts';
import type { Acc, Carried, WhyState } from './why-fold.ts';
import type { Shape } from '../model/observation.ts';
import { automaticDynamicOf, CURRENT_VERSION, splitPayload, validatePayload, VALIDATED, type DynamicLogged, type EventBody, type EventKind } from './events.ts';
import { shapeFromJson } from './fold.ts';
import { hash53 } from './hash53.ts';
import { inputError } from '../errors.ts';
import { isEventTime } from '../model/event-time.ts';
import { floatFromRepr } from '../model/float.ts';
import { parseCacheKey } from '../model/cache-key.ts';
import { badIdWhy, holdsBadId, idText } from '../model/id-chars.ts';

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
  /**
   * Whether the line in its input is part of what the event is (default: yes). A trace's
   * events are known by their compile and content (ingest-trace.ts), so a line inserted
   * above them moves them without making them new.
   */
  keyedLine?: boolean;
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
  /** The line in its input is part of the event's identity (NewEvent.keyedLine). */
  keyedLine: boolean;
  run: string | null;
  origin: string | null;
  originLine: number | null;
  compileId: string | null;
  /** entry.imported: the payload's format (the stored body holds the same; why reads it from here, not the body). */
  format: string | null;
  /** hash53 of the idempotency key. */
  idem: number;
  /** Shared by the events of one wire rest (decodeBatch): what the append worked out for the first of them. */
  memo?: AppendMemo | null;
}

/**
 * What the append worked out for the events of one wire rest (lines the same but for their
 * time: the same profile, code id, source, body, run, origin and compile), kept for the next
 * of them, which would look each of it up again. Each part names what it was worked out
 * against, and is used only while that holds: the ids while the interner's generation stands
 * (a rollback forgets ids), the counts while the report's counts are the same object, and the
 * fold's outcome (the entry kept as it was) while the live view is the same object and no
 * fold changed it (StreamView.changes), or changed only other entries of it (fold.ts
 * unchangedSince): folding the same shape into the same entry keeps it again.
 */
export class AppendMemo {
  gen = -1;
  codeId = 0;
  sourceId: number | null = null;
  bodyId = 0;
  runId: number | null = null;
  /** The report's counts this event's were added to, and its code id and source's there. */
  counted: LogCounts | null = null;
  counts: ReturnType<typeof sourceCounts> | null = null;
  /** The live view whose fold kept the entry (`kept`) as it was, and its changes then (or when the memo was last found to hold). */
  view: StreamView | null = null;
  changes: number | undefined = undefined;
  kept: FrameStateSizeEntry | null = null;
  /** why's state (the view's when `view` was set), and where why counts the event there (whyCountingAcc). */
  why: WhyState | undefined = undefined;
  acc: Acc | null = null;
  slot: Carried | null = null;
}


/** A NewEvent checked by zod (unless its builder already did) and split for storage. */
export function prepareEvent(ev: NewEvent, withShape = true): PreparedEvent {
  // Issue 9.5: a time past 9999 passed once, then broke jobs, history and report for the whole ledger.
  if (ev.time !== undefined && !isEventTime(ev.time)) throw inputError(`${ev.origin ?? 'event'}${ev.originLine != null ? `:${ev.originLine}` : ''}: field time: ${ev.time} ms is not a time between 1970 and 9999`);
  const version = CURRENT_VERSION[ev.kind];
  const checked = (ev as { [VALIDATED]?: boolean })[VALIDATED];
  if (!checked && !(version === 1 && surelyValid(ev.kind, ev.payload))) validatePayload(ev.kind, version, ev.payload);
  const parts = splitPayload(ev);
  if (!checked) checkIds(ev, parts.source, parts.code);
  return {
    cacheKey: ev.cacheKey,
    kind: ev.kind,
    code: parts.code,
    source: parts.source,
    json: parts.json,
    shape: ev.kind === 'shape.observed' && withShape ? shapeFromJson(ev.payload.shape) : null,
    entry: ev.kind === 'entry.imported' ? ev.payload.entry : null,
    automaticDynamic: automaticDynamicOf(ev),
    quiet: ev.kind === 'entry.imported' && ev.payload.records === 'logged',
    record: ev.kind === 'dynamic.logged' ? ev.payload.record : null,
    guard: ev.kind === 'dynamic.logged' ? ev.payload.guard : null,
    time: ev.time ?? Date.now(),
    keyedTime: ev.keyedTime ?? ev.time !== undefined,
    keyedLine: ev.keyedLine ?? true,
    run: ev.run ?? null,
    origin: ev.origin ?? null,
    originLine: ev.originLine ?? null,
    compileId: ev.compileId ?? null,
    format: ev.kind === 'entry.imported' ? ev.payload.format : null,
    idem: ev.idempotencyHash ?? hash53(ev.idempotencyKey),
  };
}

/**
 * The id fields' values that last passed checkIds, and the code ids that did: a builder's
 * events repeat them one after another (a trace's cache key, run and compiles, one CodeId
 * object a compile), and each check is a pure function of the value. CodeId objects are never
 * changed once made (the interner knows a code's row by its object, too).
 */
const passed = { key: '', source: '', run: '', compile: '' };
const passedCodes = new WeakSet<CodeId>();

function where(ev: NewEvent): string {
  return `${ev.origin ?? 'event'}${ev.originLine != null ? `:${ev.originLine}` : ''}`;
}

/** Issue 9.5: ids from pickles and traces as from lines: no control characters (they forge lines in text output), no lone surrogates (not UTF-8: verify failed on them). */
function badId(ev: NewEvent, field: string, v: string | null | undefined): void {
  if (v != null && holdsBadId(v)) throw inputError(`${where(ev)}: field ${field}: ${idText(v)} ${badIdWhy(v)}`);
}

/** The ids' checks of an event no builder checked, in one order: the first that fails throws. */
function checkIds(ev: NewEvent, source: string | null, code: CodeId | null): void {
  const key = ev.cacheKey;
  const keyPassed = key === passed.key;
  // A key from a bundle or a trace that is no job:rank:tag failed later, in SQL, as a bug.
  if (!keyPassed) {
    try {
      parseCacheKey(key);
    } catch (e) {
      throw inputError(`${where(ev)}: ${(e as Error).message}`, e);
    }
  }
  if (source !== passed.source) badId(ev, 'source', source);
  const codePassed = code === null || passedCodes.has(code);
  if (!codePassed) {
    badId(ev, 'code.filename', code.filename);
    badId(ev, 'code.name', code.name);
    badId(ev, 'code.file_hash', code.file_hash);
  }
  const run = ev.run;
  // an empty run names no run: answers showed it as none while retract took it (trial s34a)
  if (run === '') throw inputError(`${where(ev)}: field run: empty: give the run, or leave it out (null) for none`);
  if (run !== passed.run) badId(ev, 'run', run);
  const compile = ev.compileId;
  if (compile !== passed.compile) badId(ev, 'compile_id', compile);
  if (!keyPassed) badId(ev, 'cache key', key);
  passed.key = key;
  if (source != null) passed.source = source;
  if (run != null) passed.run = run;
  if (compile != null) passed.compile = compile;
  if (!codePassed) passedCodes.add(code);
}

/*
 * A check that only ever says yes where the payload's zod schema (events.ts) accepts it, for
 * the payloads builders make (traces, pickles, snapshots): zod then never loads nor runs for
 * them. Anything it is unsure of (a layout's extra fields, odd values) goes to zod, which
 * words the error. A test holds it to zod on hostile payloads.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isIntJson = (v: unknown) => isInt(v) || (isStr(v) && /^-?\d+$/.test(v));
function isArrayOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}
function isAtomJson(v: unknown): boolean {
  if (isIntJson(v) || v === 'dynamic' || v === 'unset') return true;
  return isObj(v) && isInt(v.infer) && v.infer >= 0 && (v.obj === undefined || (isInt(v.obj) && v.obj > 0));
}
/** A float scalar as entry-json.ts spells it (specialize_float=False). */
const isFloatJson = (v: unknown) => isObj(v) && typeof v.float === 'string' && floatFromRepr(v.float) !== undefined && v.bits === undefined;
const isFieldJson = (v: unknown) => v === 'dynamic' || v === 'unset' || isArrayOf(v, isAtomJson);
function isCode(v: unknown): boolean {
  if (!isObj(v) || !isStr(v.filename) || !isInt(v.firstlineno) || !isStr(v.name) || !isStr(v.file_hash) || v.extra !== undefined) return false;
  const ch = v.closure_hash;
  return ch === undefined || ch === null || isInt(ch) || typeof ch === 'bigint';
}
function isEntryJson(v: unknown): boolean {
  if (!isObj(v) || !(isAtomJson(v.scalar) || isFloatJson(v.scalar)) || !isFieldJson(v.size) || !isFieldJson(v.stride) || v.extra !== undefined) return false;
  const xs = v.excluded_sizes;
  if (xs !== undefined && xs !== null && !isArrayOf(xs, (x) => x === null || isIntJson(x))) return false;
  const xc = v.excluded_scalar;
  return xc === undefined || xc === null || isIntJson(xc);
}
const REASONS = new Set(['scalar change', 'size change', 'stride change', 'dimensionality change', 'other']);
const ROLES = new Set(['input', 'parameter', 'buffer']);
const isDescribedDim = (x: unknown) => x === null || isInt(x) || isStr(x);
const strOrNull = (v: unknown) => v === null || isStr(v);

export function surelyValid(kind: string, p: unknown): boolean {
  if (!isObj(p)) return false;
  switch (kind) {
    case 'entry.imported':
      return isCode(p.code) && isStr(p.source) && isEntryJson(p.entry) && (p.import_id === null || isInt(p.import_id)) && isStr(p.format) && (p.records === undefined || p.records === 'fold' || p.records === 'logged') && (p.automatic_dynamic === undefined || p.automatic_dynamic === false);
    case 'dynamic.logged': {
      const r = p.record;
      if (!isCode(p.code) || !isStr(p.source) || !strOrNull(p.guard) || !isObj(r)) return false;
      const d = r.dim_changed;
      return (d === 'scalar' || d === 'all' || (isInt(d) && d >= 0)) && isStr(r.reason) && REASONS.has(r.reason) && isStr(r.cached) && isStr(r.new);
    }
    case 'shape.described':
      return (
        isCode(p.code) &&
        isStr(p.source) &&
        isArrayOf(p.size, isDescribedDim) &&
        (p.stride === null || isArrayOf(p.stride, isDescribedDim)) &&
        strOrNull(p.dtype) &&
        strOrNull(p.device) &&
        isStr(p.role) &&
        ROLES.has(p.role) &&
        (p.requires_grad === undefined || p.requires_grad === true)
      );
    case 'scalar.described':
      return isCode(p.code) && isStr(p.source) && isIntJson(p.value) && (p.specialized === undefined || p.specialized === true);
    case 'shape.observed': {
      const s = p.shape;
      if (!isCode(p.code) || !isStr(p.source) || typeof p.automatic_dynamic !== 'boolean' || !isObj(s)) return false;
      // a shape with marked dims goes to zod, which checks them
      if (s.kind === 'tensor') return s.mark_dynamic === undefined && isArrayOf(s.size, isIntJson) && isArrayOf(s.stride, isIntJson);
      if (s.kind === 'scalar') return isIntJson(s.value);
      return s.kind === 'size' && isArrayOf(s.size, isIntJson);
    }
    case 'run.retracted':
      return isStr(p.run) && (p.reason === undefined || isStr(p.reason));
    default:
      return false;
  }
}
