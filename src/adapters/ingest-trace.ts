import { classify, fullMessage, inputError, inputName, LedgerError } from '../errors.ts';
import { counted } from '../counted.ts';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { entryToJson, type EntryJson } from '../codecs/entry-json.ts';
import { parseRenderText } from '../codecs/render-text.ts';
import { attemptId, compileOfAttempt, traceAssembler, type EntryReads, type TraceProblem } from '../codecs/trace/envelope.ts';
import { FACT_READS, newStats, parseEntry, type DescribedCompile, type DescribedTensor, type TraceFact } from '../codecs/trace/facts.ts';
import { cacheKey } from '../model/cache-key.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { isEventTime } from '../model/event-time.ts';
import type { Profile } from '../model/profile.ts';
import { hash53After, hash53Prefix, type Hash53Prefix } from '../store/hash53.ts';
import { prepareEvent, type AppendResult, type Ledger, type NewEvent, type PreparedEvent } from '../store/ledger.ts';
import type { EventBody } from '../store/events.ts';
import { hashOfCodeFile } from './hash-files.ts';
import { badIdWhy, holdsBadId, idText } from '../model/id-chars.ts';
import type { FileIngestOptions } from './ingest-file.ts';
import { MAX_LINE_BYTES, readTextChunks, sizeOf, untrustedGzip } from './read-lines.ts';
import { flagsNotUsed } from './flags-not-used.ts';
import { asEarlierRun } from './trace-same-process.ts';
import { noteLineKey, withoutLineKeyed, type LineKeyScope } from './trace-line-keys.ts';
import { ingestWords } from './ingest-words.ts';
import { boundedMap } from '../bounded-map.ts';

type Summary = { appended: number; duplicates: number; skipped: number; records: number; leftOut?: Record<string, number> };

/**
 * A trace's run, named from what PyTorch wrote in it, so that one log under any file name (the
 * trace handler's file names are random) is one run: `{job_id}:rank{rank}:pid{pid}@{start}`.
 * job_id is compiler_config's, rank the envelope's, pid the glog line's process id, and start
 * the earliest compilation_metrics start_time, to the second in UTC (a pid is reused across
 * processes; a pid with its first compile's start is not). Parts the trace lacks are left out;
 * with no compile start, glog's own month, day and local time of the first line stand in
 * (`@glog1126T05:46:07`: glog writes no year). Null when the trace names neither pid nor time.
 */
export function traceRunName(t: { job: string | null; rank: number | null; pid: number | null; start: number | null; glog: { date: string; time: string } | null }): string | null {
  const when = t.start !== null ? new Date(Math.floor(t.start / 1000) * 1000).toISOString().replace('.000Z', 'Z') : t.glog ? `glog${t.glog.date}T${t.glog.time.slice(0, 8)}` : null;
  if (t.pid === null && when === null) return null;
  const parts = [t.job, t.rank === null ? null : `rank${t.rank}`, t.pid === null ? null : `pid${t.pid}`].filter((p): p is string => p !== null);
  return `${parts.join(':')}${when === null ? '' : `@${when}`}`;
}

/**
 * What a described tensor is. PyTorch marks parameters (describe_tensor's is_parameter) but
 * not buffers, so buffers are told by their source: Dynamo reaches a module's buffers through
 * `._buffers['name']` (and its parameters through `._parameters['name']`, which also covers a
 * trace without the mark). A buffer read as a plain attribute (`L['self'].running_mean`) is
 * not told apart by its text and counts as an input.
 */
export function describedRole(source: string, isParameter: boolean): 'input' | 'parameter' | 'buffer' {
  if (isParameter || source.includes('._parameters[')) return 'parameter';
  if (source.includes('._buffers[')) return 'buffer';
  return 'input';
}

/**
 * A TORCH_TRACE log to events: each put_/get_*_code_state snapshot (its render text
 * parsed back) as entry.imported events for the entries that changed since the previous
 * snapshot, and each automatic_dynamic record PyTorch logged as a dynamic.logged event,
 * with its compile id and the guard failure that caused the compile, and each input tensor a
 * compile saw (describe_tensor + describe_source) as a shape.described event: evidence, never a
 * profile update. The file is streamed;
 * only these few PGO events are held until the end, when the profile key and each
 * compile's code id (from compilation_metrics) are known.
 */
export async function ingestTraceFile(ledger: Ledger, file: string, o: FileIngestOptions): Promise<Summary> {
  const t = await readTraceFile(file, o);
  const events = withoutLineKeyed(ledger, asEarlierRun(ledger, t.events, file, o.defaults?.run, o.onNote));
  const r = ledger.append(events);
  // those held under their old keys are in the log as well
  r.duplicates += t.events.length - events.length;
  if (t.unreadable) throw unreadableAfter(file, r, t.unreadable);
  return { appended: r.appended, duplicates: r.duplicates, skipped: t.skipped, records: r.records, ...(r.leftOut ? { leftOut: r.leftOut } : {}) };
}

/**
 * A trace file's events, its notes said (o.onNote): what ingestTraceFile appends. Throws an
 * input error for a file that gives none. A gzip that cannot be read to its end (cut, damaged,
 * bytes after it) gives the events of its whole lines before that, as the same log cut
 * uncompressed does, and `unreadable`: the failure its caller says once they are appended.
 */
export async function readTraceFile(file: string, o: FileIngestOptions): Promise<{ events: NewEvent[]; skipped: number; unreadable?: LedgerError }> {
  const reader = traceReader();
  const total = sizeOf(file);
  const whole = wholeFile(file);
  let unreadable: LedgerError | undefined;
  if (whole !== null && reader.pushBytes(whole)) o.onProgress?.(whole.length, total);
  else {
    try {
      for await (const chunk of readTextChunks(file)) {
        for (let i = 0; i < chunk.texts.length; i++) reader.push(chunk.texts[i], chunk.first + i);
        o.onProgress?.(chunk.bytes, total);
      }
    } catch (e) {
      // read-lines says a gzip's failure as an input error, after every whole line before it
      if (!(e instanceof LedgerError) || e.kind !== 'input') throw e;
      unreadable = e;
    }
  }
  reader.end();
  // a gzip whose check or deflate data failed: none of its entries is taken (trial s27b: a
  // flipped size went in from a log whose CRC-32 failed, with every entry "before" the check)
  const untrusted = unreadable && untrustedGzip.get(unreadable);
  if (untrusted) throw inputError(`${unreadable!.message}; nothing of it taken: ${untrusted}`, unreadable);
  const t = traceEvents(reader, file, o);
  if (!t.settled) throw unreadable ?? inputError(t.why);
  if (unreadable && !t.events.length) throw unreadable;
  for (const n of t.notes) o.onNote?.(n);
  for (const k of t.waiting) o.held?.add(k);
  return { events: t.events, skipped: t.skipped, ...(unreadable ? { unreadable } : {}) };
}

