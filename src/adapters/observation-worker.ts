import { parentPort, workerData } from 'node:worker_threads';
import { lineWireBatches, takeOverReader, type LineBatchOptions, type ReaderHandOver } from './observation-batches.ts';
import { InputError } from './observation-lines.ts';
import { classify, fullMessage } from '../errors.ts';

/**
 * The ingest worker: reads, parses and validates observation lines on the second core,
 * and sends compact batches to the thread that writes. At most `window` batches are in
 * flight, so a slow writer holds the reader back (memory stays flat).
 */
const port = parentPort!;
// Node's modules are loaded: the writing thread may raise V8's budget again (see ingest-observations.ts withWorker).
port.postMessage({ type: 'started' });
const { file, options, reader, window } = workerData as { file: string; options: Omit<LineBatchOptions, 'onSkip' | 'context' | 'builder'>; reader?: ReaderHandOver; window: number };
// Goes on with the line cache and tables of the writing thread's reader, where it handed them over (see handOverReader).
const goOn = reader && takeOverReader(file, options.defaults, reader);
let credits = window;
let wake: (() => void) | null = null;
port.on('message', (m: { type: string }) => {
  if (m.type === 'credit') {
    credits++;
    wake?.();
    wake = null;
  }
});

try {
  for await (const wire of lineWireBatches(file, { ...options, ...goOn, onSkip: (e) => port.postMessage({ type: 'skip', message: e.message }) })) {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    port.postMessage({ type: 'batch', batch: wire }, [wire.rows.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'done' });
} catch (e) {
  if (e instanceof InputError) port.postMessage({ type: 'error', file: e.file, line: e.line, message: e.message });
  // its kind goes with it: the file's own failure (a gzip damaged) is the input's, a slip of this code a bug
  else port.postMessage({ type: 'error', message: fullMessage(e), kind: classify(e) });
}
