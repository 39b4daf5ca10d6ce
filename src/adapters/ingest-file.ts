import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { aboutInput, classify, fullMessage, inputError, inputName, isDatabaseFailure, LedgerError } from '../errors.ts';
import type { Ledger } from '../store/ledger.ts';
import { LINE_KEYS, type LineDefaults } from './observation-lines.ts';
import type { LinesFromTag } from './observation-batches.ts';
import { inputHead, sizeOf } from './read-lines.ts';
import { ingestTraceFile, TraceBatch } from './ingest-trace.ts';
import { addLeftOut } from './left-out.ts';
import { counted } from '../counted.ts';
import { readingOrder } from './reading-order.ts';
import { glogStart } from '../codecs/trace/glog-start.ts';
import { filesUnder, notAFile } from './files-under.ts';
import { INPUTS_LISTED, listed } from '../store/known.ts';

export type IngestKind = 'observations' | 'pickle' | 'megacache' | 'remote-json' | 'trace';

export interface FileIngestOptions {
  kind?: IngestKind;
  defaults?: LineDefaults;
  /** A remote value's key (`pt2:dynamo-pgo::<cache key>:c1` or the cache key itself). */
  key?: string;
  skipInvalid?: boolean;
  onProgress?: (done: number, total?: number) => void;
  /**
   * What went in and stays before the input is whole: each batch of observation lines once
   * committed, and each file of a folder once taken (a signal's stop says them).
   */
  onCommitted?: (appended: number, duplicates: number) => void;
  onNote?: (message: string) => void;
  /** Observation lines in a plain file: its first `end` bytes only (watch: the lines complete so far). */
  end?: number;
  /** Observation lines in a plain file: from a line on, those before read already (watch: a file that only grew). */
  from?: LinesFromTag;
  /**
   * watch, a folder: whether a profile's events wait in a log still being written (a compile's
   * records, until its compilation_metrics). A profile snapshot of it then waits too: nothing
   * is appended, and the summary's `waits` names the profile.
   */
  waiting?: (key: string) => boolean;
  /** A trace's profiles whose events wait (TraceEvents.waiting) are added here (a folder: its files wait for them). */
  held?: Set<string>;
}

export interface FileIngestSummary {
  kind: IngestKind | 'folder';
  /** FileIngestOptions.waiting: the profile whose snapshot waits (nothing was appended). */
  waits?: string;
  appended: number;
  duplicates: number;
  skipped: number;
  records: number;
  /** Events of runs their profile retracted, by run: stored, left out of every answer (AppendResult.leftOut). */
  leftOut?: Record<string, number>;
  /** A folder: how many of its files were read, of which kinds. */
  kinds?: Partial<Record<IngestKind, number>>;
  /** A folder: files that hold no PGO data (lock files, other artifacts), left alone. */
  notPgo?: number;
  /** A folder: entries that are no regular file (a pipe, a socket, a device, a link that leads to none), never opened; each said by onNote. */
  notRegular?: number;
  /** A folder: files that failed (each its own transaction; the others went on). */
  failed?: { input: string; error: string; appended?: number; duplicates?: number }[];
}

/** Each kind's reader, loaded when a file of its kind comes (a command loads what it uses). */
const snapshots = () => import('./ingest-snapshot.ts');
const handlers: Record<Exclude<IngestKind, 'observations'>, (l: Ledger, file: string, o: FileIngestOptions) => Promise<Omit<FileIngestSummary, 'kind'>>> = {
  pickle: async (l, f, o) => (await snapshots()).ingestPickleFile(l, f, o),
  'remote-json': async (l, f, o) => (await snapshots()).ingestRemoteJsonFile(l, f, o),
  megacache: async (l, f, o) => (await snapshots()).ingestMegaCacheFile(l, f, o),
  trace: ingestTraceFile,
};

/**
 * An input's kind from its first bytes (after a UTF-8 BOM), or null when it is no PGO data
 * pgo-ledger reads. Protocol 0 and 1 pickles start with any of their opcodes' letters; those
 * that could also start a text line are checked up to their newline.
 */