/** A trace whose events before an unreadable part went in: a failure all the same, saying what stays (as observation lines say it). */
function unreadableAfter(file: string, r: AppendResult, e: LedgerError): LedgerError {
  return new LedgerError(`${fullMessage(e)}\n  the trace entries of ${inputName(file)} before it were ingested (${counted(r.appended, 'event')} appended, ${r.duplicates} already in the log), and stay; the rest of the file cannot be read (the failure above), so ingesting it again stops at the same place`, { kind: 'input', cause: e, partial: { appended: r.appended, duplicates: r.duplicates, records: r.records } });
}

/** Events a TraceBatch holds before it writes them (a few megabytes). */
const BATCH_EVENTS = 20_000;

/**
 * A folder's traces written a batch of files at a time, in one write transaction (SQLite's
 * commit, 28 WAL pages for a trace's few dozen events, cost more than the append). The files
 * are read and their events prepared outside the write lock. When an append fails, the batch
 * rolls back and is written again a transaction a file, as without batches: a bad file writes
 * none of its events and is said by name, the others land. A kill mid-way leaves whole
 * batches. Only where the dictionary rows go in with the events (SQLite): PostgreSQL commits
 * them first, on their own (Dialect.internFirst).
 */
export class TraceBatch {
  /** Each file's events, and how many more of them the log holds under their old keys (withoutLineKeyed). */
  #pending: { file: string; events: PreparedEvent[]; skipped: number; held: number }[] = [];
  #events = 0;
  readonly #lineKeys: LineKeyScope = {};
  constructor(
    readonly ledger: Ledger,
    /** A file's sums once its events are in, or what failed it. */
    readonly done: (file: string, s: Summary | { failed: unknown }) => void,
  ) {}

  static fits(ledger: Ledger): boolean {
    return !ledger.sql.dialect.internFirst;
  }

  /** Reads a file's events (throws as readTraceFile, or for an event prepareEvent refuses) and holds them. */
  async add(file: string, o: FileIngestOptions): Promise<void> {
    const t = await readTraceFile(file, o);
    const own = asEarlierRun(this.ledger, t.events, file, o.defaults?.run, o.onNote);
    const kept = withoutLineKeyed(this.ledger, own, this.#lineKeys);
    const held = own.length - kept.length;
    const events = kept.map((e) => prepareEvent(e));
    if (t.unreadable) {
      // its events go in on their own, in the files' order, and the file is said failed
      this.flush();
      const r = this.ledger.appendPrepared(events);
      r.duplicates += held;
      this.done(file, { failed: unreadableAfter(file, r, t.unreadable) });
      return;
    }
    this.#pending.push({ file, events, skipped: t.skipped, held });
    this.#events += events.length;
    if (this.#events >= BATCH_EVENTS) this.flush();
  }

  /** Writes what is held (before another kind's file, and at the end, so positions follow the files' order). */
  flush(): void {
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    this.#events = 0;
    const { ledger } = this;
    const summary = (p: (typeof pending)[number], r: AppendResult): Summary => ({ appended: r.appended, duplicates: r.duplicates + p.held, skipped: p.skipped, records: r.records, ...(r.leftOut ? { leftOut: r.leftOut } : {}) });
    let results: Summary[];
    try {
      const r = ledger.appendEach(pending.map((p) => p.events));
      results = pending.map((p, i) => summary(p, r[i]));
    } catch (e) {
      if (classify(e) === 'bug') throw e;
      for (const p of pending) {
        let s: Summary | { failed: unknown };
        try {
          s = summary(p, ledger.appendPrepared(p.events));
        } catch (e) {
          if (classify(e) === 'bug') throw e;
          s = { failed: e };
        }
        this.done(p.file, s);
      }
      return;
    }
    for (let i = 0; i < pending.length; i++) this.done(pending[i].file, results[i]);
  }
}

/**
 * Where files of up to 4 MiB are read, one after another: readTraceFile is done with a file's
 * bytes once its events are derived, with no await in between (facts keep strings, never the
 * bytes), and fresh pages for each file cost the kernel more than the read.
 */
let reused: Buffer | null = null;
const REUSED_MAX = 4 << 20;

/**
 * A regular file's bytes, when it is small enough to hold no line too long for readTextChunks
 * (so read whole, it reads as streamed) and is no gzip; else null (stream it). Valid until
 * the next call.
 */
function wholeFile(file: string): Buffer | null {
  if (file === '-') return null;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null; // readTextChunks says why
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_LINE_BYTES) return null;
    let buf: Buffer;
    if (st.size > REUSED_MAX) buf = Buffer.allocUnsafe(st.size);
    else {
      if (reused === null || reused.length < st.size) reused = Buffer.allocUnsafe(Math.min(REUSED_MAX, Math.max(st.size, 1 << 20)));
      buf = reused.subarray(0, st.size);
    }
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, n)) > 0; ) n += r;
    if (n < buf.length || (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b)) return null;
    return buf;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** What a trace's lines have given so far: its facts, kept to derive events from (see traceEvents). */
export interface TraceReader {
  push(text: string, line: number): void;
  /** A whole log's bytes, or false when they must be pushed line by line (TraceAssembler.pushBytes). */
  pushBytes(buf: Buffer): boolean;
  /** The log ends: the entry under way is complete. */
  end(): void;
  readonly facts: readonly TraceFact[];
  readonly problems: readonly TraceProblem[];
  readonly stats: ReturnType<typeof newStats>;
  readonly first: { pid: number | null; generation: number; date: string; time: string } | null;
  /** glog's `MMDD hh:mm:ss.ffffff` at each line that gave facts. */
  readonly clock: ReadonlyMap<number, string>;
  /** Snapshots parsed by an earlier traceEvents (a growing log's are not parsed again each pass). */
  readonly parsed: WeakMap<TraceFact, Profile>;
  /**
   * Each process's part of the log, in the order they first appear (glog's process id): PyTorch
   * writes a log a process, but logs concatenated (`cat`, a log shipper) hold several, each its
   * own run (and rank, and maybe profile). One part for a log of one process: the reader itself.
   */
  readonly parts: readonly TraceReader[];
}

/**
 * Reads a trace line by line into facts. Only complete entries give facts (an entry is
 * complete when the next glog line starts, or at end()), so a reader fed a growing log's
 * complete lines can be fed more later (watch keeps one per file). `reads` is parseEntry's
 * (tests give another, to compare).
 */
