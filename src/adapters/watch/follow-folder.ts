import { statSync, type Stats } from 'node:fs';
import { aboutInput, classify, isDatabaseFailure, namingLedger } from '../../errors.ts';
import type { Ledger } from '../../store/ledger.ts';
import { folderFileKind, type IngestKind } from '../ingest-file.ts';
import { inputHead } from '../read-lines.ts';
import { glogStart } from '../../codecs/trace/glog-start.ts';
import { readingOrder } from '../reading-order.ts';
import { filesUnder, newFolderWalk, notAFile } from '../files-under.ts';
import type { FollowContext, InputReport } from './follow-context.ts';
import { fileInput } from './file-identity.ts';
import { followFile, type FileState } from './follow-file.ts';
import { followTrace, type TraceState } from './follow-trace.ts';

/** What watch holds of the files under its paths, by path. */
export interface FolderState {
  files: Map<string, { kind: 'trace'; trace: TraceState } | { kind: Exclude<IngestKind, 'trace'> | 'gzip'; file: FileState | undefined; /** a gzipped TORCH_TRACE log: read whole, but as a log in readingOrder */ log?: true } | { kind: 'not-pgo'; size: number; ino: number }>;
  missing: Set<string>;
  /** When each log began (glog-start.ts), from its head: the logs are read in that order, as ingest reads a folder's. */
  starts?: Map<string, string>;
}

/** Another writer held the ledger past the busy timeout: tried again next pass. */
function busy(e: unknown): boolean {
  for (let cur = e, i = 0; cur instanceof Error && i < 8; cur = cur.cause, i++) if ((cur as NodeJS.ErrnoException).code === 'SQLITE_BUSY') return true;
  return false;
}

/**
 * Files no longer under the paths are forgotten. A log gone before it was final (deleted, or
 * moved out of the watched paths) is said: what it had settled is in, but its last entry and
 * records still waiting for their compile's compilation_metrics never will be (one moved
 * within the paths, the same inode under another name, is read there).
 */
function forgetGone(state: FolderState, seen: Map<string, Stats>, ctx: FollowContext): void {
  let moved: Set<string> | null = null;
  for (const [path, known] of state.files) {
    if (seen.has(path)) continue;
    state.files.delete(path);
    if (known.kind !== 'trace' || !known.trace || known.trace.complete) continue;
    moved ??= new Set([...seen.values()].map(fileInput));
    if (moved.has(known.trace.input)) continue;
    ctx.note(`${path}: gone before it was final (deleted or moved away), read to byte ${known.trace.offset} (line ${known.trace.line}): the events it had settled are in; its last entry and any record still waiting for its compile's compilation_metrics are not (ingest the file where it went to take them)`);
  }
}

export const newFolderState = (): FolderState => ({ files: new Map(), missing: new Set() });

/**
 * One pass over the watched paths: stat every file (no reads for one unchanged since the
 * last pass), follow logs from their cursors and read other PGO files whole when new or
 * changed. Each input is its own transaction; a bad one is said and the others go on.
 * `stop()` true ends the pass between two inputs (a signal: finish the batch, then exit).
 */
