import type { Ledger, NewEvent } from '../store/ledger.ts';
import { InputError, parseObservationLine, type LineDefaults } from './observation-lines.ts';
import { readLines } from './read-lines.ts';

export interface IngestOptions {
  defaults?: LineDefaults;
  /** Go on past bad lines, counting them, instead of stopping at the first. */
  skipInvalid?: boolean;
  /** Lines per transaction: a batch is written whole or not at all. */
  batchSize?: number;
  onProgress?: (bytes: number) => void;
  onSkip?: (e: InputError) => void;
}

export interface IngestSummary {
  lines: number;
  appended: number;
  duplicates: number;
  skipped: number;
  records: number;
}

/** Observation JSONL (a file, or '-' for stdin) into the log, batch by batch. */
export async function ingestObservations(ledger: Ledger, file: string, opts: IngestOptions = {}): Promise<IngestSummary> {
  const sum: IngestSummary = { lines: 0, appended: 0, duplicates: 0, skipped: 0, records: 0 };
  const size = opts.batchSize ?? 10000;
  let batch: NewEvent[] = [];
  const flush = () => {
    if (!batch.length) return;
    const r = ledger.append(batch);
    sum.appended += r.appended;
    sum.duplicates += r.duplicates;
    sum.records += r.records;
    batch = [];
  };
  let lastBytes = 0;
  for await (const { text, line, bytes } of readLines(file)) {
    if (text.trim() === '') continue;
    sum.lines++;
    try {
      batch.push(parseObservationLine(text, file, line, opts.defaults ?? {}));
    } catch (e) {
      if (!(e instanceof InputError) || !opts.skipInvalid) throw e;
      sum.skipped++;
      opts.onSkip?.(e);
      continue;
    }
    if (batch.length >= size) {
      flush();
      if (opts.onProgress && bytes !== lastBytes) opts.onProgress((lastBytes = bytes));
    }
  }
  flush();
  return sum;
}