export function traceReader(reads: EntryReads = FACT_READS): TraceReader {
  type Part = { facts: TraceFact[]; problems: TraceProblem[]; stats: ReturnType<typeof newStats>; first: TraceReader['first']; clock: Map<number, string>; parsed: WeakMap<TraceFact, Profile>; parts: TraceReader[] } & Pick<TraceReader, 'push' | 'pushBytes' | 'end'>;
  const parsed = new WeakMap<TraceFact, Profile>();
  const methods = {
    push: (text: string, line: number) => asm.push(text, line),
    pushBytes: (buf: Buffer) => asm.pushBytes(buf),
    end: () => asm.end(),
  };
  // glog's MMDD and time of day at each line that gave facts: only facts' lines are ever
  // timed (glogClock), and a string an entry cost a tenth of reading a log.
  // The lines' own problems are the first part's (said once).
  const part = (problems: TraceProblem[]): Part => ({ facts: [], problems, stats: newStats(), first: null, clock: new Map(), parsed, parts: [], ...methods });
  const r = part([]);
  r.parts.push(r);
  // by process id, then which process of that id (TraceEntry.generation)
  const byPid = new Map<number | null, Part[]>();
  let now = r;
  let pidNow: number | null | undefined;
  let generationNow = 0;
  const out = (f: TraceFact) => now.facts.push(f);
  const asm = traceAssembler(
    (e) => {
      if (e.pid !== pidNow || e.generation !== generationNow) {
        // the first process's part is the reader itself; another's, its own
        let ps = byPid.get(e.pid);
        if (ps === undefined) byPid.set(e.pid, (ps = []));
        let p = ps[e.generation];
        if (p === undefined) {
          p = byPid.size === 1 && ps.length === 0 ? r : part([]);
          if (p !== r) r.parts.push(p);
          ps[e.generation] = p;
        }
        now = p;
        pidNow = e.pid;
        generationNow = e.generation;
      }
      now.first ??= { pid: e.pid, generation: e.generation, date: e.date, time: e.time };
      const before = now.facts.length;
      parseEntry(e, now.stats, out);
      if (now.facts.length > before) now.clock.set(e.line, `${e.date} ${e.time}`);
    },
    (p) => r.problems.push(p),
    reads,
  );
  return r;
}

export type TraceEvents =
  | { settled: true; events: NewEvent[]; notes: string[]; skipped: number; cacheKey: string; run: string; parts?: { cacheKey: string; run: string }[]; /** The profiles whose events here wait for a compile's compilation_metrics (a log still being written, or one that ends inside a compile that put its profile). */ waiting: string[] }
  /** Not yet (a log still being written): what is missing, and the profile whose first compile it is inside (its files wait: TraceEvents.waiting). */
  | { settled: false; why: string; waiting?: string[] };

/**
 * The events of what a reader holds. A growing log's events are final once it names its
 * profile key (pgo.* events or compiler_config's job id) and a compile's start (the run's
 * name and the clock): `partial` then says settled; before that, nothing is derived. Events
 * that need a compile's code id appear only once its compilation_metrics is logged, after
 * which its lines never change, so a prefix's events are those of the whole log.
 */
/** A part's process: its id, and for another process of an id met before, which (`490-2`). */
function processName(p: TraceReader): string {
  const f = p.first;
  return f === null || f.pid === null ? '?' : f.generation === 0 ? String(f.pid) : `${f.pid}-${f.generation + 1}`;
}

export function traceEvents(reader: TraceReader, file: string, o: FileIngestOptions, partial = false): TraceEvents {
  const parts = reader.parts;
  if (parts.length === 1) return partEvents(reader, file, o, partial);
  // Several processes' lines (logs concatenated): each its own run, rank and profile, as each
  // process's own log would give; a part that names no profile (a process that compiled
  // nothing) is said and left out. Settled once every part that names one is.
  // `--run R` names each process's run R:pid{pid} (one run for all would key their events
  // alike: the same compile ids in each process, dropped as duplicates)
  const run = o.defaults?.run;
  const each = parts.map((p) => partEvents(p, file, run ? { ...o, defaults: { ...o.defaults, run: `${run}:pid${processName(p)}` } } : o, partial));
  const done = each.filter((t): t is TraceEvents & { settled: true } => t.settled);
  if (done.length === 0) return each[0];
  const left = each.filter((t): t is TraceEvents & { settled: false } => !t.settled);
  if (partial && left.some((t) => !t.why.includes('names no PGO cache key'))) return { ...left[0], waiting: each.flatMap((t) => t.waiting ?? []) };
  const name = (t: TraceEvents & { settled: true }) => `${t.run} (profile ${t.cacheKey})`;
  const pids = parts.map(processName);
  return {
    settled: true,
    events: done.flatMap((t) => t.events),
    notes: [`${inputName(file)}: holds the lines of ${parts.length} processes (glog process ids ${pids.join(', ')}${pids.some((x) => x.includes('-')) ? '; N-2 is a second process of id N, told by its string table starting again' : ''}): each is read as its own log, ${done.map(name).join('; ')}${left.length ? `; ${counted(left.length, 'process', 'processes')} named no PGO profile and gave nothing` : ''}`, ...each.flatMap((t) => (t.settled ? t.notes : [t.why]))],
    skipped: done.reduce((n, t) => n + t.skipped, 0),
    cacheKey: done.map((t) => t.cacheKey).join(', '),
    run: done.map((t) => t.run).join(', '),
    parts: done.map((t) => ({ cacheKey: t.cacheKey, run: t.run })),
    waiting: done.flatMap((t) => t.waiting),
  };
}

