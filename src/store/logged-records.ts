import type { DynamicRecord } from '../model/update.ts';
import { damaged } from './damage.ts';
import { dictionaries, fillEvent, leanEvent } from './log.ts';
import type { Ledger } from './ledger.ts';
import type { HistoryRow } from './views.ts';
import type { DimStory } from './why.ts';

/** A record PyTorch logged, whole: a history row (its code state's seq is the view's, not the record's). */
export type LoggedRecord = Omit<HistoryRow, 'codeSeq'>;

/** Positions a query takes (always this many marks, so that it is one statement). */
const CHUNK = 256;

/**
 * The records PyTorch logged that stories name (their `logged`, and their merges' stories'),
 * whole, by position: `why` keeps of a record only what it tells (why-fold.ts Logged), and
 * its JSON gives the record as `history --json` does (one vocabulary), run, time, origin and
 * dim_changed included. A `dynamic.logged` event's record is its payload's whatever the
 * window (fold.ts), so the event read back is the row `history` holds for it.
 */
export function loggedRecords(ledger: Ledger, stories: readonly DimStory[]): Map<number, LoggedRecord> {
  const positions = new Set<number>();
  const walk = (s: DimStory) => {
    if (s.logged) positions.add(s.logged.position);
    if (s.via) walk(s.via.story);
  };
  stories.forEach(walk);
  const out = new Map<number, LoggedRecord>();
  if (!positions.size) return out;
  const sql = ledger.sql;
  const dict = dictionaries(sql);
  const ev = leanEvent();
  const all = [...positions];
  for (let i = 0; i < all.length; i += CHUNK) {
    const part = all.slice(i, i + CHUNK);
    const marks = Array.from({ length: CHUNK }, (_, k) => part[k] ?? part[0]);
    const rows = sql.allRaw(
      `select position, profile_id, code_id, source_id, body_id, run_id, time, origin_id, origin_line, compile_id from events where position in (${marks.map(() => '?').join(', ')})`,
      ...marks,
    );
    for (const r of rows) {
      const position = r[0] as number;
      fillEvent(sql, dict, ev, position, r[1] as number, r[2] as number | null, r[3] as number | null, r[4] as number, r[5] as number | null);
      if (ev.kind !== 'dynamic.logged' || !ev.record) throw damaged(sql.path, `event at position ${position}`, new Error(`${ev.kind}: no record PyTorch logged`));
      const record: DynamicRecord = { name: ev.source, ...ev.record };
      out.set(position, {
        ...record,
        position,
        code: ev.code,
        run: ev.run,
        time: r[6] as number,
        compileId: r[9] as string | null,
        origin: r[7] === null ? null : dict.origin(r[7] as number),
        originLine: r[8] as number | null,
        guard: ev.guard,
        kind: ev.kind,
      });
    }
  }
  const missing = all.find((p) => !out.has(p));
  if (missing !== undefined) throw damaged(sql.path, `event at position ${missing}`, new Error('not in the log'));
  return out;
}
