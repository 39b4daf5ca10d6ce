import type { Stats } from 'node:fs';
import type { Ledger } from '../../store/ledger.ts';
import { traceEvents, traceReader, type TraceReader } from '../ingest-trace.ts';
import { withoutLineKeyed } from '../trace-line-keys.ts';
import { asEarlierRun } from '../trace-same-process.ts';
import { fileInput, HEAD_BYTES, headIdentity, readRange, sameHead } from './file-identity.ts';
import { linesEnd } from './lines-end.ts';
import type { InputReport, FollowContext } from './follow-context.ts';

/** What watch holds of one TORCH_TRACE log between passes. */
export interface TraceState {
  path: string;
  input: string;
  /** headIdentity of the bytes read (at most the first 256): a file that no longer starts with them was replaced. */
  identity: string;
  /** Bytes read: up to the last newline seen; a partial last line waits for its newline. */
  offset: number;
  line: number;
  size: number;
  mtimeMs: number;
  /** The facts of lines [0, offset); null after a restart found the log complete (rebuilt if it grows). */
  reader: TraceReader | null;
  ended: boolean;
  /** Every event up to offset is in the log, the last entry's too. */
  complete: boolean;
  /** Idempotency keys this process appended (so a pass appends only what is new). */
  committed: Set<string>;
  said: Set<string>;
  /** The run and profile key the events so far went to. */
  run: string | null;
  /**
   * Profiles whose events in this log wait for a compile's compilation_metrics (a log still
   * being written): a profile file or remote value of theirs waits too (PyTorch writes it
   * before it logs the metrics; taken first, it, not PyTorch's record, turned the dim dynamic).
   */
  waiting: string[];
}

const CHUNK = 8 << 20;
/** A partial last line longer than this is no trace's: the log is read again rather than the tail. */
const PARTIAL_LINE_BYTES = 1 << 20;

/**
 * One pass over one log. A log's events depend on lines before them (the profile key, the run's
 * name, each compile's code from its compilation_metrics), so its facts are kept in memory and
 * fed the new complete lines; the events of the whole prefix are derived again and those not
 * appended yet go in, with the cursor, in one transaction. After a restart a log that grew is
 * read again from 0: what was appended before is a duplicate (idempotency keys) and adds
 * nothing. A log left alone for `settleMs` is final: its last entry is complete and its events
 * are those `ingest` gives.
 */