/** traceEvents of one process's part of a log. */
function partEvents(reader: TraceReader, file: string, o: FileIngestOptions, partial: boolean): TraceEvents {
  const d = o.defaults ?? {};
  const { stats, first } = reader;
  const facts = reader.facts as TraceFact[];

  // The profile key: from the pgo.* events, else compiler_config's job id and the rank.
  let key: string | null = null;
  let rank: number | null = null;
  let jobId: string | null = null;
  let tag: string | null = null;
  // and the earliest compile start (the run's name), in the same pass
  let start: number | null = null;
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i];
    if (f.kind === 'cache_key') {
      if (!key) key = f.cacheKey;
    } else if (f.kind === 'rank') {
      if (rank === null) rank = f.rank;
    } else if (f.kind === 'compilation_metrics') {
      if (f.jobId && !jobId) {
        jobId = f.jobId;
        tag = f.cacheKeyTag;
      }
      if (f.time !== null && (start === null || f.time < start)) start = f.time;
    }
  }
  if (!key && (jobId || d.job)) key = cacheKey({ job: jobId ?? d.job!, rank: rank ?? d.rank ?? null, tag: tag ?? d.tag ?? '' });
  // No glog line at all: this is no TORCH_TRACE log (a --kind that was forced, say).
  // a log still written to (watch --once says these) may yet have them: said so, not as a fault
  const yet = ' yet (a log still written to: read again once it settles)';
  if (stats.entries === 0) return { settled: false, why: `${inputName(file)}: ${partial ? `no whole TORCH_TRACE entry${yet}` : 'not a TORCH_TRACE log (no glog line in it)'}` };
  if (!key && partial) return { settled: false, why: `${inputName(file)}: the trace names no PGO cache key${yet}` };
  if (!key) return { settled: false, why: `${inputName(file)}: the trace names no PGO cache key (no pgo.* events, no compiler_config job_id); give ${ingestWords(d).job}` };
  // (inside its first compile: the profile's files and Redis values wait for its records, trial s26d)
  if (partial && (start === null || !facts.some((f) => f.kind === 'cache_key' || (f.kind === 'compilation_metrics' && f.jobId)))) return { settled: false, why: `${inputName(file)}: no compile finished${yet}`, waiting: [key] };
  // A whole log in which a compile began (its records, its put) but none finished is one still
  // being written: its run is named from its first compile's start, which compilation_metrics
  // gives, so a name made from the glog line would be another run once the rest came (trial
  // s26c: a phantom run holding the snapshot twice). Nothing goes in; said.
  if (!partial && !facts.some((f) => f.kind === 'compilation_metrics') && facts.some((f) => f.kind === 'automatic_dynamic' || ('compile' in f && f.compile !== null))) {
    const why = `${inputName(file)}: no compile finished in it, though one began (its inputs described, its records): a log still being written, or one whose process died in its first compile; nothing taken: ingest it again once a compile finished`;
    return { settled: true, events: [], notes: [why], skipped: 1, cacheKey: key, run: '', waiting: [key] };
  }
  const named = traceRunName({ job: jobId, rank, pid: first?.pid ?? null, start, glog: first });
  const notes: string[] = [];
  const unused = flagsNotUsed(file, 'trace', key, d);
  if (unused) notes.push(unused);
  if (!d.run && !named) notes.push(`${inputName(file)}: the trace names no process (no glog process id, no compile start); its run is named from the file`);
  const run = d.run ?? named ?? basename(file);

  const t = new TraceScope(reader, file, d.hashFiles, key, run, partial);
  t.build();
  dropBadIds(t);
  // the same problem on lines one after another (a run of NULs, a block of garbage) said once
  const ps = t.problems;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    let j = i;
    while (p.line && j + 1 < ps.length && ps[j + 1].message === p.message && ps[j + 1].line === ps[j].line + 1) j++;
    notes.push(!p.line ? `${inputName(file)}: ${p.message}` : j === i ? `${inputName(file)}:${p.line}: ${p.message}` : `${inputName(file)}:${p.line}-${ps[j].line}: ${p.message} (${j - i + 1} lines)`);
    i = j;
  }
  if (stats.unknown.size) notes.push(`${inputName(file)}: ${stats.entries} entries; kinds with no parser (counted, skipped): ${[...stats.unknown].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return { settled: true, events: t.events, notes, skipped: t.problems.length, cacheKey: key, run, waiting: t.waiting ? [key] : [] };
}

/**
 * A source or code id the ledger cannot hold (a control character, a lone surrogate: a dict
 * key Dynamo names, `L['d']['a\x1b']`, which json.dumps writes escaped) leaves out the events
 * that name it, each line said as damage is, and the rest goes in (trial s27b: one such source
 * failed the whole log at the append).
 */
function dropBadIds(t: TraceScope): void {
  const bad = (p: { source?: unknown; code?: CodeId }): string | null => {
    if (typeof p.source === 'string' && holdsBadId(p.source)) return `source ${idText(p.source)} ${badIdWhy(p.source)}`;
    const c = p.code;
    if (c) for (const f of ['filename', 'name', 'file_hash'] as const) if (typeof c[f] === 'string' && holdsBadId(c[f])) return `code ${f} ${idText(c[f])} ${badIdWhy(c[f])}`;
    return null;
  };
  let kept: NewEvent[] | null = null;
  const said = new Set<string>();
  for (let i = 0; i < t.events.length; i++) {
    const ev = t.events[i];
    const why = bad(ev.payload as { source?: unknown; code?: CodeId });
    if (why === null) {
      kept?.push(ev);
      continue;
    }
    kept ??= t.events.slice(0, i);
    const k = `${ev.originLine}\u0000${why}`;
    if (!said.has(k)) t.problems.push({ line: ev.originLine ?? 0, message: `${why}; a ledger cannot hold it: what the entry tells of it is left out` });
    said.add(k);
  }
  if (kept) t.events.splice(0, t.events.length, ...kept);
}

/**
 * Snapshots parsed before, by their text. A folder's traces repeat them: every rank of a job
 * logs the get_remote_code_state it fetched, the same text, and ranks of one model put
 * alike states. A parsed profile is only read, never changed (reader.parsed shares one
 * between passes the same way). Up to 4 M characters of text (a snapshot is a few
 * kilobytes; `watch` holds the memo as long as it runs), then it starts over; a text that
 * fails to parse is not kept (it fails again, with the same message).
 */
const parsedTexts = boundedMap<Profile>(4 << 20);

function parsedSnapshot(text: string): Profile {
  let p = parsedTexts.get(text);
  if (p === undefined) parsedTexts.set(text, (p = parseRenderText(text)), text.length);
  return p;
}

type Fact<K extends TraceFact['kind']> = TraceFact & { kind: K };

/** An event's time comes from the trace's own clock (chromium ts, compile start times). */
function timed(f: TraceFact): f is TraceFact & { time: number } {
  return 'time' in f && f.time !== null && isEventTime(f.time);
}

/**
 * What traceEvents derives a settled trace's events with, one small method a kind of fact:
 * V8 optimizes each on its own (as one function, it took TurboFan longer to compile than
 * the whole ingest spent running it).
 */
class TraceScope {
  readonly events: NewEvent[] = [];
  readonly problems: TraceProblem[];
  readonly #facts: TraceFact[];
  readonly #origin: string;
  /** Each compile's compilation_metrics, and its guard failures. */
  readonly #metrics = new Map<string, Fact<'compilation_metrics'>>();
  readonly #guards = new Map<string, string>();
  /** Each compilation_metrics' code (#codeOf). */
  readonly #codes = new Map<Fact<'compilation_metrics'>, CodeId>();
  /** File hashes the snapshots give, by filename, first line and name. */
  readonly #hashes = new Map<string, string>();
  readonly #parsed = new Map<TraceFact, Profile>();
  /** Described inputs: describe_source names a tensor describe_tensor gave (describer_id, id). */
  readonly #tensors = new Map<string, Fact<'describe_tensor'>>();
  readonly #lastAttempt = new Map<string, number>();
  readonly #described = new Set<string>();
  readonly #undescribed = new Map<string, number>();
  /** Of a whole log: each compile that put its profile with no compilation_metrics after (the log ends inside it), and the put's line. */
  readonly #cut = new Map<string, number>();
  #saidCut = false;
  /** build() stopped at a compile waiting for its compilation_metrics. */
  waiting = false;
  /** The facts of a compile named as an earlier one of the log was (after a reset): which one of that name it is (`(2nd)`). */
  readonly #nth = new Map<TraceFact, string>();
  /** Each snapshot slot's entry as JSON, as the snapshots so far left it. */
  readonly #previous = new Map<string, string>();
  #lineTime: (line: number) => number | undefined;
  #lastTime: number;
  #asked = -1;
  /** How many of each compile and content #ordinal was asked for. */
  readonly #seen = new Map<string, number>();
  /**
   * The start every event's idempotency key has (`trace\0key\0run\0`), and its hash53 state.
   * The rest names the event by its compile id (frame and compile, attempt where it is part
   * of the event) and its own content, never its line: a line inserted or cut elsewhere in the
   * file leaves its events' keys as they were.
   */
  readonly #idemStart: string;
  readonly #idemPrefix: Hash53Prefix;

  constructor(
    readonly reader: TraceReader,
    readonly file: string,
    readonly hashFiles: string | undefined,
    readonly key: string,
    readonly run: string,
    readonly partial: boolean,
  ) {
    this.#facts = reader.facts as TraceFact[];
    this.problems = [...reader.problems];
    this.#idemStart = `trace\u0000${key}\u0000${run}\u0000`;
    this.#idemPrefix = hash53Prefix(this.#idemStart);
    this.#origin = file === '-' ? 'stdin' : resolve(file);
    const facts = this.#facts;
    // One pass over the facts (each pass cost its own lookups of facts of a dozen shapes).
    const times: (TraceFact & { time: number })[] = [];
    const badTimes: TraceProblem[] = [];
    // PyTorch names compiles anew after torch._dynamo.reset() (0/0 again, maybe of another
    // function): a compile's facts all come before its compilation_metrics, so a fact of an id
    // whose compile ended already is of the next compile so named, told apart as `0/0 (2nd)`.
    // Where no later compile of that name ends in a whole log (one that died mid-compile, or a
    // log written out of order), it is the last one's; a growing log holds it until one does.
    const ended = new Map<string, number>();
    const named = new Map<string, number>();
    if (!partial) for (const f of facts) if (f.kind === 'compilation_metrics' && f.compileId !== null) named.set(compileOfAttempt(f.compileId), (named.get(compileOfAttempt(f.compileId)) ?? 0) + 1);
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i];
      const base = 'compile' in f ? f.compile : 'compileId' in f && f.compileId !== null ? compileOfAttempt(f.compileId) : null;
      if (base !== null) {
        const n = ended.get(base) ?? 0;
        const k = partial ? n + 1 : Math.min(n + 1, named.get(base) ?? 1);
        if (k > 1) this.#nth.set(f, ` (${nth(k)})`);
        if (f.kind === 'compilation_metrics') ended.set(base, n + 1);
      }
      switch (f.kind) {
        // Each compile's code: compilation_metrics names it; snapshots give its file hash. By
        // compile, not attempt: a restarted compile's metrics name it without (compileOfAttempt).
        case 'compilation_metrics':
          if (f.compileId) this.#metrics.set(compileOfAttempt(this.#cid(f)!), f);
          break;
        case 'recompile_reasons':
          if (f.compileId) this.#guards.set(compileOfAttempt(this.#cid(f)!), f.reasons.join('\n'));
          break;
        case 'code_state':
          this.#parse(f);
          break;
        case 'malformed':
          this.problems.push({ line: f.line, message: f.message });
          break;
        // A restarted compile (attempt > 0) describes its inputs again: the last attempt is the
        // one that produced the compile, so only its descriptions are kept.
        case 'describe_tensor':
        case 'describe_source':
        case 'create_symbol':
        case 'equals_match':
          if (f.kind === 'describe_tensor') this.#tensors.set(`${f.describerId}/${f.id}`, f);
          if (f.compile !== null && f.attempt > (this.#lastAttempt.get(this.#comp(f)!) ?? -1)) this.#lastAttempt.set(this.#comp(f)!, f.attempt);
          break;
      }
      if (!('time' in f) || f.time === null) continue;
      if (isEventTime(f.time)) times.push(f as TraceFact & { time: number });
      // Issue 9.5: a ts past the year 9999 (1e300, say) is said and left out, not stored.
      else badTimes.push({ line: f.line, message: `field ts: ${f.time / 1000} s is not a time between 1970 and 9999; ignored` });
    }
    // A whole log that ends inside a compile that put its profile: PyTorch logs the
    // compilation_metrics right after the put, so it is a log still being written (or copied
    // mid-compile), not one that died there. Its records wait, as a growing log's do, with all
    // after them: taking the put alone put the snapshot ahead of the compile's records once the
    // rest came (trial s26a: `why` said "marked dynamic" of a dim PyTorch's records explain).
    // Only after the log's last compilation_metrics: one damaged mid-file (a compile that went
    // on to others) is no log still being written, and leaves its own records out alone.
    if (!partial) {
      let last = facts.length - 1;
      while (last >= 0 && facts[last].kind !== 'compilation_metrics') last--;
      for (let i = last + 1; i < facts.length; i++) {
        const f = facts[i];
        if (f.kind === 'code_state' && f.artifact.startsWith('put_') && f.compileId !== null && this.#parsed.has(f)) {
          const c = compileOfAttempt(this.#cid(f)!);
          if (!this.#metrics.has(c) && !this.#cut.has(c)) this.#cut.set(c, f.line);
        }
      }
    }
    // said after the snapshots' problems
    for (const p of badTimes) this.problems.push(p);
    this.#lastTime = times.length !== 0 ? times[0].time : file === '-' ? Date.now() : statSync(file).mtimeMs;
    // Each event at the time its own line was logged: glog's clock, set against the trace's
    // epoch times (a snapshot is logged after its compile, not when the last compile started).
    this.#lineTime = glogClock(reader.clock, times, this.#lastTime);
  }

  /** A fact's compile id, as PyTorch wrote it but for a compile an earlier one of the log was named as (`0/0 (2nd)`, `0/0 (2nd)_1`). */
  #cid(f: TraceFact & { compileId: string | null }): string | null {
    const n = this.#nth.get(f);
    if (n === undefined || f.compileId === null) return f.compileId;
    const base = compileOfAttempt(f.compileId);
    return base + n + f.compileId.slice(base.length);
  }

  /** A description's compile (frame_id/frame_compile_id), told apart as #cid tells it. */
  #comp(f: TraceFact & DescribedCompile): string | null {
    const n = this.#nth.get(f);
    return n === undefined || f.compile === null ? f.compile : f.compile + n;
  }

  #parse(s: Fact<'code_state'>): void {
    try {
      const p = this.reader.parsed.get(s) ?? parsedSnapshot(s.text);
      this.reader.parsed.set(s, p);
      this.#parsed.set(s, p);
      for (const { id } of p.codes.values()) this.#hashes.set(`${id.filename}\u0000${id.firstlineno}\u0000${id.name}`, id.file_hash);
    } catch (e) {
      this.problems.push({ line: s.line, message: `${s.artifact}: ${(e as Error).message}; snapshot skipped` });
    }
  }

  /** The events, in the facts' order. */
  build(): void {
    const facts = this.#facts;
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i];
      // A growing log gives only the longest settled prefix of the events a one-shot ingest
      // gives, in its order: a compile's records wait for its compilation_metrics, and so
      // does all after them.
      if (f.kind === 'automatic_dynamic') {
        if (this.#held(this.#cid(f))) break;
        this.#dynamic(f, i);
      } else if (f.kind === 'describe_source') {
        if (this.#held(this.#comp(f))) break;
        this.#describedSource(f, i);
      } else if (f.kind === 'create_symbol' || f.kind === 'equals_match') {
        if (this.#held(this.#comp(f))) break;
        this.#describedScalar(f, i);
      } else if (f.kind === 'code_state') {
        // a compile's put waits for its compilation_metrics, as its records do
        if (f.artifact.startsWith('put_') && this.#held(this.#cid(f))) break;
        this.#snapshot(f, i);
      }
    }
    for (const [c, n] of this.#undescribed) this.problems.push({ line: 0, message: `compile ${c}: ${counted(n, 'described input')} but no compilation_metrics names its code; skipped` });
  }

  #held(compileId: string | null): boolean {
    if (compileId === null) return false;
    const c = compileOfAttempt(compileId);
    if (this.#metrics.has(c)) return false;
    if (this.partial) return (this.waiting = true);
    const put = this.#cut.get(c);
    if (put === undefined) return false;
    // what the compile put waits too, in a folder's files and watch's Redis (TraceEvents.waiting)
    this.waiting = true;
    if (!this.#saidCut) {
      this.#saidCut = true;
      this.problems.push({ line: put, message: `compile ${c} put its profile here with no compilation_metrics after it (the log ends inside the compile: one still being written, or copied mid-compile); its events and those after them are left out, to go in in a whole log's order: ingest the log again once it is whole` });
    }
    return true;
  }

  #codeOf(compileId: string | null): CodeId | null {
    const m = compileId ? this.#metrics.get(compileOfAttempt(compileId)) : undefined;
    if (!m || m.co_filename === null || m.co_firstlineno === null || m.co_name === null) return null;
    // one object a compile's code: the interner then knows it by the object (Interner.codeId)
    let c = this.#codes.get(m);
    if (c !== undefined) return c;
    const k = `${m.co_filename}\u0000${m.co_firstlineno}\u0000${m.co_name}`;
    let h = this.#hashes.get(k);
    if (h === undefined) h = hashOfCodeFile(m.co_filename, this.hashFiles);
    this.#codes.set(m, (c = { filename: m.co_filename, firstlineno: m.co_firstlineno, name: m.co_name, file_hash: h }));
    return c;
  }

  /**
   * The time at fact i: its line's, else its own, else the time before it. Worked out only
   * for the facts that give events (most facts give none), from i back to the last fact asked.
   */
  #timeAt(i: number): number {
    const facts = this.#facts;
    for (let j = i; j > this.#asked; j--) {
      const f = facts[j];
      const t = this.#lineTime(f.line) ?? (timed(f) ? f.time : undefined);
      if (t !== undefined) {
        this.#lastTime = t;
        break;
      }
    }
    this.#asked = i;
    return this.#lastTime;
  }

  #dynamic(f: Fact<'automatic_dynamic'>, i: number): void {
    const compileId = this.#cid(f);
    const code = this.#codeOf(compileId);
    if (!code) {
      this.problems.push({ line: f.line, message: `automatic_dynamic for ${f.name} in compile ${compileId ?? '?'}: no compilation_metrics names its code; skipped` });
      return;
    }
    // a record PyTorch would not write (a byte flipped in a payload whose MD5 was made again):
    // this entry skipped and said, as other damage is, not the whole log failed (trial s29b)
    const bad = badRecord(f);
    if (bad) {
      this.problems.push({ line: f.line, message: `automatic_dynamic for ${f.name} in compile ${compileId ?? '?'}: ${bad}; skipped` });
      return;
    }
    const rest = this.#ordinal(`c\u0000${compileId}\u0000${f.name}\u0000${f.dim_changed}\u0000${f.reason}`);
    const payload = {
      code,
      source: f.name,
      record: { dim_changed: f.dim_changed, reason: f.reason as 'size change', cached: f.cached, new: f.new },
      guard: (compileId && (this.#guards.get(compileOfAttempt(compileId)) ?? this.#metrics.get(compileOfAttempt(compileId))?.recompileReason)) || null,
    };
    this.#push(this.#event({ kind: 'dynamic.logged', payload }, i, f.line, compileId, rest), `${f.line}\u0000${f.name}\u0000${f.dim_changed}\u0000${f.reason}`);
  }

  #describedSource(f: Fact<'describe_source'>, i: number): void {
    const compile = this.#comp(f);
    if (compile === null || f.attempt !== this.#lastAttempt.get(compile)) return;
    const t = this.#tensors.get(`${f.describerId}/${f.id}`);
    if (!t) {
      this.problems.push({ line: f.line, message: `describe_source ${f.source}: no describe_tensor with describer_id ${f.describerId} and id ${f.id}; skipped` });
      return;
    }
    const code = this.#describedOnce(compile, f.source);
    if (!code) return;
    // once a compile and source (#described): its attempt (the last: a restart describes
    // again, as PyTorch names it) and source are the event
    const id = attemptId(compile, f.attempt);
    this.#describedTensor(t, code, f.source, i, f.line, id);
    // A view's base is an input of its own to Dynamo (`._base`, its own profile entry) that no
    // describe_source names: the view's describe_tensor gives its id (session 25: without it a
    // warm-started compile's put of the base read as fed, or not, by guess)
    if (t.base === null) return;
    const b = this.#tensors.get(`${f.describerId}/${t.base}`);
    const source = `${f.source}._base`;
    if (b && this.#describedOnce(compile, source)) this.#describedTensor(b, code, source, i, f.line, id);
  }

  /** A described input tensor's event (shape.described), of a compile's attempt `id`. */
  #describedTensor(t: DescribedTensor, code: CodeId, source: string, i: number, line: number, id: string): void {
    const payload = { code, source, size: t.size, stride: t.stride, dtype: t.dtype, device: t.device, role: describedRole(source, t.isParameter), ...(t.requiresGrad ? { requires_grad: true as const } : {}) };
    this.#push(this.#event({ kind: 'shape.described', payload }, i, line, id, `d\u0000${id}\u0000${source}`), `${line}\u0000described\u0000${source}`);
  }

  /** The code of a compile's described input, the first time a compile describes the source; else null (none known: counted). */
  #describedOnce(compile: string, source: string): CodeId | null {
    const code = this.#codeOf(compile);
    if (!code) {
      this.#undescribed.set(compile, (this.#undescribed.get(compile) ?? 0) + 1);
      return null;
    }
    const once = `${compile}\u0000${source}`;
    if (this.#described.has(once)) return null;
    this.#described.add(once);
    return code;
  }

  /**
   * An int or float a compile was fed, as a scalar.described event (evidence, as
   * shape.described is): a dynamic one's symbol (create_symbol: once its source is dynamic,
   * the only place a trace gives its value), or a static one's guard (EQUALS_MATCH: Dynamo
   * specialized it, `specialized`). Once a compile and source, as Dynamo feeds it once.
   */
  #describedScalar(f: Fact<'create_symbol'> | Fact<'equals_match'>, i: number): void {
    const compile = this.#comp(f);
    if (compile === null || f.attempt !== this.#lastAttempt.get(compile)) return;
    const code = this.#describedOnce(compile, f.source);
    if (!code) return;
    const id = attemptId(compile, f.attempt);
    const payload = f.kind === 'equals_match' ? { code, source: f.source, value: f.value, specialized: true as const } : { code, source: f.source, value: f.value };
    // a kind no build keyed by its line: no old key to note
    this.events.push(this.#event({ kind: 'scalar.described', payload }, i, f.line, id, `v\u0000${id}\u0000${f.source}`));
  }

  /**
   * A trace's event: its body, at fact i's time, from its line, under its compile; known by
   * `rest` (its compile and content, after the shared start of the key), never by its line.
   */
  #event(body: EventBody, i: number, line: number, compileId: string | null, rest: string): NewEvent {
    // an object literal of one shape, as every event of the log's reader is (a spread made
    // each its own: trace-200 took 21 % more CPU, session 25)
    return {
      kind: body.kind,
      cacheKey: this.key,
      payload: body.payload,
      time: this.#timeAt(i),
      run: this.run,
      origin: this.#origin,
      originLine: line,
      compileId,
      idempotencyKey: this.#idemStart + rest,
      idempotencyHash: hash53After(this.#idemPrefix, rest),
      keyedLine: false,
    } as NewEvent;
  }

  /** An event, and the key it had when keys named the line (`lineRest`, after the shared start). */
  #push(ev: NewEvent, lineRest: string): void {
    this.events.push(ev);
    noteLineKey(ev, this.#idemPrefix, lineRest);
  }

  /**
   * `what` (an event's compile and content) with which of its like it is, counted from 0 in
   * the file's order: the same record twice in one compile stays two events.
   */
  #ordinal(what: string): string {
    const n = this.#seen.get(what) ?? 0;
    this.#seen.set(what, n + 1);
    return `${what}\u0000${n}`;
  }

  /** A snapshot: an entry.imported event for each entry that changed since the previous snapshot. */
  #snapshot(f: Fact<'code_state'>, i: number): void {
    const p = this.#parsed.get(f);
    if (!p) return;
    const previous = this.#previous;
    // the snapshot: its compile, its kind and which of them in that compile it is
    const compileId = this.#cid(f);
    const snap = this.#ordinal(`s\u0000${compileId}\u0000${f.artifact}`);
    const slots = snapshotSlots(p);
    // What a compile put of its own code is what it saw, changed or not: a warm-started run's
    // compile that fed the value it loaded changes nothing (trial s24b: probe3 run 2's
    // L['scale'] 1.0 went uncounted). Other codes' entries, only where they changed.
    const own = compileId !== null && f.artifact.startsWith('put_') ? this.#codeOf(compileId) : null;
    const ownKey = own ? codeKey(own) : null;
    // A compile under automatic_dynamic_shapes off (torch.compile(dynamic=False)) overwrote each
    // entry it updated (update_automatic_dynamic's else branch): its put's changed entries take
    // their place, as PyTorch's file has them, instead of joining (a dynamic dim back to a value).
    const overwrote = own !== null && this.#metrics.get(compileOfAttempt(compileId!))?.automaticDynamicOff === true;
    for (const { id, ck, source, entry, json, slot } of slots) {
      if (previous.get(slot) === json && ck !== ownKey) continue;
      const payload = { code: id, source, entry, import_id: null, format: f.artifact, records: 'logged' as const, ...(overwrote ? { automatic_dynamic: false as const } : {}) };
      this.#push(this.#event({ kind: 'entry.imported', payload }, i, f.line, compileId, `${snap}\u0000${ck}\u0000${source}`), `${f.line}\u0000${ck}\u0000${source}`);
    }
    for (const s of slots) previous.set(s.slot, s.json);
  }
}