export function kindOfHead(head: Uint8Array): IngestKind | null {
  let b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  if (b.length === 0) return null;
  const text = b.toString('latin1');
  if (/^[VIWEC]\d{4} \d\d:\d\d:\d\d/.test(text)) return 'trace';
  // A mega-cache starts with the CRC32 of the rest, any 4 bytes (one in 256 starts 0x80, as a
  // pickle does), then its version, 1 as a uint64: told first. No pickle has those 8 bytes
  // there (a protocol 4 or 5 frame's length is followed by an opcode, and 0x01 is none).
  if (b.length >= 12 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 1) return 'megacache';
  if (b[0] === 0x80 || /^(\(|\}|\]|\)|N\.|c[\w.]+\n|I-?\d+\n|I0[01]\n|F-?[\d.eE+-]+\n|P[^\n]*\n|g\d+\n|L-?\d+L?\n)/.test(text)) return 'pickle';
  if (/^\s*\{\s*"data"\s*:/.test(text)) return 'remote-json';
  // A JSON object whose first key is none of an observation line's is other JSON (a workload's
  // frames.json, a run's metrics), as a JSON array or a pretty-printed one is: no PGO data in a
  // folder, whether on one line or many, unless its first line holds a line's own fields (meantAsLine). (A file given by name is read as lines all the same,
  // and a bad one said line by line: detectKind.)
  const key = /^\s*\{\s*"((?:[^"\\\n]|\\.)*)"\s*:/.exec(text)?.[1];
  if (key !== undefined && !LINE_KEYS.has(key) && !meantAsLine(text)) return null;
  if (/^\s*\{/.test(text)) return 'observations';
  return null;
}

/**
 * A first line that holds the fields every observation line has (`code`, `source`, `kind`) is one
 * meant as such whatever key comes first: read as lines, so that a field the format does not have
 * is said (trial s34b: `{"host": ..., "job": ...}` lines were other JSON, skipped in a folder with no
 * word, and the job's data lost).
 */
