import { createHash, type Hash } from 'node:crypto';
import { readFileSync, type Stats } from 'node:fs';
import { aboutInput, classify, inputError, inputName, isDatabaseFailure, LedgerError } from '../../errors.ts';
import type { Ledger, WatchCursor } from '../../store/ledger.ts';
import { ingestFile, type IngestKind } from '../ingest-file.ts';
import { gzipFailed, readInput, untrustedGzip } from '../read-lines.ts';
import { bytesBefore, fileInput, HEAD_BYTES, headIdentity, readRange, sameBytesBefore, sameHead } from './file-identity.ts';
import type { FollowContext, InputReport } from './follow-context.ts';
import { linesEnd } from './lines-end.ts';

/** What watch holds of a whole file (a profile pickle, a mega-cache, a remote value, observation lines). */
export interface FileState {
  input: string;
  size: number;
  mtimeMs: number;
  /** Observation lines: the bytes after the last complete line, left for a later pass (a line still being written). */
  pending: number;
  /** Observation lines: how far this watch read them, so a pass over a file that only grew reads its new lines alone. */
  read?: LinesRead;
}

/**
 * Observation lines read by this watch up to `offset`, just after a newline: what a pass reading
 * on from there needs to give the events, keys and cursor a pass over the whole file gives.
 * Kept in memory only: after a restart a file is read whole again (its lines in are duplicates).
 */
interface LinesRead {
  offset: number;
  /** The number of the line ending at offset (its newlines). */
  line: number;
  /** The file's tag (LineContext.tag), undefined while no line before offset made an event. */
  tag: number | undefined;
  /** sha256 of bytes [0, offset), fed on: the cursor's hash of the complete lines, without reading them again. */
  hash: Hash;
  /** headIdentity and bytesBefore(offset) when read: a file that no longer has them was cut or replaced, and is read whole. */
  head: string;
  before: string;
}

/**
 * Where lines read on from `read` (a new file: from 0) stand once `bytes`, the complete lines
 * after it, are read: the next pass goes on after their last newline (a last line without one, whole
 * JSON, is read again then, as a pass over the whole file would). The cursor's hash is of all of them.
 */
function readOn(path: string, read: LinesRead | undefined, bytes: Buffer, tag: number | undefined): { next: LinesRead | undefined; hash: string } {
  const from = read?.offset ?? 0;
  const h = read ? read.hash.copy() : createHash('sha256');
  const upTo = bytes.lastIndexOf(10) + 1;
  let line = read?.line ?? 0;
  for (let nl = bytes.indexOf(10); nl >= 0 && nl < upTo; nl = bytes.indexOf(10, nl + 1)) line++;
  h.update(bytes.subarray(0, upTo));
  const offset = from + upTo;
  const next = offset > 0 ? { offset, line, tag, hash: h.copy(), head: headIdentity(path, Math.min(offset, HEAD_BYTES)), before: bytesBefore(path, offset) } : undefined;
  return { next, hash: h.update(bytes.subarray(upTo)).digest('hex') };
}

