import { crc32, deflateRawSync, inflateRawSync, inflateSync } from 'node:zlib';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { checkpointFor } from './checkpoints.ts';
import type { Sql } from './database.ts';
import { countLog, decodeLogCounts, emptyLogCounts, encodeLogCounts, logCountsText, logCountsUntil, type LogCounts } from './log-counts.ts';
import { emptyStream, fold } from './fold.ts';
import { scanEvents, type Dictionaries } from './log.ts';
import type { Window } from './window.ts';
import { accCarriedRefs, accDimsText, accHead, accLastText, firstStepText, emptyWhyState, runListText, type RunList, eventDetails, KEEP_ALL, whyFold, whyStateFrom, whyStateText, whyStep, type Acc, type AccJson, type Keep, type WhyStart, type WhyState, type WhyStateJson } from './why-fold.ts';

/**
 * Why-checkpoints: `why`'s state (why-fold.ts) beside each checkpoint of the profile's fold
 * (checkpoints.ts), at the same position. `why`, and `diff` and `report` through it, read the
 * nearest one the window can use and fold only the tail. Derived data like the checkpoints:
 * written on append and by replay, checked by verify; deleting them changes no answer.
 */

/**
 * The stored form, version 5: version 4's, with each acc's `[code, source, saw, last]` moved
 * from the rest into its piece (a line between its first step and its dims: JSON holds no raw
 * newline), and the rest `[runLists, [carried, ...]]`, an acc's carried bodies in the state's
 * order. Those seldom change between checkpoints while the counts always do: a state written
 * again then deflates only its bodies' counts and runs anew (of a 1M-event replay's later
 * checkpoints, ~25 KB of text, not ~140 KB). It holds what version 4 holds: `why` starts from both.
 *
 * Version 4 (still read): version 3's, with each acc's line of dims text in a piece
 * preceded by a line of its first step (firstStepText: the source's first event and entry,
 * standing for every dim no later step changed; empty for none), and its dims text holding
 * only the dims a later step changed. A source's first checkpoint then writes one line for
 * it, not a text for each of its dims.
 *
 * A version-4 state also counts, among the values seen, a whole-field record's value where the
 * field was dynamic already (why-fold.ts recordDim). The older versions' states were folded
 * without it: still read (verify checks that they read, not what they hold, which may fall
 * short of the log's fold), but `why` never starts from one (whyCheckpointFor), so an older
 * ledger's answer stays right before `pgo-ledger replay` writes them anew.
 *
 * Version 3 (still read): a 0x03 byte and a uint32 count of pieces; the dims of every
 * CHUNK accs as a piece of its own (a uint32 length and raw deflate of a newline and each
 * acc's dims text, a line each: JSON text holds no raw newline, so the text is written and
 * read as it is, not as JSON strings within JSON); then the rest of every acc's row, in the
 * state's order: raw deflate of `[runLists, [[code, source, saw, last, carried], ...]]`,
 * where each carried body is `[body, count, runs]` and `runs` an index into `runLists` (the
 * run lists the bodies share) or, for a body with its own set, the list itself. The dims
 * seldom change between checkpoints while the counts always do, so a state written again
 * deflates anew only the pieces whose dims changed (kept per state in `pieces`).
 *
 * Still read: version 2 (a 0x02 byte; each piece `[dims, ...]` as JSON strings, the rest
 * `[[code, source, saw, last, carried], ...]` with each body's runs written out; a version-3
 * piece whose dims text holds a newline, which a damaged older row can give, is written so
 * too), and version 1 (the whole WhyStateJson text zlib-deflated: its first byte is zlib's 0x78).
 */
const V2 = 0x02;
const V3 = 0x03;
const V4 = 0x04;
const V5 = 0x05;
/**
 * Version 6 (session 25): version 5 and, last, a CRC-32 of the bytes before it. A piece is raw
 * deflate, which has no check of its own: a flipped byte inflated to text that failed only when
 * a dim was read, long after the state was taken (trial s25c: every `why`, `stats`, `report` and
 * ingest of the profile an internal error), or to a wrong value. A state whose CRC fails is
 * unreadable, as any other: `why` folds without it, `verify` names it.
 */