function meantAsLine(text: string): boolean {
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  return /"code"\s*:\s*\{/.test(first) && /"source"\s*:/.test(first) && /"kind"\s*:/.test(first);
}

/** Control bytes other than tab, newline and carriage return, or bytes that are no UTF-8. */
function looksBinary(head: Uint8Array): boolean {
  if (head.some((b) => b < 9 || (b > 13 && b < 32) || b === 127)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return false;
  } catch {
    return true;
  }
}

/** Names that say a file holds JSON lines: in a folder, one whose head is no other kind is read as observation lines. */
const JSON_LINES_NAMES = /\.(jsonl|ndjson)(\.gz)?$/i;

/**
 * A folder's file's kind: from its head, as kindOfHead tells it; a file named as JSON lines
 * (`.jsonl`, `.ndjson`) whose head is neither another kind nor a JSON object of other keys
 * (another program's lines) is read as observation lines, so a damaged
 * first line (NUL bytes a crashed writer left, a line cut) fails, named, instead of passing as
 * no PGO data with every line after it (trial s29b: 1,001 good lines dropped, exit 0). ingest's
 * folders and watch's alike.
 */
export function folderFileKind(path: string, head: Uint8Array): IngestKind | null {
  const kind = kindOfHead(head);
  if (kind !== null || !JSON_LINES_NAMES.test(path)) return kind;
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1').replace(/^\xef\xbb\xbf/, '');
  // empty, or only whitespace: no lines, no data (as an empty .jsonl given alone)
  if (!/\S/.test(text)) return null;
  // an object of other keys is another program's lines (kindOfHead); an array, or no JSON, is damage (trial s29c: `[1, 2, 3]` then good lines)
  return /^\s*\{/.test(text) ? null : 'observations';
}

/** Tells a file's kind from its first bytes (a folder is read file by file; see ingestFile). */
export function detectKind(file: string): IngestKind {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const head = Buffer.alloc(64);
    return kindOfHead(head.subarray(0, readSync(fd, head, 0, 64, 0))) ?? 'observations';
  } finally {
    closeSync(fd);
  }
}

/** Names that say what an empty file was meant to be: no lines is no observations. */
const LINE_NAMES = /\.(jsonl|ndjson|json|txt)(\.gz)?$/i;

/**
 * One input: a file, a folder (read recursively, each file as its own kind and its own
 * transaction), or '-' for stdin (any kind, told from its first bytes); a .gz of any of them
 * is read through gunzip.
 */
export async function ingestFile(ledger: Ledger, file: string, o: FileIngestOptions = {}): Promise<FileIngestSummary> {
  // a JavaScript caller's kind is unchecked by the types (a TypeError from deep inside, read as a bug)
  if (o.kind !== undefined && o.kind !== 'observations' && !Object.hasOwn(handlers, o.kind)) {
    throw inputError(`kind ${JSON.stringify(o.kind)}: want observations, ${Object.keys(handlers).join(', ')} (or none: told from the first bytes)`);
  }
  // as the command line's --job '' is (trial s28b: the library took it, and the file name's job stood in)
  if (o.defaults?.job === '') throw inputError('defaults.job is empty: an empty job id names no job; give the job id (torch.compiler.config.job_id), or leave it out for the one the input names');
  if (o.defaults?.run === '') throw inputError('defaults.run is empty: an empty run names no run; give the run, or leave it out for none');
  // a JavaScript caller's defaults are unchecked by the types (trial s28c: a job of 5 was a TypeError from deep inside, a rank of -1 a profile x:-1:)
  const d = o.defaults ?? {};
  for (const k of ['job', 'tag', 'run', 'hashFiles'] as const) if (d[k] !== undefined && typeof d[k] !== 'string') throw inputError(`defaults.${k} ${JSON.stringify(d[k])}: want a string`);
  if (d.rank !== undefined && d.rank !== null && !(Number.isSafeInteger(d.rank) && d.rank >= 0)) throw inputError(`defaults.rank ${JSON.stringify(d.rank)}: want a whole number, 0 or more, or null for PyTorch's None`);
  if (file !== '-') {
    let st;
    try {
      st = statSync(file);
    } catch (e) {
      // a path there but not reachable (a folder above it closed to this user) is no missing one
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw inputError(`${file}: cannot reach it: ${(e as Error).message}`, e);
      throw new LedgerError(`${file}: no such file or folder`, { kind: 'input', cause: e, saysCause: true });
    }
    if (st.isDirectory()) return ingestFolder(ledger, file, o);
    // A file's kind is told from its head, then it is opened again: a pipe would lose that head
    // (ESPIPE), and one no process writes to would hold the ingest forever. stdin takes pipes.
    // A device is no input either (/dev/zero never ends, a terminal waits for keys).
    const not = notAFile(st);
    if (not) throw inputError(`${file}: ${not}${st.isFIFO() || st.isSocket() ? ': give a pipe as stdin (`… | pgo-ledger ingest -`)' : ''}`);
  }
  const { head, gzip, gzipError } = await inputHead(file);
  let kind = o.kind ?? kindOfHead(head);
  if (!kind) {
    if (gzipError) throw damagedGzip(file, gzipError);
    if (head.length === 0 && file !== '-' && !LINE_NAMES.test(file)) throw inputError(`${inputName(file)}: empty file (no PGO data)`);
    // Binary bytes are no lines: say so, rather than echo them back as "not JSON".
    // a gzip is told as one: what is none of these is its content (a gzip of zeros said "no gzip")
    if (looksBinary(head)) throw inputError(`${inputName(file)}: not PGO data: ${gzip ? 'a gzip whose content, gunzipped, is binary bytes that are no pickle, mega-cache or TORCH_TRACE log' : 'binary bytes that are no pickle, mega-cache, gzip or TORCH_TRACE log'}`);
    kind = 'observations'; // anything else is read as lines, so a bad one is named by line
  }
  return ingestAs(ledger, file, kind, o, gzip);
}

async function ingestAs(ledger: Ledger, file: string, kind: IngestKind, o: FileIngestOptions, gzip = false): Promise<FileIngestSummary> {
  if (kind === 'observations') {
    // A gzip's size is not what is read from it: no total, so no percentage of a wrong one.
    const total = gzip ? undefined : (o.end ?? sizeOf(file));
    const { ingestObservations } = await import('./ingest-observations.ts');
    const s = await ingestObservations(ledger, file, { defaults: o.defaults, skipInvalid: o.skipInvalid, onProgress: (b) => o.onProgress?.(b, total), onCommitted: o.onCommitted, onSkip: (m) => o.onNote?.(`skipped ${m}`), onNote: o.onNote, end: gzip ? undefined : o.end, from: gzip ? undefined : o.from });
    return { kind, appended: s.appended, duplicates: s.duplicates, skipped: s.skipped, records: s.records, ...(s.leftOut ? { leftOut: s.leftOut } : {}) };
  }
  return { kind, ...(await handlers[kind](ledger, file, o)) };
}

/** The kinds that are a profile's snapshot (a file PyTorch writes from what a log tells). */
const SNAPSHOT_KINDS: ReadonlySet<IngestKind> = new Set(['pickle', 'megacache', 'remote-json']);

/**
 * The order `ingest` reads its inputs in: the profile snapshot files among them (pickles,
 * mega-caches, remote values) after the others, each as given. PyTorch logs a run's records
 * before the file that holds their result, and a file read ahead of its run's log put the
 * file's entries ahead of PyTorch's records (`ingest eager-cold-run.bin cold-local.log` held
 * each record twice, and `why` credited the bundle: trial s32), as within a folder, whose own
 * files are in readingOrder's order. Logs, observation lines, folders, standard input and
 * what cannot be read keep their places.
 */
export async function inputReadingOrder(inputs: readonly string[], kind?: IngestKind): Promise<string[]> {
  if (inputs.length < 2 || (kind !== undefined && !SNAPSHOT_KINDS.has(kind))) return [...inputs];
  const snapshot = new Set<string>();
  for (const f of inputs) {
    if (f === '-' || snapshot.has(f)) continue;
    try {
      if (!statSync(f).isFile()) continue;
      if (SNAPSHOT_KINDS.has(kind ?? kindOfHead(await folderFileHead(f)) ?? 'observations')) snapshot.add(f);
    } catch {
      /* said as the input's failure when it is read */
    }
  }
  return [...inputs.filter((f) => !snapshot.has(f)), ...inputs.filter((f) => snapshot.has(f))];
}

/** The first bytes of a regular file, opened without blocking (it may have become a pipe since the walk). */
async function folderFileHead(file: string): Promise<Buffer> {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) return Buffer.alloc(0);
  } finally {
    closeSync(fd);
  }
  const { head, gzipError } = await inputHead(file);
  if (gzipError) throw damagedGzip(file, gzipError);
  return head;
}