export async function followPaths(ledger: Ledger, state: FolderState, paths: string[], ctx: FollowContext, stop: () => boolean, onInput: (r: InputReport) => void): Promise<{ inputs: number; behindBytes: number; oldestUnreadMs: number | null; waiting: (key: string) => boolean }> {
  // one walk for all the paths: a file under two of them (or linked from one) is read once
  const walk = newFolderWalk();
  const seen = walk.files;
  // each path's files, in the order they are read when their kinds are known
  const under: string[][] = [];
  for (const p of paths) {
    const before = seen.size;
    let top: Stats;
    try {
      top = statSync(p);
    } catch (e) {
      if (state.missing.has(p)) continue;
      const code = (e as NodeJS.ErrnoException).code;
      // not there yet is what a watch waits for; a path it may not reach (EACCES above it) is a failure to say, not a wait
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        state.missing.add(p);
        // One pass waits for nothing: a path not there fails it, as ingest fails (a mistyped
        // path in a cron job passed, exit 0, every time: trial s23); a running watch waits.
        if (ctx.once) ctx.fail(`${p}: no such file or folder: --once makes one pass and waits for none (a folder a job makes later: make it first, or watch without --once)`);
        else ctx.note(`${p}: not there (yet); watched for`);
      } else ctx.fail(`${p}: cannot be reached: ${(e as Error).message}; tried again each pass`);
      continue;
    }
    // a pipe or a device given by name is refused in ingest's words (never opened: a pipe blocks)
    const not = notAFile(top);
    if (not) ctx.fail(`${p}: ${not}`);
    else filesUnder(p, walk);
    under.push([...seen.keys()].slice(before));
  }
  // said (once: notes are), as ingest says them, rather than a folder silently never read
  for (const c of walk.closed) ctx.fail(`${c.path}: ${c.why}; tried again each pass`);
  for (const k of walk.skipped) ctx.note(`${k.path}: ${k.why}: skipped`);
  forgetGone(state, seen, ctx);
  let behindBytes = 0;
  let oldestUnreadMs: number | null = null;
  const failed = (path: string, e: unknown) => {
    // pgo-ledger is wrong, or the ledger cannot take any input (read-only, full, damaged): stop, as ingest does
    if (classify(e) === 'bug') throw e;
    if (isDatabaseFailure(e) && !busy(e)) throw namingLedger(ledger.path, e);
    ctx.fail(aboutInput(path, '', e));
  };
  // each file's kind, told from its head when new (or grown from nothing PGO)
  for (const [path, st] of seen) {
    const known = state.files.get(path);
    if (known && !(known.kind === 'not-pgo' && (known.size !== st.size || known.ino !== st.ino))) continue;
    try {
      const { head, gzip } = await inputHead(path);
      const kind = folderFileKind(path, head);
      const start = kind === 'trace' ? glogStart(head) : null;
      if (start !== null) (state.starts ??= new Map()).set(path, start);
      // an empty file may be a log about to be written: asked again when it grows
      if (!kind) state.files.set(path, { kind: 'not-pgo', size: st.size, ino: st.ino });
      else if (kind === 'trace' && !gzip) state.files.set(path, { kind: 'trace', trace: undefined as unknown as TraceState });
      else state.files.set(path, { kind: gzip ? 'gzip' : (kind as Exclude<IngestKind, 'trace'>), file: undefined, ...(gzip && kind === 'trace' ? { log: true as const } : {}) });
    } catch (e) {
      failed(path, e);
    }
  }
  // The logs before the other files, as ingest reads a folder (readingOrder says
  // why: a file read before its log's last entries made history and why credit the file, not
  // PyTorch's record; watch.e2e's kill test met it under load).
  // the profiles whose events a log still being written holds back (TraceState.waiting); a log
  // a restart found unfinished, not read again until it grows or settles, may hold any
  // profile's (trial s26c: after kill -9 a waiting value went in ahead of the log's records)
  const waiting = (key: string) => {
    for (const f of state.files.values()) {
      if (f.kind !== 'trace' || !f.trace) continue;
      if (f.trace.waiting.includes(key) || (f.trace.reader === null && !f.trace.complete)) return true;
    }
    return false;
  };
  const isLog = (path: string) => {
    const known = state.files.get(path);
    return known?.kind === 'trace' || (known?.kind === 'gzip' && known.log === true);
  };
  for (const path of under.flatMap((files) => readingOrder(files, isLog, (p) => state.starts?.get(p) ?? null))) {
    if (stop()) break;
    const st = seen.get(path)!;
    const known = state.files.get(path);
    if (!known || known.kind === 'not-pgo') continue;
    try {
      if (known.kind === 'trace') {
        const r = await followTrace(ledger, known.trace, path, st, ctx);
        known.trace = r.state;
        if (r.report) onInput(r.report);
        const behind = st.size - r.state.offset;
        if (behind > 0) {
          behindBytes += behind;
          oldestUnreadMs = Math.min(oldestUnreadMs ?? Infinity, st.mtimeMs);
        }
      } else {
        const r = await followFile(ledger, known.file, path, st, known.kind === 'gzip' ? undefined : known.kind, ctx, waiting);
        known.file = r.state;
        if (r.report) onInput(r.report);
        // observation lines: a last line still being written, as a log's
        if (r.state.pending > 0) {
          behindBytes += r.state.pending;
          oldestUnreadMs = Math.min(oldestUnreadMs ?? Infinity, st.mtimeMs);
        }
      }
    } catch (e) {
      failed(path, e);
    }
  }
  return { inputs: seen.size, behindBytes, oldestUnreadMs, waiting };
}