const V6 = 0x06;
/**
 * Version 7 (session 34): version 6's bytes, folded with a sighting that had no run kept among a
 * value's runs (NO_RUN, why-fold.ts whyCount). Version 6 and older states left it out, so a value
 * fed by run r2 and by a line with no run read as r2's alone: still read, but `why` starts from
 * none of them (foldedByThisRule), as from version 3's; replay writes them anew.
 */
const V7 = 0x07;
const CHUNK = 64;
interface Piece {
  accs: Acc[];
  /** Each acc's first step, head, last and dims text (what the piece's lines are made of). */
  parts: string[];
  bytes: Buffer;
}
const pieces = new WeakMap<WhyState, Piece[]>();

/** A piece's text: a newline and the dims texts a line each, or (one holds a newline) a JSON array of them. */
function pieceText(dims: string[]): string {
  for (const d of dims) if (d.includes('\n')) return JSON.stringify(dims);
  return `\n${dims.join('\n')}`;
}

function pieceDims(text: string): string[] {
  return text.charCodeAt(0) === 10 ? text.slice(1).split('\n') : (JSON.parse(text) as string[]);
}

export function encodeWhyState(st: WhyState, codeRow: (c: CodeId) => number, keepDims = false): Uint8Array {
  const accs = [...st.accs.values()];
  let kept = pieces.get(st);
  if (!kept) pieces.set(st, (kept = []));
  const out: Buffer[] = [Buffer.of(V7, 0, 0, 0, 0)];
  const rows: string[] = [];
  const lists = new Map<RunList, number>();
  const listRef = (r: RunList) => {
    let i = lists.get(r);
    if (i === undefined) lists.set(r, (i = lists.size));
    return i;
  };
  for (let i = 0, k = 0; i < accs.length; i += CHUNK, k++) {
    const chunk = accs.slice(i, i + CHUNK);
    // each acc's first step, [code, source, saw, last] and dims text (kept texts: mostly the same strings)
    const parts: string[] = [];
    for (const a of chunk) parts.push(firstStepText(a), accHead(a, codeRow), accLastText(a), accDimsText(a, keepDims));
    let p = kept[k];
    if (!p || p.accs.length !== chunk.length || chunk.some((a, j) => a !== p!.accs[j]) || parts.some((t, j) => t !== p!.parts[j])) {
      const lines: string[] = [];
      for (let j = 0; j < parts.length; j += 4) lines.push(parts[j], `${parts[j + 1]},${parts[j + 2]}]`, parts[j + 3]);
      kept[k] = p = { accs: chunk, parts, bytes: deflateRawSync(pieceText(lines), { level: 1 }) };
    }
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.bytes.length);
    out.push(len, p.bytes);
    for (const a of chunk) rows.push(accCarriedRefs(a, listRef));
  }
  kept.length = Math.ceil(accs.length / CHUNK);
  out[0].writeUInt32BE(kept.length, 1);
  let listsText = '';
  for (const r of lists.keys()) listsText += `${listsText ? ',' : ''}${runListText(r)}`;
  out.push(deflateRawSync(`[[${listsText}],[${rows.join(',')}]]`, { level: 1 }));
  const crc = Buffer.alloc(4);
  out.push(crc);
  const bytes = Buffer.concat(out);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, bytes.length - 4)), bytes.length - 4);
  return bytes;
}

/** Version 5's rows: each acc's `[code, source, saw, last]` (from its piece) and its carried bodies (from the rest). */
function withHeads(heads: unknown[], carried: RestRow[4][]): RestRow[] {
  if (heads.length !== carried.length) throw new Error(`a why-checkpoint holds ${heads.length} heads and ${carried.length} rows`);
  return heads.map((h, i) => {
    if (!Array.isArray(h) || h.length !== 4 || !Array.isArray(carried[i])) throw new Error('a why-checkpoint\'s head is not [code, source, saw, last] or its bodies no list');
    return [h[0], h[1], h[2], h[3], carried[i]] as RestRow;
  });
}

type RestRow = [AccJson[0], AccJson[1], AccJson[2], AccJson[4], [body: number, count: number, runs: number | string[]][]];