export async function followTrace(ledger: Ledger, prev: TraceState | undefined, path: string, st: Stats, ctx: FollowContext): Promise<{ state: TraceState; report: InputReport | null }> {
  const input = fileInput(st);
  const now = ctx.now();
  const quiet = st.mtimeMs <= now - ctx.settleMs;
  let s = prev;
  let said = false;
  if (s && (s.input !== input || st.size < s.offset || ((st.size !== s.size || st.mtimeMs !== s.mtimeMs) && !sameHead(path, s.identity)))) {
    ctx.note(`${path}: truncated or replaced; read again from the start as a new file`);
    s = undefined;
    said = true;
  }
  if (s && st.size === s.size && st.mtimeMs === s.mtimeMs && (s.complete || !quiet)) return { state: s, report: null };
  if (!s) {
    s = { path, input, identity: 'head:0:', offset: 0, line: 0, size: st.size, mtimeMs: st.mtimeMs, reader: null, ended: false, complete: false, committed: new Set(), said: new Set(), run: null, waiting: [] };
    const c = ledger.cursor(input);
    if (c && c.complete && c.offset === st.size && sameHead(path, c.identity)) {
      // Read to its end and complete before the restart: nothing to do until it grows.
      s.offset = c.offset;
      s.identity = c.identity;
      s.complete = true;
      return { state: s, report: null };
    }
    if (c && !c.complete && !quiet && noLineAfter(path, c.offset, st.size) && sameHead(path, c.identity)) {
      // Read to its end before the restart, not final yet and not grown by a line since (a partial
      // last line is read only once its newline comes): its settled events are in. It is read
      // again from 0 (its facts) only once it grows or settles.
      s.offset = c.offset;
      s.identity = c.identity;
      return { state: s, report: null };
    }
    if (!said && c && c.offset > 0 && (st.size < c.offset || !sameHead(path, c.identity))) ctx.note(`${path}: truncated or replaced since the last run; read again from the start as a new file`);
  }
  s.size = st.size;
  s.mtimeMs = st.mtimeMs;
  if (!s.reader || (s.ended && st.size > s.offset)) {
    // The facts are gone (a restart) or the log was ended: read it again from the start.
    s.reader = traceReader();
    s.offset = 0;
    s.line = 0;
    s.ended = false;
  }
  const from = s.offset;
  readNewLines(s, linesEnd(path, s.offset, st.size));
  // a quiet log is final; a partial last line in it stays unread until its newline comes
  const final = quiet;
  if (final) {
    s.reader.end();
    s.ended = true;
  }
  const t = traceEvents(s.reader, path, { onNote: undefined, defaults: { words: ctx.words } }, !final);
  s.waiting = t.waiting ?? [];
  const fresh = t.settled ? t.events.filter((e) => !s.committed.has(e.idempotencyKey!)) : [];
  // a process the ledger holds under another run (an `ingest --run` before the watch): its run (trial s36b)
  const events = withoutLineKeyed(ledger, asEarlierRun(ledger, fresh, path, undefined, (n) => void (s.said.has(n) || (s.said.add(n), ctx.note(n)))));
  if (t.settled) {
    // Only when compiles start out of order (threads) can a later line rename a run: said, never
    // hidden. Another process's lines that came (a log of several) rename none.
    const runs = (t.parts ?? [t]).map((p) => `${p.cacheKey} ${p.run}`);
    const renamed = s.run === null ? [] : s.run.split('\n').filter((r) => !runs.includes(r));
    if (renamed.length) ctx.note(`${path}: the log's run became ${t.run} (profile ${t.cacheKey}) as it grew; events appended before under ${renamed.join(', ')} stay (pgo-ledger retract --run removes a run)`);
    // the run events went in under (trial s26c: a read that appended nothing named a run, then said its events "stay")
    if (fresh.length || s.committed.size) s.run = runs.join('\n');
  }
  // said once final; `--once` makes no later pass, so it says them of a log still written to
  if (final || ctx.once) for (const n of t.settled ? t.notes : [t.why]) if (!s.said.has(n)) (s.said.add(n), ctx.note(n));
  if (!fresh.length && s.offset === from && s.complete === final) return { state: s, report: null };
  s.identity = headIdentity(path, Math.min(s.offset, HEAD_BYTES));
  const cursor = { input, identity: s.identity, offset: s.offset, hash: null, complete: final, path, updatedAt: now };
  const r = ledger.appendWith(events, [cursor]);
  for (const e of fresh) s.committed.add(e.idempotencyKey!);
  s.complete = final;
  if (final) {
    // a finished log costs no memory: should it grow again, it is read again from 0
    s.reader = null;
    s.committed = new Set();
  }
  return { state: s, report: { input: path, kind: 'trace', from, to: s.offset, appended: r.appended, duplicates: r.duplicates + fresh.length - events.length, records: r.records, ...((final || ctx.once) && t.settled && t.skipped ? { skipped: t.skipped } : {}), ...(r.leftOut ? { leftOut: r.leftOut } : {}), behindBytes: st.size - s.offset } };
}

/** Feeds the reader the lines in [offset, end): end is after a newline (linesEnd). */
function readNewLines(s: TraceState, size: number): void {
  let pos = s.offset;
  let carry: Buffer | null = null;
  while (pos < size) {
    const chunk = readRange(s.path, pos, Math.min(size, pos + CHUNK));
    if (chunk.length === 0) break;
    pos += chunk.length;
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      carry = buf;
      continue;
    }
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0 && nl <= last; nl = buf.indexOf(10, start)) {
      let end = nl;
      if (end > start && buf[end - 1] === 13) end--;
      let from = start;
      // a UTF-8 BOM at the start of the file is dropped, as ingest drops it
      if (s.line === 0 && end - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3;
      s.line++;
      s.reader!.push(buf.toString('utf8', from, end), s.line);
      start = nl + 1;
    }
    s.offset += start;
    carry = start < buf.length ? buf.subarray(start) : null;
  }
}

/** Whether bytes [offset, size) of a log hold no newline: no line completed since a cursor. */
function noLineAfter(path: string, offset: number, size: number): boolean {
  if (size < offset || size - offset > PARTIAL_LINE_BYTES) return false;
  return linesEnd(path, offset, size) === offset;
}
