import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Ledger } from '../store/ledger.ts';
import type { PreparedEvent } from '../store/prepare-event.ts';
import { batchCache, decodeBatch, handOverReader, lineWireBatches, WireBuilder, type LineBatchOptions, type LinesFromTag, type ReaderHandOver, type WireBatch } from './observation-batches.ts';
import { InputError, lineContext, type LineDefaults } from './observation-lines.ts';
import { sizeOf } from './read-lines.ts';
import { classify, fullMessage, inputName, isDatabaseFailure, LedgerError, type FailureKind, type PartIngested } from '../errors.ts';
import { addLeftOut } from './left-out.ts';
import { linesFlagsNotUsed } from './flags-not-used.ts';
import { counted } from '../counted.ts';

export interface IngestOptions {
  defaults?: LineDefaults;
  /** Go on past bad lines, counting them, instead of stopping at the first. */
  skipInvalid?: boolean;
  /** Lines per transaction: a batch is written whole or not at all. */
  batchSize?: number;
  onProgress?: (bytes: number) => void;
  /** Each batch once committed: its events appended and already in the log (a signal's stop says them). */
  onCommitted?: (appended: number, duplicates: number) => void;
  onSkip?: (message: string) => void;
  /** A note on stderr's terms: flags the lines had no use for (linesFlagsNotUsed). */
  onNote?: (message: string) => void;
  /** Read the file's first `end` bytes only (watch: the complete lines of a file still being written). */
  end?: number;
  /** Read from a line on, the lines before read already (watch: a file that only grew; see LinesFromTag). */
  from?: LinesFromTag;
  /**
   * Parse on a worker thread, so parsing and writing use both cores (default: for files over
   * 4 MiB, unless PGO_LEDGER_NO_WORKER=1).
   */
  worker?: boolean;
}

/** What the command line sets (bin/v8-flags.cjs): puts Node's own V8 flags back, and returns what raises them again; unset in a library's process. */
const nodeFlags = () => (globalThis as { [k: symbol]: (() => () => void) | undefined })[Symbol.for('pgo-ledger.nodeFlags')];
/** Likewise: V8's flags for an ingest's batch loops (no on-stack replacement: each loop compiled once, for the next batch), and what sets them back. */
const ingestFlags = () => (globalThis as { [k: symbol]: (() => () => void) | undefined })[Symbol.for('pgo-ledger.ingestFlags')];

/** A file past which a worker pays off (a small one is parsed faster than a thread starts). */
const BIG = 4 << 20;

export interface IngestSummary {
  lines: number;
  appended: number;
  duplicates: number;
  skipped: number;
  records: number;
  /** Events of runs their profile retracted, by run (AppendResult.leftOut). */
  leftOut?: Record<string, number>;
}

/** What a failed file's committed batches put in (LedgerError.partial). */
const partOf = (s: IngestSummary): PartIngested => ({ appended: s.appended, duplicates: s.duplicates, records: s.records });