/** What this watch read of a file that has only grown since: its head and the bytes before where it read to unchanged. */
function grownSince(prev: FileState | undefined, path: string, st: Stats, input: string): LinesRead | undefined {
  const r = prev?.read;
  if (!r || prev.input !== input || st.size < r.offset) return undefined;
  return sameHead(path, r.head) && sameBytesBefore(path, r.before) ? r : undefined;
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
export async function followFile(ledger: Ledger, prev: FileState | undefined, path: string, st: Stats, kind: IngestKind | undefined, ctx: FollowContext, waiting?: (key: string) => boolean): Promise<{ state: FileState; report: InputReport | null }> {
  const input = fileInput(st);
  const state: FileState = { input, size: st.size, mtimeMs: st.mtimeMs, pending: 0 };
  if (prev && prev.input === input && prev.size === st.size && prev.mtimeMs === st.mtimeMs) {
    sayPending(path, prev, ctx);
    return { state: prev, report: null };
  }
  const identity = statIdentity(st);
  const c = ledger.cursor(input);
  const lines = kind === 'observations';
  if (c && c.identity === identity) {
    if (lines && !c.complete) state.pending = Math.max(0, st.size - c.offset);
    sayPending(path, state, ctx);
    return { state, report: null };
  }
  const grown = lines ? grownSince(prev, path, st, input) : undefined;
  if (grown) {
    try {
      return await followGrown(ledger, grown, c, state, path, st, ctx);
    } catch (e) {
      if (classify(e) === 'bug' || isDatabaseFailure(e)) throw e;
      // a line that fails, or a file changed under the read: the pass over the whole file says it as today
    }
  }
  try {
    const end = lines ? linesEnd(path, 0, st.size, wholeLine) : st.size;
    state.pending = st.size - end;
    sayPending(path, state, ctx);
    // a first line still being written: nothing to read yet
    if (end === 0) return { state, report: null };
    // a gzip that cannot be read to its end (cut, bytes after it) is ingested as ingest takes it,
    // its whole lines before that, and known by its compressed bytes (trial s27b, s27c: watch
    // took nothing of it where ingest of the same folder kept them); one whose check fails gives nothing
    let bytes: Buffer;
    try {
      bytes = await readInput(path);
    } catch (e) {
      if (!gzipFailed.has(e as object) || untrustedGzip.has(e as object) || lines) throw e;
      bytes = readFileSync(path);
    }
    // the complete lines' hash: a line still being written changes nothing until it is whole
    const read = lines ? readOn(path, undefined, bytes.subarray(0, end), undefined) : undefined;
    const hash = read ? read.hash : createHash('sha256').update(bytes).digest('hex');
    const cursor: WatchCursor = { input, identity, offset: end, hash, complete: state.pending === 0, path, updatedAt: ctx.now() };
    if (c && c.hash === hash) {
      ledger.appendWith([], [cursor]);
      if (read?.next) state.read = { ...read.next, tag: await tagOf(path, ctx, read.next) };
      return { state, report: null };
    }
    // The cursor goes into the transaction of the file's one append.
    const appendPipelined = saidAsCommitted(ledger, path, ctx);
    const inTx: Ledger = kind === 'observations' ? { ...ledger, appendPipelined } : { ...ledger, appendPipelined, append: (events) => ledger.appendWith(events, [cursor]) };
    let s;
    try {
      s = await ingestFile(inTx, path, { kind, onNote: ctx.note, defaults: { words: ctx.words }, ...(lines ? { end } : {}), ...(waiting ? { waiting } : {}) });
    } finally {
      ctx.reading?.(null, 0);
    }
    if (s.waits !== undefined) {
      // read again next pass (no cursor: unchanged, it would be skipped); said once
      ctx.note(`${path}: waits for the records of profile ${s.waits} that a log still being written may hold (a compile's, until its compilation_metrics; a log watch has not read whole since it started, any profile's), as a one-shot ingest reads the logs first; read once they are in`);
      return { state: { ...state, size: -1 }, report: null };
    }
    if (kind === 'observations' || s.appended + s.duplicates === 0) ledger.appendWith([], [cursor]);
    if (read?.next) state.read = { ...read.next, tag: await tagOf(path, ctx, read.next) };
    return { state, report: fileReport(path, s) };
  } catch (e) {
    // pgo-ledger is wrong, or the ledger can take nothing (full, read-only): follow-folder stops watch
    if (classify(e) === 'bug' || isDatabaseFailure(e)) throw e;
    // A bad file is said once and left until it changes (a half-written one changes again)
    // or watch restarts (a remote value whose key file came after it); no cursor is written.
    // the kind once: the failure's own words name it where they can ("gzip: …", "pickle: …")
    const m = aboutInput(path, '', e).slice(inputName(path).length + 2);
    // a trace whose entries before an unreadable part went in (with the file's cursor) says so
    const partly = e instanceof LedgerError && e.partial !== undefined;
    ctx.fail(aboutInput(path, `${kind !== undefined && !m.startsWith(`${kind}: `) ? `${kind}: ` : ''}${partly ? 'partly ingested' : 'not ingested'}: `, e));
    // what went in counts in the pass, as ingest's folder counts it (trial s36b: --json said 0 appended, stderr 7 that stay)
    const p = partly ? (e as LedgerError).partial! : null;
    return { state, report: p ? { input: path, kind: kind ?? 'gzip', appended: p.appended, duplicates: p.duplicates, records: p.records } : null };
  }
}

/** A whole file's cursor identity: its size and mtime (unchanged, the file is not read again). */
const statIdentity = (st: Stats) => `stat:${st.size}:${st.mtimeMs}`;

/** What a pass that ingested the file says of it. */
function fileReport(path: string, s: Awaited<ReturnType<typeof ingestFile>>): InputReport {
  return { input: path, kind: s.kind, appended: s.appended, duplicates: s.duplicates, records: s.records, ...(s.leftOut ? { leftOut: s.leftOut } : {}) };
}

/** Observation lines commit batch by batch: each batch's events are said as it commits (FollowContext.reading). */
function saidAsCommitted(ledger: Ledger, path: string, ctx: FollowContext): Ledger['appendPipelined'] {
  let sofar = 0;
  return (events, done) =>
    ledger.appendPipelined(events, (r) => {
      ctx.reading?.(path, (sofar += r.appended));
      done(r);
    });
}

/** The file's tag (its first event's, as the pass over it keyed its lines), once a line before `read.offset` made one. */
async function tagOf(path: string, ctx: FollowContext, read: LinesRead): Promise<number | undefined> {
  if (read.tag !== undefined) return read.tag;
  const { inputTag } = await import('../observation-batches.ts');
  return inputTag(path, { words: ctx.words }, read.offset);
}

/**
 * A pass over observation lines that only grew since this watch read them to `read.offset`: the
 * complete lines after it alone, numbered and keyed as in the file, so the events, their keys and
 * the cursor are those a pass over the whole file gives (the lines before are in: it read them).
 * Reading the whole file again at each pass made a file a job appends to all day O(n^2).
 * Throws where the lines fail: the caller then reads the whole file, which says it as before.
 */
async function followGrown(ledger: Ledger, read: LinesRead, c: WatchCursor | undefined, state: FileState, path: string, st: Stats, ctx: FollowContext): Promise<{ state: FileState; report: InputReport | null }> {
  const end = linesEnd(path, read.offset, st.size, wholeLine);
  const bytes = readRange(path, read.offset, end);
  if (bytes.length !== end - read.offset) throw inputError(`${path}: cut while read`);
  const on = readOn(path, read, bytes, read.tag);
  state.pending = st.size - end;
  sayPending(path, state, ctx);
  const cursor: WatchCursor = { input: state.input, identity: statIdentity(st), offset: end, hash: on.hash, complete: state.pending === 0, path, updatedAt: ctx.now() };
  if (end === read.offset || (c && c.hash === on.hash)) {
    ledger.appendWith([], [cursor]);
    state.read = on.next && { ...on.next, tag: await tagOf(path, ctx, on.next) };
    return { state, report: null };
  }
  let s;
  try {
    s = await ingestFile({ ...ledger, appendPipelined: saidAsCommitted(ledger, path, ctx) }, path, { kind: 'observations', onNote: ctx.note, defaults: { words: ctx.words }, end, from: { offset: read.offset, line: read.line, tag: read.tag } });
  } finally {
    ctx.reading?.(null, 0);
  }
  ledger.appendWith([], [cursor]);
  state.read = on.next && { ...on.next, tag: await tagOf(path, ctx, on.next) };
  return { state, report: fileReport(path, s) };
}
