import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { Ledger } from '../store/ledger.ts';
import { ingestObservations } from './ingest-observations.ts';
import type { LineDefaults } from './observation-lines.ts';
import { sizeOf } from './read-lines.ts';
import { ingestMegaCacheFile, ingestPickleFile, ingestRemoteJsonFile } from './ingest-snapshot.ts';
import { ingestTracePath } from './ingest-trace.ts';

export type IngestKind = 'observations' | 'pickle' | 'megacache' | 'remote-json' | 'trace';

export interface FileIngestOptions {
  kind?: IngestKind;
  defaults?: LineDefaults;
  skipInvalid?: boolean;
  onProgress?: (done: number, total?: number) => void;
  onNote?: (message: string) => void;
}

export interface FileIngestSummary {
  kind: IngestKind;
  appended: number;
  duplicates: number;
  skipped: number;
  records: number;
}

const handlers: Record<Exclude<IngestKind, 'observations'>, (l: Ledger, file: string, o: FileIngestOptions) => Promise<Omit<FileIngestSummary, 'kind'>>> = {
  pickle: ingestPickleFile,
  'remote-json': ingestRemoteJsonFile,
  megacache: ingestMegaCacheFile,
  trace: ingestTracePath,
};

/** Tells a file's kind from its first bytes (and a folder is a folder of traces). */
export function detectKind(file: string): IngestKind {
  if (file !== '-' && statSync(file).isDirectory()) return 'trace';
  if (file === '-') return 'observations';
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(64);
  const n = readSync(fd, head, 0, 64, 0);
  closeSync(fd);
  const b = head.subarray(0, n);
  const text = b.toString('latin1');
  if (b[0] === 0x80 || /^(c|\(|\}|\])/.test(text)) return 'pickle';
  if (n >= 12 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 1) return 'megacache';
  if (/^\s*\{\s*"data"\s*:/.test(text)) return 'remote-json';
  if (/^[VIWEC]\d{4} \d\d:\d\d:\d\d/.test(text)) return 'trace';
  return 'observations';
}

export async function ingestFile(ledger: Ledger, file: string, o: FileIngestOptions = {}): Promise<FileIngestSummary> {
  if (file !== '-') {
    try {
      statSync(file);
    } catch {
      throw new Error(`${file}: no such file or folder`);
    }
  }
  const kind = o.kind ?? detectKind(file);
  if (kind === 'observations') {
    const total = sizeOf(file);
    const s = await ingestObservations(ledger, file, { defaults: o.defaults, skipInvalid: o.skipInvalid, onProgress: (b) => o.onProgress?.(b, total), onSkip: (m) => o.onNote?.(`skipped ${m}`) });
    return { kind, appended: s.appended, duplicates: s.duplicates, skipped: s.skipped, records: s.records };
  }
  if (file === '-') throw new Error(`stdin: only observation lines can come on stdin (not ${kind})`);
  return { kind, ...(await handlers[kind](ledger, file, o)) };
}