/** Observation JSONL (a file, or '-' for stdin) into the log, batch by batch. */
export async function ingestObservations(ledger: Ledger, file: string, opts: IngestOptions = {}): Promise<IngestSummary> {
  const sum: IngestSummary = { lines: 0, appended: 0, duplicates: 0, skipped: 0, records: 0 };
  const options = { defaults: opts.defaults ?? {}, skipInvalid: !!opts.skipInvalid, batchSize: opts.batchSize ?? 10000, end: opts.end, from: opts.from };
  // A batch is counted once committed: on PostgreSQL the next batch is folded while the
  // server writes this one (Ledger.appendPipelined), so its events stay as they are until
  // then, and the batch after it is decoded into a second set of event objects (see reused).
  /** Batches written whose commit has not called back yet (one at most once write returns: Ledger.appendPipelined). */
  let uncommitted = 0;
  const write = (events: Parameters<Ledger['appendPrepared']>[0], lines: number, bytes: number, skipped: number) => {
    uncommitted++;
    ledger.appendPipelined(events, (r) => {
      uncommitted--;
      sum.appended += r.appended;
      sum.duplicates += r.duplicates;
      sum.records += r.records;
      addLeftOut(sum, r);
      sum.lines = lines;
      sum.skipped = skipped;
      opts.onProgress?.(bytes);
      opts.onCommitted?.(r.appended, r.duplicates);
    });
  };
  /**
   * Event objects refilled batch after batch (decodeBatch): the set of the batch written last
   * where its commit has called back (SQLite's, always: its appends commit before they
   * return), else the other set, whose batch committed before that one was written. A second
   * set where none was needed made the second batch 10,000 new objects, which the young
   * generation copied twice and the old one kept.
   */
  const reused = (): (() => PreparedEvent[]) => {
    const sets: PreparedEvent[][] = [[], []];
    let k = 0;
    return () => (uncommitted === 0 ? sets[k] : sets[(k ^= 1)]);
  };
  // A worker pays off on big files; a small one is parsed faster than a thread starts.
  const big = file !== '-' && (sizeOf(file) ?? 0) - (opts.from?.offset ?? 0) > BIG;
  const useWorker = file !== '-' && (opts.worker ?? (big && process.env.PGO_LEDGER_NO_WORKER !== '1'));
  // SQLite tells whether this connection's transactions met another writer: the worker then
  // runs only while they met none (see withWorker), and the first batches, before that tells,
  // are parsed here (their line cache and tables go on to the worker). Other backends, and a worker asked
  // for, keep the worker throughout.
  const { writersMet, writes } = ledger.sql;
  const alone = opts.worker === undefined && writersMet && writes ? () => writes() >= 2 && writersMet() === 0 : undefined;
  const flagsBack = ingestFlags()?.();
  /** The defaults the lines took (LineContext.used), of every batch written. */
  let usedBits = 0;
  try {
    await (useWorker ? (alone && !alone() ? inThread(undefined, alone) : withWorker()) : inThread());
    ledger.settle();
    const unused = linesFlagsNotUsed(file, options.defaults, usedBits, sum.lines - sum.skipped);
    if (unused) opts.onNote?.(unused);
    return sum;
  } catch (e) {
    // what was committed before the failure: counted (a batch that fails to commit throws from here)
    ledger.settle();
    if (sum.lines === 0) {
      // Trial 20: a bad line in the first batch took the lines before it along, which nothing
      // said: a bad line 3001 of 3001 read as if lines 1-3000 were in
      if (!(e instanceof InputError) || e.line <= 1) throw e;
      const at = `${inputName(e.file)}:${e.line}: `;
      const said = e.message.startsWith(at) ? e.message.slice(at.length) : e.message;
      throw new InputError(
        e.file,
        e.line,
        `${said}\n  no line of ${inputName(file)} was committed: the ${counted(e.line - 1, 'line')} before it went in one batch ` +
          `with it (${options.batchSize} lines a transaction); fix the line and ingest the file again`,
      );
    }
    // the ledger failed (a server gone, a disk full) after some batches: they stay; say which
    const committed = `the first ${sum.lines} observation lines of ${inputName(file)} were committed (${counted(sum.appended, 'event')} appended, ${sum.duplicates} already in the log)`;
    if (!(e instanceof InputError)) {
      // the file itself unreadable past them (a gzip cut, damaged, or with bytes after its
      // end): ingesting it again stops at the same byte, so "again to continue" misled
      const kind = classify(e);
      const rest =
        kind === 'input' && !isDatabaseFailure(e)
          ? 'and stay; the rest of the file cannot be read (the failure above), so ingesting it again stops at the same place'
          : 'the lines after them were not; ingest the file again to continue: what is in the log is not added twice';
      throw new LedgerError(`${fullMessage(e)}\n  ${committed}, ${rest}`, { kind, cause: e, partial: partOf(sum) });
    }
    // Issue 9.3: batches before a bad line are committed; say exactly what, and how to go on.
    const at = `${inputName(e.file)}:${e.line}: `;
    const said = e.message.startsWith(at) ? e.message.slice(at.length) : e.message;
    throw new InputError(
      e.file,
      e.line,
      `${said}\n  ${committed}, the lines after them were not; ` +
        'fix the line and ingest the file again to continue: what is in the log is not added twice',
      partOf(sum),
    );
  } finally {
    flagsBack?.();
  }

  /**
   * An input parsed on this thread (a small file, stdin, or the worker turned off): the
   * worker's way, wire batches decoded here, which costs half the CPU a line of preparing each
   * event as it is parsed (small files and stdin went that way until session 22: the first
   * 10,000 lines of the bench's mix 0.17-0.22 CPU-s now against 0.28-0.29, 250k lines on
   * stdin 0.88-1.09 against 2.69-3.28).
   * A transaction takes one batch, as the worker's do: with four writers on two cores, four
   * batches a transaction cost the fleet a tenth more CPU (5.10-5.27 CPU-s against 4.62-4.67,
   * paired: bench/README.md) and more time holding the lock, for a quarter of the times the
   * lock changed hands.
   */
  async function inThread(after?: LineBatchOptions['after'], handOff?: () => boolean, cache = batchCache()): Promise<IngestSummary> {
    const reuse = reused();
    // The worker goes on with the lines parsed here and the tables of their batches (see
    // handOverReader): it would parse every shape of them in full again, on a thread whose
    // code is cold, and this one decode them again (~0.2 CPU-s a 1M-line ingest of the mix).
    let reader = handOff ? { context: lineContext(file, options.defaults), builder: new WireBuilder() } : undefined;
    const batches = lineWireBatches(file, { ...options, after, ...reader, onSkip: (e) => opts.onSkip?.(e.message) });
    for await (const b of batches) {
      usedBits |= b.used ?? 0;
      write(decodeBatch(b, cache, reuse()), b.lines, b.bytes, b.skipped);
      // no other writer met: the rest goes to a worker
      if (handOff && b.last !== undefined && handOff()) {
        await batches.return(undefined);
        // Neither the reader nor what it hands over stays alive here while the worker runs (4 MB
        // of the heap at the next full GC): the worker's start lets go of `handed.reader`.
        const handed = { reader: handOverReader(reader!.context, reader!.builder) };
        reader = undefined;
        return withWorker({ line: b.last, lines: b.lines, skipped: b.skipped }, handed, cache);
      }
    }
    return sum;
  }

  async function withWorker(from?: LineBatchOptions['after'], handed?: { reader?: ReaderHandOver }, cache = batchCache()): Promise<IngestSummary> {
    const self = import.meta.url;
    const fromSources = self.endsWith('.ts');
    // dist/observation-worker.mjs sits beside the library bundle, one folder up from the command line's chunks.
    const bundled = ['./observation-worker.mjs', '../observation-worker.mjs'].map((p) => new URL(p, self)).find((u) => existsSync(u));
    const entry = fromSources || !bundled ? new URL('./observation-worker.ts', self) : bundled;
    const url = fromSources ? new URL('./ts-worker-bootstrap.mjs', self) : entry;
    // Started under Node's own V8 flags where the command line raised V8's (bin/v8-flags.cjs): the
    // worker then compiles the Node modules it starts with from Node's code cache. Raised again
    // once it runs its own code ('started'), or fails.
    let raiseAgain = nodeFlags()?.();
    let worker: Worker;
    // A roomy young generation: parsing makes many short-lived objects, and scavenges
    // dominated the worker's time with the default size (32 MB costs no more CPU than 64 on
    // the bench's mix, and keeps 25-50 MB less resident). An old generation capped under
    // 2 GB: V8 then lets it grow to at most twice what the last full GC kept before the next
    // (under a cap of 2 GB or more, four times: 75 MB and more for the worker's ~20 MB), 30-40 MB
    // less resident at 1M lines for a few more full GCs of 20 MB each. 2 GB holds the worst
    // lines tried (62 MB: one size array of 31M ints, an object of 5M keys); a line of 21M
    // empty objects overflows it as it does the default limit (4 GB on the bench machine).
    try {
      worker = new Worker(url, { workerData: { file, options: { ...options, after: from }, reader: handed?.reader, window: 3, entry: entry.href }, resourceLimits: { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: 2000 } });
    } catch (e) {
      raiseAgain?.();
      throw e;
    }
    if (handed) handed.reader = undefined;
    // event objects refilled batch after batch (see decodeBatch, reused)
    const reuse = reused();
    // Where this thread takes over from the worker: once a transaction met another writer, the
    // cores are shared, and the worker's thread, its messages and its second heap cost a writer
    // a fifth more CPU (about 1.45 against 1.2 CPU-s a 250k-line file) for no time gained.
    let after: LineBatchOptions['after'];
    try {
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { type: string; batch?: WireBatch; message?: string; file?: string; line?: number; kind?: FailureKind }) => {
          if (m.type === 'started') {
            raiseAgain?.();
            raiseAgain = undefined;
            return;
          }
          // the worker's messages past the line this thread goes on after: read again here
          if (after) return;
          try {
            if (m.type === 'batch') {
              const b = m.batch!;
              const met = alone && writersMet!();
              usedBits |= b.used ?? 0;
      write(decodeBatch(b, cache, reuse()), b.lines, b.bytes, b.skipped);
              if (alone && writersMet!() !== met && b.last !== undefined) {
                after = { line: b.last, lines: b.lines, skipped: b.skipped };
                resolve();
              } else worker.postMessage({ type: 'credit' });
            } else if (m.type === 'skip') opts.onSkip?.(m.message!);
            else if (m.type === 'done') resolve();
            else if (m.type === 'error') reject(m.line !== undefined ? Object.assign(new InputError(m.file!, m.line, ''), { message: m.message }) : new LedgerError(m.message!, { kind: m.kind }));
          } catch (e) {
            reject(e);
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ingest worker exited with code ${code}`))));
      });
    } finally {
      raiseAgain?.();
      await worker.terminate();
    }
    return after ? inThread(after, undefined, cache) : sum;
  }
}
