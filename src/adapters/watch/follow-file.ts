import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { aboutInput, classify, inputName, isDatabaseFailure } from '../../errors.ts';
import type { Ledger, WatchCursor } from '../../store/ledger.ts';
import { ingestFile, type IngestKind } from '../ingest-file.ts';
import { readInput } from '../read-lines.ts';
import { fileInput } from './file-identity.ts';
import type { FollowContext, InputReport } from './follow-context.ts';
import { linesEnd } from './lines-end.ts';

/** What watch holds of a whole file (a profile pickle, a mega-cache, a remote value, observation lines). */
export interface FileState {
  input: string;
  size: number;
  mtimeMs: number;
  /** Observation lines: the bytes after the last complete line, left for a later pass (a line still being written). */
  pending: number;
}

/**
 * An observation line without its newline at the end of the file is whole once it parses (a
 * recorder that ends its file without one); a cut JSON object never parses, its closing brace
 * being its last byte. Blanks alone are no line to wait for.
 */
function wholeLine(tail: Buffer): boolean {
  const text = tail.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A last line still pending is said where no later pass may take it: under --once, or once the
 * file has been left alone for settleMs (its writer may have stopped mid-line). Else it is only
 * counted as behind, as a log's partial line is. Said once (notes are).
 */
function sayPending(path: string, state: FileState, ctx: FollowContext): void {
  if (state.pending === 0 || !(ctx.once || state.mtimeMs <= ctx.now() - ctx.settleMs)) return;
  ctx.note(`${path}: pending: its last line (bytes ${state.size - state.pending}..${state.size}) has no newline and is no whole JSON yet, so it waits for the rest; the lines before it are read (not a failure: ingest of the file as it is now would fail on that line)`);
}

/**
 * One pass over a whole file, read as `ingest` reads it when it is new or changed: its
 * size and mtime unchanged skip it (no hashing); else its content hash against the cursor
 * decides. A profile pickle, mega-cache or remote value is one transaction, and its cursor
 * is written in it; observation lines go in batches, so their cursor follows the last batch
 * (read again after a stop in between, they are duplicates and add nothing). Observation
 * lines are read up to their last complete line, as a log is (linesEnd): a recorder's line
 * caught half-written waits for the next pass, and the lines before it go in (trial s23
 * problem 3: the whole file failed, none of its lines committed, exit 2 under --once).
 */
export async function followFile(ledger: Ledger, prev: FileState | undefined, path: string, st: Stats, kind: IngestKind | undefined, ctx: FollowContext): Promise<{ state: FileState; report: InputReport | null }> {
  const input = fileInput(st);
  const state: FileState = { input, size: st.size, mtimeMs: st.mtimeMs, pending: 0 };
  if (prev && prev.input === input && prev.size === st.size && prev.mtimeMs === st.mtimeMs) {
    sayPending(path, prev, ctx);
    return { state: prev, report: null };
  }
  const identity = `stat:${st.size}:${st.mtimeMs}`;
  const c = ledger.cursor(input);
  const lines = kind === 'observations';
  if (c && c.identity === identity) {
    if (lines && !c.complete) state.pending = Math.max(0, st.size - c.offset);
    sayPending(path, state, ctx);
    return { state, report: null };
  }
  try {
    const end = lines ? linesEnd(path, 0, st.size, wholeLine) : st.size;
    state.pending = st.size - end;
    sayPending(path, state, ctx);
    // a first line still being written: nothing to read yet
    if (end === 0) return { state, report: null };
    const bytes = await readInput(path);
    // the complete lines' hash: a line still being written changes nothing until it is whole
    const hash = createHash('sha256').update(lines ? bytes.subarray(0, end) : bytes).digest('hex');
    const cursor: WatchCursor = { input, identity, offset: end, hash, complete: state.pending === 0, path, updatedAt: ctx.now() };
    if (c && c.hash === hash) {
      ledger.appendWith([], [cursor]);
      return { state, report: null };
    }
    // The cursor goes into the transaction of the file's one append.
    // Observation lines commit batch by batch: each batch's events are said as it commits.
    let sofar = 0;
    const appendPipelined: Ledger['appendPipelined'] = (events, done) =>
      ledger.appendPipelined(events, (r) => {
        ctx.reading?.(path, (sofar += r.appended));
        done(r);
      });
    const inTx: Ledger = kind === 'observations' ? { ...ledger, appendPipelined } : { ...ledger, appendPipelined, append: (events) => ledger.appendWith(events, [cursor]) };
    let s;
    try {
      s = await ingestFile(inTx, path, { kind, onNote: ctx.note, defaults: { words: ctx.words }, ...(lines ? { end } : {}) });
    } finally {
      ctx.reading?.(null, 0);
    }
    if (kind === 'observations' || s.appended + s.duplicates === 0) ledger.appendWith([], [cursor]);
    return { state, report: { input: path, kind: s.kind, appended: s.appended, duplicates: s.duplicates, records: s.records, ...(s.leftOut ? { leftOut: s.leftOut } : {}) } };
  } catch (e) {
    // pgo-ledger is wrong, or the ledger can take nothing (full, read-only): follow-folder stops watch
    if (classify(e) === 'bug' || isDatabaseFailure(e)) throw e;
    // A bad file is said once and left until it changes (a half-written one changes again)
    // or watch restarts (a remote value whose key file came after it); no cursor is written.
    // the kind once: the failure's own words name it where they can ("gzip: …", "pickle: …")
    const m = aboutInput(path, '', e).slice(inputName(path).length + 2);
    ctx.fail(aboutInput(path, `${kind !== undefined && !m.startsWith(`${kind}: `) ? `${kind}: ` : ''}not ingested: `, e));
    return { state, report: null };
  }
}