/** The reasons PyTorch's automatic_dynamic records give (pgo.py's log_auto_dynamic callers). */
const RECORD_REASONS = new Set(['scalar change', 'size change', 'stride change', 'dimensionality change', 'other']);

/** What makes a record one PyTorch does not write, or null: its dim an index below 0 or no whole number, its reason none of PyTorch's. */
function badRecord(f: Fact<'automatic_dynamic'>): string | null {
  if (typeof f.dim_changed === 'number' && !(Number.isSafeInteger(f.dim_changed) && f.dim_changed >= 0)) return `dim_changed ${f.dim_changed}: want a dim's index (0 or more), "scalar" or "all"`;
  if (!RECORD_REASONS.has(f.reason)) return `reason ${JSON.stringify(f.reason)}: want one of PyTorch's (${[...RECORD_REASONS].join(', ')})`;
  return null;
}

/** One entry of a parsed snapshot, as its events and the comparison with the snapshot before take it. */
interface SnapshotSlot {
  id: CodeId;
  /** codeKey(id), and the slot: its code key and source. */
  ck: string;
  slot: string;
  source: string;
  entry: EntryJson;
  /** JSON of `entry`: what tells an entry changed since the previous snapshot. */
  json: string;
}

/**
 * Each parsed snapshot's entries as JSON, worked out once a profile: snapshots are parsed once
 * a text (parsedSnapshot) and a folder's traces repeat their texts (every rank's
 * get_remote_code_state, alike ranks' puts), so the same entries were written as JSON again
 * in every trace. The entry objects go into events' payloads, which nothing changes.
 */
