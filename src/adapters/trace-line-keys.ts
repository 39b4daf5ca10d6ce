import { hash53After, type Hash53Prefix } from '../store/hash53.ts';
import type { Ledger, NewEvent } from '../store/ledger.ts';

/**
 * The key a trace event had before session 20 (its line in the file in place of its compile
 * and content): ledgers written before then hold these. Kept on the event under symbols, which
 * nothing that stores an event reads (prepareEvent takes its fields by name), as the start's
 * hash53 state and the rest: hashed only where a ledger may hold such keys. (A WeakMap by
 * event was a fifth of a folder's traceEvents: an entry an event.)
 */
const LINE_START = Symbol('pgo-ledger.lineKeyStart');
const LINE_REST = Symbol('pgo-ledger.lineKeyRest');
type LineKeyed = NewEvent & { [LINE_START]?: Hash53Prefix; [LINE_REST]?: string };

/** Notes a trace event's old, line-numbered key: hash53 of the start (as hash53Prefix gives it) and the rest. */
export function noteLineKey(ev: NewEvent, start: Hash53Prefix, rest: string): void {
  (ev as LineKeyed)[LINE_START] = start;
  (ev as LineKeyed)[LINE_REST] = rest;
}

/** The old key's hash of an event noteLineKey noted, else undefined. */
function lineKeyOf(ev: NewEvent): number | undefined {
  const rest = (ev as LineKeyed)[LINE_REST];
  return rest === undefined ? undefined : hash53After((ev as LineKeyed)[LINE_START]!, rest);
}

/**
 * One ingest's traces (a folder's): whether the ledger held any event when the first was read.
 * One that held none holds no line key (no build writes one any more), so its files skip the
 * read, one a file.
 */
export interface LineKeyScope {
  held?: boolean;
}

/** Keys asked in one statement (SQLite's and PostgreSQL's bound parameters are many more). */
const CHUNK = 500;

/**
 * A trace's events less those a ledger already holds under their old, line-numbered key
 * (the same event at the same line, ingested before the keys changed): re-ingesting an
 * unchanged file into an older ledger appends nothing, as it did. Events keyed so are never
 * written any more, so a read before the write lock sees all there will be. One indexed
 * read a file (a few dozen keys); a trace none of whose keys are there comes back as it was.
 */
export function withoutLineKeyed(ledger: Ledger, events: NewEvent[], scope?: LineKeyScope): NewEvent[] {
  if (scope !== undefined && !(scope.held ??= ledger.sql.get('select 1 as one from events limit 1') !== undefined)) return events;
  const lineKeys = events.map(lineKeyOf);
  const held = new Map<number, number | null>();
  for (let i = 0; i < events.length; i += CHUNK) {
    const keys: number[] = [];
    for (const k of lineKeys.slice(i, i + CHUNK)) if (k !== undefined) keys.push(k);
    if (keys.length === 0) continue;
    const rows = ledger.sql.all<{ k: number | string; l: number | string | null }>(`select idempotency_key as k, origin_line as l from events where idempotency_key in (${keys.map(() => '?').join(',')})`, ...keys);
    for (const r of rows) held.set(Number(r.k), r.l === null ? null : Number(r.l));
  }
  if (held.size === 0) return events;
  // the old key named the line: the stored event at that key is this one where its line is
  return events.filter((e, i) => {
    const k = lineKeys[i];
    return k === undefined || !held.has(k) || held.get(k) !== (e.originLine ?? null);
  });
}