export function decodeWhyState(bytes: Uint8Array, dict: Dictionaries, keep: Keep): WhyState {
  let b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === V6 || b[0] === V7) {
    if (b.length < 9 || crc32(b.subarray(0, b.length - 4)) !== b.readUInt32BE(b.length - 4)) throw new Error("a why-checkpoint's bytes fail their CRC-32 (damaged)");
    // the rest is version 5's
    b = Buffer.concat([Buffer.of(V5), b.subarray(1, b.length - 4)]);
  }
  if (b[0] !== V2 && b[0] !== V3 && b[0] !== V4 && b[0] !== V5) return whyStateFrom(JSON.parse(inflateSync(b).toString()) as WhyStateJson, dict, keep);
  const k = b.readUInt32BE(1);
  const dims: string[] = [];
  // version 4: each acc's first step, the line before its dims; version 5: and its head between them
  const firsts: string[] | undefined = b[0] >= V4 ? [] : undefined;
  const heads: unknown[] | undefined = b[0] === V5 ? [] : undefined;
  let at = 5;
  for (let i = 0; i < k; i++) {
    const len = b.readUInt32BE(at);
    if (at + 4 + len > b.length) throw new Error('a why-checkpoint ends inside its pieces');
    const text = inflateRawSync(b.subarray(at + 4, (at += 4 + len))).toString();
    const lines = b[0] === V2 ? (JSON.parse(text) as string[]) : pieceDims(text);
    if (heads) {
      if (lines.length % 3 !== 0) throw new Error('a why-checkpoint\'s piece holds a source without its head or dims');
      for (let j = 0; j < lines.length; j += 3) firsts!.push(lines[j]), heads.push(JSON.parse(lines[j + 1])), dims.push(lines[j + 2]);
    } else if (firsts) {
      if (lines.length % 2 !== 0) throw new Error('a why-checkpoint\'s piece holds a first step without its dims');
      for (let j = 0; j < lines.length; j += 2) firsts.push(lines[j]), dims.push(lines[j + 1]);
    } else for (const d of lines) dims.push(d);
  }
  const rest = JSON.parse(inflateRawSync(b.subarray(at)).toString()) as unknown;
  let rows: RestRow[];
  let lists: string[][] = [];
  if (b[0] === V2) rows = rest as RestRow[];
  else {
    if (!Array.isArray(rest) || rest.length !== 2 || !Array.isArray(rest[0]) || !Array.isArray(rest[1])) throw new Error('a why-checkpoint\'s rows are not [runLists, rows]');
    [lists, rows] = rest as [string[][], RestRow[]];
  }
  // version 5: the rows made of each head and the acc's carried bodies
  if (heads) rows = withHeads(heads, rows as unknown as RestRow[4][]);
  if (rows.length !== dims.length) throw new Error(`a why-checkpoint holds ${rows.length} rows and ${dims.length} dims`);
  // (a body's runs: the index of a list in `lists`, or its own list written out)
  return whyStateFrom(
    rows.map((r, i) => [r[0], r[1], r[2], dims[i], r[3], r[4]]),
    dict,
    keep,
    firsts,
    lists,
  );
}

/**
 * `why`'s state at a position, and the report's counts of the log up to it (log-counts.ts).
 * `keepDims`: the state keeps its dims parsed (accDimsText).
 */
export function writeWhyCheckpoint(sql: Sql, profileId: number, position: number, st: WhyState, codeRow: (c: CodeId) => number, counts?: LogCounts, keepDims = false): void {
  writeWhyCheckpointState(sql, profileId, position, encodeWhyState(st, codeRow, keepDims), encodeLogCounts(counts ?? logCountsUntil(sql, profileId, position)));
}

/** A why-checkpoint whose state and counts are encoded already (encodeWhyState, encodeLogCounts). */
export function writeWhyCheckpointState(sql: Sql, profileId: number, position: number, state: Uint8Array, counts: Uint8Array): void {
  sql.run(
    'insert into why_checkpoints(profile_id, position, state, counts) values (?, ?, ?, ?) on conflict(profile_id, position) do update set state = excluded.state, counts = excluded.counts',
    profileId,
    position,
    state,
    counts,
  );
}

/** Whether a stored state was folded by this build's rule (version 7); older ones by one whose values seen may fall short. */
const foldedByThisRule = (state: Uint8Array): boolean => state[0] === V7;

/**
 * Where a window's `why` starts: the checkpoint the window rule picks for the window
 * (checkpointFor), when `why`'s state was kept there too; else null (from the beginning).
 */
