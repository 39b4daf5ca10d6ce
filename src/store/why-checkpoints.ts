import { deflateSync, inflateSync } from 'node:zlib';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { checkpointFor } from './checkpoints.ts';
import type { Sql } from './database.ts';
import { countLog, decodeLogCounts, emptyLogCounts, encodeLogCounts, logCountsText, logCountsUntil, type LogCounts } from './log-counts.ts';
import { emptyStream, fold } from './fold.ts';
import { scanEvents, type Dictionaries } from './log.ts';
import type { Window } from './window.ts';
import { emptyWhyState, eventDetails, KEEP_ALL, whyFold, whyStateFrom, whyStateText, whyStep, type Keep, type WhyStart, type WhyState, type WhyStateJson } from './why-fold.ts';

/**
 * Why-checkpoints: `why`'s state (why-fold.ts) beside each checkpoint of the profile's fold
 * (checkpoints.ts), at the same position. `why`, and `diff` and `report` through it, read the
 * nearest one the window can use and fold only the tail. Derived data like the checkpoints:
 * written on append and by replay, checked by verify; deleting them changes no answer.
 */

// zlib's own deflate (node:zlib), at a light level: written every few thousand events, read by every `why`.
export function encodeWhyState(st: WhyState, codeRow: (c: CodeId) => number): Uint8Array {
  return deflateSync(whyStateText(st, codeRow), { level: 1 });
}

export function decodeWhyState(bytes: Uint8Array, dict: Dictionaries, keep: Keep): WhyState {
  return whyStateFrom(JSON.parse(inflateSync(bytes).toString()) as WhyStateJson, dict, keep);
}

/** `why`'s state at a position, and the report's counts of the log up to it (log-counts.ts). */
export function writeWhyCheckpoint(sql: Sql, profileId: number, position: number, st: WhyState, codeRow: (c: CodeId) => number, counts?: LogCounts): void {
  sql.run(
    'insert into why_checkpoints(profile_id, position, state, counts) values (?, ?, ?, ?) on conflict(profile_id, position) do update set state = excluded.state, counts = excluded.counts',
    profileId,
    position,
    encodeWhyState(st, codeRow),
    encodeLogCounts(counts ?? logCountsUntil(sql, profileId, position)),
  );
}

/**
 * Where a window's `why` starts: the checkpoint the window rule picks for the window
 * (checkpointFor), when `why`'s state was kept there too; else null (from the beginning).
 */
export function whyCheckpointFor(sql: Sql, profileId: number, w: Window, dict: Dictionaries, keep: Keep): WhyStart | null {
  const cp = checkpointFor(sql, profileId, w, dict);
  if (!cp) return null;
  const row = sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', profileId, cp.position);
  if (!row) return null;
  let state: WhyState;
  try {
    state = decodeWhyState(row.state, dict, keep);
  } catch {
    // Derived data: an unreadable one costs time, not the answer (verify names it).
    return null;
  }
  return {
    position: cp.position,
    get view() {
      return cp.view;
    },
    state,
  };
}

/**
 * After an append wrote a checkpoint at `position`: `why`'s state there, written. The append
 * path keeps it up to date from then on (`live`, folded with each event); the first time, it is
 * the previous why-checkpoint plus the events since (the log up to `position` is the window:
 * the batch held no retraction of the profile, or no checkpoint would have been written).
 */
export function whyCheckpointAt(sql: Sql, dict: Dictionaries, profileId: number, position: number, codeRow: (c: CodeId) => number, live: { why?: WhyState; counts?: LogCounts } | undefined): void {
  let st = live?.why;
  if (!st) {
    st = whyFold(sql, dict, profileId, { untilPosition: position }, KEEP_ALL, whyCheckpointFor(sql, profileId, { untilPosition: position - 1 }, dict, KEEP_ALL));
    if (live) live.why = st;
  }
  // the report's counts likewise: from the log once, then counted along with each event
  let counts = live?.counts;
  if (!counts) {
    counts = logCountsUntil(sql, profileId, position);
    if (live) live.counts = counts;
  }
  writeWhyCheckpoint(sql, profileId, position, st, codeRow, counts);
}

export function whyCheckpointPositions(sql: Sql, profileId: number): number[] {
  return sql.allRaw('select position from why_checkpoints where profile_id = ? order by position', profileId).map((r) => r[0] as number);
}

/** A state as text to compare, code ids by key (rows differ between equal states only by how they were read). */
const canonical = (st: WhyState) => whyStateText(st, codeKey, false);

/**
 * Each why-checkpoint against `why`'s state folded afresh up to its position: one pass for a
 * profile with no retraction (every prefix folds alike), one fold per checkpoint otherwise.
 */
export function verifyWhyCheckpoints(sql: Sql, dict: Dictionaries, profileId: number, cacheKey: string): string[] {
  const positions = whyCheckpointPositions(sql, profileId);
  if (!positions.length) return [];
  const out: string[] = [];
  // the report's counts: the log counted afresh, checkpoint to checkpoint
  const fresh = emptyLogCounts();
  let after = 0;
  for (const pos of positions) {
    const want = logCountsText(countLog(sql, profileId, fresh, after, pos));
    after = pos;
    const row = sql.get<{ counts: Uint8Array }>('select counts from why_checkpoints where profile_id = ? and position = ?', profileId, pos)!;
    let have: string;
    try {
      have = logCountsText(decodeLogCounts(row.counts));
    } catch (e) {
      have = `unreadable: ${(e as Error).message}`;
    }
    if (have !== want) out.push(`${cacheKey}: the log counts of the why-checkpoint at ${pos} differ from the log (delete it, or run pgo-ledger replay)`);
  }
  const compare = (pos: number, fresh: WhyState) => {
    const row = sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', profileId, pos)!;
    let have: string;
    try {
      have = canonical(decodeWhyState(row.state, dict, KEEP_ALL));
    } catch (e) {
      out.push(`${cacheKey}: why-checkpoint at ${pos} is unreadable (${(e as Error).message}): delete it, or run pgo-ledger replay`);
      return;
    }
    if (have !== canonical(fresh)) out.push(`${cacheKey}: why-checkpoint at ${pos} differs from the log folded to it (delete it, or run pgo-ledger replay)`);
  };
  const retracted = sql.get("select 1 from events where profile_id = ? and kind = 'run.retracted' limit 1", profileId);
  if (retracted) {
    for (const pos of positions) compare(pos, whyFold(sql, dict, profileId, { untilPosition: pos }, KEEP_ALL, null));
    return out;
  }
  const view = emptyStream();
  const st = emptyWhyState();
  const details = eventDetails(sql, dict);
  let next = 0;
  scanEvents(
    sql,
    { profileId, untilPosition: positions[positions.length - 1] },
    (ev) => {
      const step = fold(view, ev);
      if (step) whyStep(st, step, ev, KEEP_ALL, details);
      if (ev.position === positions[next]) compare(positions[next++], st);
    },
    dict,
  );
  for (; next < positions.length; next++) out.push(`${cacheKey}: why-checkpoint at ${positions[next]} names no event of the profile`);
  return out;
}