const slotsOf = new WeakMap<Profile, SnapshotSlot[]>();

function snapshotSlots(p: Profile): SnapshotSlot[] {
  let slots = slotsOf.get(p);
  if (slots !== undefined) return slots;
  slots = [];
  for (const { id, state } of p.codes.values()) {
    const ck = codeKey(id);
    for (const [source, e] of state.automaticDynamic) {
      const entry = entryToJson(e);
      slots.push({ id, ck, slot: `${ck}\u0000${source}`, source, entry, json: JSON.stringify(entry) });
    }
  }
  slotsOf.set(p, slots);
  return slots;
}


/** 2nd, 3rd, 4th, 11th, 21st. */
function nth(n: number): string {
  const tens = n % 100;
  return `${n}${tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th'}`;
}

const DAY_MS = 86_400_000;
const ZONE_MS = 15 * 60_000;
/** Facts whose time is the moment their line was logged (a chromium event's `ts`). */
const LOGGED_AT = new Set<string>(['automatic_dynamic', 'cache_key']);
/** How far a line may sit before the anchor logged before it (threads' lines interleave). */
const SLACK_MS = 60_000;

/**
 * glog writes each line's month, day and local time of day, but no year and no zone. The
 * trace's epoch times (chromium `ts`, compile start times) say both: the year is the one that
 * puts the line nearest them, and the zone the offset between them, in quarter hours.
 * The offset follows the trace, as a host's zone changes with daylight saving: the first
 * anchor sets it, and each chromium event (automatic_dynamic, pgo.*), whose `ts` is the moment
 * its line was logged, sets it anew from its line on. A compile's start_time is logged at its
 * end, minutes later for a long compile, so compilation_metrics never changes it. A line
 * between two anchors of different offsets takes the later one's where the earlier one's would
 * put it outside the two (the change came before it: times only go forward).
 * Returns each line's time in ms since the epoch (undefined for a line glog did not stamp).
 */