export function whyCheckpointFor(sql: Sql, profileId: number, w: Window, dict: Dictionaries, keep: Keep): WhyStart | null {
  const cp = checkpointFor(sql, profileId, w, dict);
  if (!cp) return null;
  const row = sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', profileId, cp.position);
  // one of an older version was folded by an older rule (its values seen may fall short)
  if (!row || !foldedByThisRule(row.state)) return null;
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
  // A live state keeps its dims parsed (the same stored text): its next steps would read back
  // every dim of each acc they touch, checkpoint after checkpoint (90 of 450 profiled ms of 1M lines' checkpoints).
  writeWhyCheckpoint(sql, profileId, position, st, codeRow, counts, live !== undefined);
}

export function whyCheckpointPositions(sql: Sql, profileId: number): number[] {
  return sql.allRaw('select position from why_checkpoints where profile_id = ? order by position', profileId).map((r) => r[0] as number);
}

/** A state as text to compare, code ids by key (rows differ between equal states only by how they were read). */
const canonical = (st: WhyState) => whyStateText(st, codeKey, false);

/**
 * The report's counts stored beside the why-checkpoint at `pos` against `want`, the log's
 * counted afresh up to it (logCountsText): a difference in words, or null.
 */
export function whyCountsDiffer(sql: Sql, profileId: number, cacheKey: string, pos: number, want: string): string | null {
  const row = sql.get<{ counts: Uint8Array }>('select counts from why_checkpoints where profile_id = ? and position = ?', profileId, pos)!;
  let have: string;
  try {
    have = logCountsText(decodeLogCounts(row.counts));
  } catch (e) {
    have = `unreadable: ${(e as Error).message}`;
  }
  return have !== want ? `${cacheKey}: the log counts of the why-checkpoint at ${pos} differ from the log (delete it, or run pgo-ledger replay)` : null;
}

/**
 * The why-checkpoint at `pos` against `fresh`, `why`'s state folded afresh up to it: a difference
 * in words into `out`. Stored bytes equal to `fresh` encoded as append and replay write it
 * (codeRow: the rows `fresh`'s code ids were read from) read back as `fresh` (the encoding's
 * round trip, which `why` relies on), so only other bytes are read and compared as text
 * (canonical: ~70 ms a checkpoint of a 250k-event profile, most of verify's time before).
 */
export function checkWhyCheckpoint(sql: Sql, dict: Dictionaries, profileId: number, cacheKey: string, pos: number, fresh: WhyState, out: string[]): void {
  const row = sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', profileId, pos)!;
  if (foldedByThisRule(row.state) && Buffer.from(row.state.buffer, row.state.byteOffset, row.state.byteLength).equals(encodeWhyState(fresh, (c) => dict.codeRow(c) ?? -1, true))) return;
  let have: string;
  try {
    have = canonical(decodeWhyState(row.state, dict, KEEP_ALL));
  } catch (e) {
    out.push(`${cacheKey}: why-checkpoint at ${pos} is unreadable (${(e as Error).message}): delete it, or run pgo-ledger replay`);
    return;
  }
  // One of an older version was folded by the older rule, whose values seen fall short of the
  // log's where another run's rank change came first: no damage, and `why` never starts from
  // it (whyCheckpointFor), so only that it reads is checked (replay writes it anew).
  if (!foldedByThisRule(row.state)) return;
  if (have !== canonical(fresh)) out.push(`${cacheKey}: why-checkpoint at ${pos} differs from the log folded to it (delete it, or run pgo-ledger replay)`);
}

/**
 * Each why-checkpoint against `why`'s state folded afresh up to its position: one pass for a
 * profile with no retraction (every prefix folds alike), one fold per checkpoint otherwise.
 * (verify.ts checks a profile with no retraction in its own one pass, with this one's checks.)
 */
export function verifyWhyCheckpoints(sql: Sql, dict: Dictionaries, profileId: number, cacheKey: string): string[] {
  const positions = whyCheckpointPositions(sql, profileId);
  if (!positions.length) return [];
  const out: string[] = [];
  // the report's counts: the log counted afresh, checkpoint to checkpoint
  const fresh = emptyLogCounts();
  let after = 0;
  for (const pos of positions) {
    const d = whyCountsDiffer(sql, profileId, cacheKey, pos, logCountsText(countLog(sql, profileId, fresh, after, pos)));
    after = pos;
    if (d) out.push(d);
  }
  const compare = (pos: number, fresh: WhyState) => checkWhyCheckpoint(sql, dict, profileId, cacheKey, pos, fresh, out);
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