/** The names PyTorch gives the files of a profile: a local snapshot, a TORCH_TRACE log. */
const SNAPSHOT_NAME = /(^|\/)code_state_[^/]*\.pkl(\.gz)?$/;
const TRACE_NAME = /(^|\/)dedicated_log_torch_trace_[^/]*\.log(\.gz)?$/;

/**
 * A file of a folder that is no PGO data but is named as PyTorch names a snapshot or a trace log
 * (given alone it fails): damage, said as a failure, not counted among other files (trial s36a:
 * an empty or random `code_state_*.pkl` was skipped with the folder's other files, unnamed). An
 * empty trace log is a process that logged nothing yet: no data, counted as before.
 */
function namedButNone(f: string, head: Uint8Array): void {
  const snapshot = SNAPSHOT_NAME.test(f);
  if (!snapshot && !(TRACE_NAME.test(f) && head.length > 0)) return;
  const named = `named as PyTorch names ${snapshot ? 'a profile snapshot (code_state_*.pkl)' : 'a TORCH_TRACE log (dedicated_log_torch_trace_*.log)'}`;
  if (head.length === 0) throw inputError(`${inputName(f)}: empty file (no PGO data), ${named}`);
  throw inputError(`${inputName(f)}: not PGO data, ${named}: its first bytes are ${snapshot ? 'no pickle' : 'no glog line'}`);
}

/** A gzip that inflates to nothing and fails whole is cut off or damaged, not empty. */
function damagedGzip(file: string, message: string) {
  return inputError(`${inputName(file)}: gzip: ${message} (cut off or damaged before its first inflated byte)`);
}

/**
 * A ledger that can take no more input met within a folder: the failure, then how many of the
 * folder's files were taken and which were not (the one it stopped on among them: a message
 * above says what of it was committed). Only the top-level inputs after the folder were named,
 * so the folder's own unread files could pass for ingested (trial 18).
 */
function stoppedIn(dir: string, files: readonly string[], settled: ReadonlySet<string>, e: unknown): LedgerError {
  const left = files.filter((f) => !settled.has(f));
  const named = listed(left, INPUTS_LISTED);
  return new LedgerError(`${fullMessage(e)}\n  ${dir}: ${files.length - left.length} of its ${files.length} files were taken before the ledger stopped; not read, or not whole: ${named}`, { kind: classify(e), cause: e });
}

