import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { aboutInput, classify, isDatabaseFailure } from '../../errors.ts';
import type { Ledger, WatchCursor } from '../../store/ledger.ts';
import { ingestFile, type IngestKind } from '../ingest-file.ts';
import { readInput } from '../read-lines.ts';
import { fileInput } from './file-identity.ts';
import type { FollowContext, InputReport } from './follow-context.ts';

/** What watch holds of a whole file (a profile pickle, a mega-cache, a remote value, observation lines). */
export interface FileState {
  input: string;
  size: number;
  mtimeMs: number;
}

/**
 * One pass over a whole file, read as `ingest` reads it when it is new or changed: its
 * size and mtime unchanged skip it (no hashing); else its content hash against the cursor
 * decides. A profile pickle, mega-cache or remote value is one transaction, and its cursor
 * is written in it; observation lines go in batches, so their cursor follows the last batch
 * (read again after a stop in between, they are duplicates and add nothing).
 */
export async function followFile(ledger: Ledger, prev: FileState | undefined, path: string, st: Stats, kind: IngestKind | undefined, ctx: FollowContext): Promise<{ state: FileState; report: InputReport | null }> {
  const input = fileInput(st);
  const state = { input, size: st.size, mtimeMs: st.mtimeMs };
  if (prev && prev.input === input && prev.size === st.size && prev.mtimeMs === st.mtimeMs) return { state: prev, report: null };
  const identity = `stat:${st.size}:${st.mtimeMs}`;
  const c = ledger.cursor(input);
  if (c && c.identity === identity) return { state, report: null };
  try {
    const bytes = await readInput(path);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const cursor: WatchCursor = { input, identity, offset: st.size, hash, complete: true, path, updatedAt: ctx.now() };
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
      s = await ingestFile(inTx, path, { kind, onNote: ctx.note, defaults: { words: ctx.words } });
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
    ctx.fail(aboutInput(path, `${kind ?? 'gzip'}: not ingested: `, e));
    return { state, report: null };
  }
}
