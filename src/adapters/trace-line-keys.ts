import type { Ledger, NewEvent } from '../store/ledger.ts';

/**
 * The key a trace event had before session 20 (its line in the file in place of its compile
 * and content), by event: ledgers written before then hold these. Kept aside, not on the
 * event, so that nothing stores it.
 */
const lineKeys = new WeakMap<NewEvent, number>();

/** Notes a trace event's old, line-numbered key (hash53 of it). */
export function noteLineKey(ev: NewEvent, hash: number): void {
  lineKeys.set(ev, hash);
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
  const held = new Map<number, number | null>();
  for (let i = 0; i < events.length; i += CHUNK) {
    const keys: number[] = [];
    for (const e of events.slice(i, i + CHUNK)) {
      const k = lineKeys.get(e);
      if (k !== undefined) keys.push(k);
    }
    if (keys.length === 0) continue;
    const rows = ledger.sql.all<{ k: number | string; l: number | string | null }>(`select idempotency_key as k, origin_line as l from events where idempotency_key in (${keys.map(() => '?').join(',')})`, ...keys);
    for (const r of rows) held.set(Number(r.k), r.l === null ? null : Number(r.l));
  }
  if (held.size === 0) return events;
  // the old key named the line: the stored event at that key is this one where its line is
  return events.filter((e) => {
    const k = lineKeys.get(e);
    return k === undefined || !held.has(k) || held.get(k) !== (e.originLine ?? null);
  });
}