export function glogClock(clock: ReadonlyMap<number, string>, anchors: readonly { line: number; time: number; kind: string }[], fallback: number): (line: number) => number | undefined {
  let offset = 0;
  let near = fallback;
  let i = anchors.findIndex((a) => clock.has(a.line));
  const anchor = anchors[i];
  if (anchor) {
    const t = nearestIn(new Date(anchor.time).getUTCFullYear())(clock.get(anchor.line)!, anchor.time);
    if (t !== undefined && Math.abs(anchor.time - t) < DAY_MS) offset = Math.round((anchor.time - t) / ZONE_MS) * ZONE_MS;
    near = anchor.time;
  }
  const at = near - offset;
  const nearest = nearestIn(new Date(at).getUTCFullYear());
  // Each offset, from its anchor's line (its time, the first's for the lines before it too):
  // a new one only where an anchor's differs.
  const offsets = [offset];
  const ats = [at];
  const nearests = [nearest];
  const froms = [anchor?.line ?? Infinity];
  const times = [near];
  for (i++; i > 0 && i < anchors.length; i++) {
    const a = anchors[i];
    const s = LOGGED_AT.has(a.kind) ? clock.get(a.line) : undefined;
    if (s === undefined || a.line <= froms[froms.length - 1]) continue;
    const t = nearestIn(new Date(a.time).getUTCFullYear())(s, a.time);
    if (t === undefined || !(Math.abs(a.time - t) < DAY_MS)) continue;
    const o = Math.round((a.time - t) / ZONE_MS) * ZONE_MS;
    if (o === offsets[offsets.length - 1]) continue;
    offsets.push(o);
    ats.push(a.time - o);
    nearests.push(nearestIn(new Date(a.time - o).getUTCFullYear()));
    froms.push(a.line);
    times.push(a.time);
  }
  if (offsets.length === 1) {
    return (line) => {
      const s = clock.get(line);
      if (s === undefined) return undefined;
      const t = nearest(s, at);
      return t === undefined ? undefined : t + offset;
    };
  }
  // Lines are asked mostly in increasing order (TraceScope.#timeAt): a cursor, one step a change.
  let k = 0;
  return (line) => {
    const s = clock.get(line);
    if (s === undefined) return undefined;
    while (k + 1 < froms.length && froms[k + 1] <= line) k++;
    while (k > 0 && froms[k] > line) k--;
    const t = nearests[k](s, ats[k]);
    if (t === undefined) return undefined;
    const u = t + offsets[k];
    // Between two anchors whose offsets differ, the zone changed at a line between them: a line
    // the earlier offset puts before the earlier anchor or after the later one was logged after
    // the change (times only go forward), and takes the later offset where that puts it between.
    if (k + 1 === froms.length || ((line <= froms[k] || u >= times[k] - SLACK_MS) && u <= times[k + 1] + SLACK_MS)) return u;
    const v = nearests[k + 1](s, ats[k + 1]);
    if (v === undefined) return u;
    const w = v + offsets[k + 1];
    return (line <= froms[k] || w >= times[k] - SLACK_MS) && w <= times[k + 1] + SLACK_MS ? w : u;
  };
}

