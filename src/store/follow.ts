import type { Sql } from './database.ts';
import { damaged } from './damage.ts';
import type { FollowCursor } from './dialect/dialect.ts';
import { EventPayloadError } from './events.ts';
import type { FoldInput } from './fold.ts';
import type { Ledger } from './ledger.ts';
import { dictionaries, type Dictionaries } from './log.ts';

export type { FollowCursor };

/** Before the first event. */
export const START: FollowCursor = { transaction: '0', position: 0 };

/** One followed event: what the fold takes, and where and when it is. */
export interface FollowedEvent extends FoldInput {
  position: number;
  profileId: number;
  time: number;
  run: string | null;
  /** entry.imported: the snapshot's format. */
  format: string | null;
}

export interface FollowBatch {
  /** In commit order. */
  events: FollowedEvent[];
  /** Where the next call starts (the cursor given, when nothing was read). */
  cursor: FollowCursor;
}

const dicts = new WeakMap<Sql, Dictionaries>();

/**
 * Follows the log (issue 11.3): up to `limit` events after `cursor`, in commit order, and the
 * cursor to go on from. Every event comes exactly once however writers interleave: the read
 * rule is the dialect's (position order on SQLite, whose writers commit one at a time; on
 * PostgreSQL only transactions no running one can precede, by transaction then position).
 * The events of one profile come in position order as long as one writer feeds the profile
 * (each a rank of its own); writers of one profile commit in the order of its lock.
 */
export function readAfter(ledger: Ledger, cursor: FollowCursor = START, limit = 5000): FollowBatch {
  const { sql } = ledger;
  let dict = dicts.get(sql);
  if (!dict) dicts.set(sql, (dict = dictionaries(sql)));
  const rows = sql.dialect.readAfter(sql, 'profile_id, code_id, source_id, body_id, run_id, time', cursor, limit);
  const events: FollowedEvent[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [, position, profileId, codeId, sourceId, bodyId, runId, time] = rows[i] as [string, number, number, number | null, number | null, number, number | null, number];
    try {
      const b = dict.body(bodyId);
      if (b.kind !== 'run.retracted' && (codeId === null || sourceId === null)) throw new EventPayloadError(`${b.kind}: no code id or source`);
      events[i] = {
        position,
        profileId,
        kind: b.kind,
        code: codeId === null ? { filename: '', firstlineno: 0, name: '', file_hash: '' } : dict.code(codeId),
        source: sourceId === null ? '' : dict.source(sourceId),
        shape: b.shape,
        automaticDynamic: b.automaticDynamic,
        entry: b.entry,
        quiet: b.quiet,
        record: b.record,
        guard: b.guard,
        format: b.format,
        time,
        run: runId === null ? null : dict.run(runId),
      };
    } catch (e) {
      throw damaged(sql.path, `event at position ${position} cannot be read`, e);
    }
  }
  const last = rows[rows.length - 1];
  return { events, cursor: last ? { transaction: String(last[0]), position: last[1] as number } : cursor };
}