/** Issue 9.14: each file of a folder as its own kind; files that are no PGO data are counted. */
async function ingestFolder(ledger: Ledger, dir: string, o: FileIngestOptions): Promise<FileIngestSummary> {
  const walk = filesUnder(dir);
  const sum: FileIngestSummary = { kind: 'folder', appended: 0, duplicates: 0, skipped: 0, records: 0, kinds: {}, notPgo: 0, notRegular: walk.skipped.length, failed: [] };
  for (const s of walk.skipped) o.onNote?.(`${s.path}: ${s.why}: skipped`);
  for (const c of walk.closed) {
    const error = `${c.path}: ${c.why}`;
    sum.failed!.push({ input: c.path, error });
    o.onNote?.(`${c.path}: failed: ${error}`);
  }
  const found = [...walk.files.keys()];
  // Each file's kind first (from its first bytes), so the logs can be read before the other
  // files (readingOrder says why); what a head says is acted on in that order.
  const heads = new Map<string, { kind: IngestKind | null; start?: string | null } | { error: unknown }>();
  for (const f of found) {
    try {
      const head = await folderFileHead(f);
      const kind = o.kind ?? folderFileKind(f, head);
      if (kind === null) namedButNone(f, head);
      heads.set(f, { kind, start: kind === 'trace' ? glogStart(head) : null });
    } catch (e) {
      if (classify(e) === 'bug') throw e;
      heads.set(f, { error: e });
    }
  }
  const files = readingOrder(found, (f) => (heads.get(f) as { kind?: unknown }).kind === 'trace', (f) => (heads.get(f) as { start?: string | null }).start ?? null);
  // the profiles a log of the folder holds a compile's events of (the log ends inside it):
  // their files wait, as watch's do, or they would go in ahead of the records (trial s26c)
  const held = new Set<string>();
  const waiting = (k: string) => held.has(k);
  const add = (kind: IngestKind, s: Omit<FileIngestSummary, 'kind'>) => {
    if (kind !== 'observations') o.onCommitted?.(s.appended, s.duplicates);
    sum.appended += s.appended;
    sum.duplicates += s.duplicates;
    sum.skipped += s.skipped;
    sum.records += s.records;
    addLeftOut(sum, s);
    sum.kinds![kind] = (sum.kinds![kind] ?? 0) + 1;
  };
  const took = (f: string, kind: IngestKind, s: Omit<FileIngestSummary, 'kind'>) => {
    settled.add(f);
    if (s.waits !== undefined) {
      o.onNote?.(`${inputName(f)}: waits for the records of profile ${s.waits} that a log of the folder holds back (it ends inside a compile): not taken, as it would go in ahead of them; ingest the folder again once the log is whole`);
      sum.skipped++;
    }
    add(kind, s);
  };
  // the files whose outcome is final (ingested, failed, or no PGO data): those a stop leaves out are the others
  const settled = new Set<string>();
  const failed = (f: string, kind: IngestKind, e: unknown) => {
    // a bug, or a ledger that can take no input (read-only, full, a server refusing or gone): stop here
    if (classify(e) === 'bug') throw e;
    if (isDatabaseFailure(e)) throw stoppedIn(dir, files, settled, e);
    settled.add(f);
    const message = fullMessage(e);
    // what went in of it counts in the folder's sums (trial s27b: 9 appended said of 32)
    const p = e instanceof LedgerError ? e.partial : undefined;
    if (p) {
      if (kind !== 'observations') o.onCommitted?.(p.appended, p.duplicates);
      sum.appended += p.appended;
      sum.duplicates += p.duplicates;
      sum.records = (sum.records ?? 0) + p.records;
    }
    sum.failed!.push({ input: f, error: message, ...(p ? { appended: p.appended, duplicates: p.duplicates } : {}) });
    // a reader that names its kind first (`pickle: truncated: …`) is not named twice (trial s28b)
    const said = message.startsWith(`${f}: `) ? message.slice(f.length + 2) : message;
    o.onNote?.(aboutInput(f, said.startsWith(`${kind}: `) ? 'failed: ' : `${kind}: failed: `, e));
  };
  // Traces go in a batch of files a transaction (see TraceBatch).
  const traces = TraceBatch.fits(ledger)
    ? new TraceBatch(ledger, (f, s) => {
        if ('failed' in s) return failed(f, 'trace', s.failed);
        took(f, 'trace', s);
      })
    : null;
  for (const f of files) {
    const head = heads.get(f)!;
    if ('error' in head) {
      settled.add(f);
      const message = fullMessage(head.error);
      sum.failed!.push({ input: f, error: message });
      // said like a failure of a known kind: the summary names the file, this line says why
      o.onNote?.(aboutInput(f, 'failed: ', head.error));
      continue;
    }
    const kind = head.kind;
    if (!kind) {
      settled.add(f);
      sum.notPgo!++;
      continue;
    }
    const fo: FileIngestOptions = { ...o, onProgress: undefined, held, waiting };
    if (traces && kind === 'trace') {
      try {
        await traces.add(f, fo);
      } catch (e) {
        failed(f, kind, e);
      }
      continue;
    }
    traces?.flush();
    try {
      took(f, kind, await ingestAs(ledger, f, kind, fo));
    } catch (e) {
      failed(f, kind, e);
    }
  }
  traces?.flush();
  if (Object.keys(sum.kinds!).length === 0 && sum.failed!.length === 0) {
    const special = walk.skipped.length ? ` (${counted(walk.skipped.length, 'not a regular file', 'not regular files')}, skipped)` : '';
    throw inputError(`${dir}: nothing to read: ${counted(files.length, 'file')}${special}, none a TORCH_TRACE log, profile pickle, mega-cache, remote value or observation lines`);
  }
  return sum;
}