/**
 * The glog time nearest `near` of a reading (`MMDD hh:mm:ss` and maybe `.ffffff`), trying the
 * years around y; undefined for a text of another shape. Read by hand, not by a regular
 * expression, and each day's start taken once (every line's reading differs, in its
 * microseconds): Date.UTC(y, mo, d, h, mi, s, ms) is the day's start plus the time of day, in
 * whole milliseconds, as the standard computes it.
 */
function nearestIn(y: number): (s: string, near: number) => number | undefined {
  const days = new Map<number, readonly [number, number, number]>();
  return (s, near) => {
    const n = s.length;
    if (n < 13 || n === 14 || s.charCodeAt(4) !== 32 || s.charCodeAt(7) !== 58 || s.charCodeAt(10) !== 58) return undefined;
    const mo = twoDigits(s, 0);
    const d = twoDigits(s, 2);
    const h = twoDigits(s, 5);
    const mi = twoDigits(s, 8);
    const sec = twoDigits(s, 11);
    if (mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return undefined;
    let ms = 0;
    if (n > 13) {
      if (s.charCodeAt(13) !== 46) return undefined;
      for (let i = 14; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) return undefined;
      }
      ms = Math.round(Number(`0.${s.slice(14)}`) * 1000);
    }
    let day = days.get(mo * 100 + d);
    if (day === undefined) days.set(mo * 100 + d, (day = [Date.UTC(y - 1, mo - 1, d), Date.UTC(y, mo - 1, d), Date.UTC(y + 1, mo - 1, d)]));
    const tod = h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
    let best = day[0] + tod;
    const t = day[1] + tod;
    if (Math.abs(t - near) < Math.abs(best - near)) best = t;
    const u = day[2] + tod;
    if (Math.abs(u - near) < Math.abs(best - near)) best = u;
    return best;
  };
}

/** The number of two ASCII digits at i, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}
