import { deflateSync, inflateSync } from 'node:zlib';
import type { Sql } from './database.ts';

/**
 * What the report counts straight from the log, whatever the window (every event, retracted
 * runs included): per code id and source, its observations and imports and their runs; and
 * every run of the profile. Kept beside each why-checkpoint for the log up to it (derived
 * data: verify checks it, replay rebuilds it), so the report counts only the tail.
 */
export interface LogCounts {
  /** By code id, then source (the rows of the codes and sources tables). */
  sources: Map<number, Map<number, { codeId: number; sourceId: number; n: number; runs: Set<number> }>>;
  /** Rows of the runs table. */
  runs: Set<number>;
}

export const emptyLogCounts = (): LogCounts => ({ sources: new Map(), runs: new Set() });

/** Adds the profile's events after position `after`, up to `until`. */
export function countLog(sql: Sql, profileId: number, into: LogCounts, after = 0, until = Number.MAX_SAFE_INTEGER): LogCounts {
  const rows = sql.allRaw(
    'select code_id, source_id, run_id, kind, count(*) from events where profile_id = ? and position > ? and position <= ? group by code_id, source_id, run_id, kind',
    profileId,
    after,
    until,
  );
  for (const [codeId, sourceId, runId, kind, n] of rows as [number, number, number | null, string, number][]) addToLogCounts(into, codeId, sourceId, runId, kind, n);
  return into;
}

/** Adds `n` events of one kind, code id, source and run (rows of their tables; the append path adds each event so). */
export function addToLogCounts(into: LogCounts, codeId: number | null, sourceId: number | null, runId: number | null, kind: string, n = 1): void {
  if (runId !== null) into.runs.add(runId);
  if (kind !== 'shape.observed' && kind !== 'entry.imported') return;
  const s = sourceCounts(into, codeId!, sourceId!);
  s.n += n;
  if (runId !== null) s.runs.add(runId);
}

/** The counts of one code id and source (rows), made empty if new: a caller may keep it and count into it. */
export function sourceCounts(into: LogCounts, codeId: number, sourceId: number): { codeId: number; sourceId: number; n: number; runs: Set<number> } {
  let bySource = into.sources.get(codeId);
  if (!bySource) into.sources.set(codeId, (bySource = new Map()));
  let s = bySource.get(sourceId);
  if (!s) bySource.set(sourceId, (s = { codeId, sourceId, n: 0, runs: new Set() }));
  return s;
}

type Stored = { runs: number[]; sources: [codeId: number, sourceId: number, n: number, runs: number[]][] };

const byNumber = (a: number, b: number) => a - b;

/** As JSON text, sorted: equal counts give equal text. */
export function logCountsText(c: LogCounts): string {
  const sources = [...c.sources.values()].flatMap((m) => [...m.values()]).sort((a, b) => a.codeId - b.codeId || a.sourceId - b.sourceId).map((s) => [s.codeId, s.sourceId, s.n, [...s.runs].sort(byNumber)]);
  return JSON.stringify({ runs: [...c.runs].sort(byNumber), sources });
}

export const encodeLogCounts = (c: LogCounts): Uint8Array => deflateSync(logCountsText(c), { level: 1 });

export function decodeLogCounts(bytes: Uint8Array): LogCounts {
  const j = JSON.parse(inflateSync(bytes).toString()) as Stored;
  const c = emptyLogCounts();
  for (const r of j.runs) c.runs.add(r);
  for (const [codeId, sourceId, n, runs] of j.sources) {
    let bySource = c.sources.get(codeId);
    if (!bySource) c.sources.set(codeId, (bySource = new Map()));
    bySource.set(sourceId, { codeId, sourceId, n, runs: new Set(runs) });
  }
  return c;
}

/** The counts of the log up to `until`: from the newest why-checkpoint before it that holds them, plus the events since. */
export function logCountsUntil(sql: Sql, profileId: number, until = Number.MAX_SAFE_INTEGER): LogCounts {
  const row = sql.get<{ position: number; counts: Uint8Array }>('select position, counts from why_checkpoints where profile_id = ? and position <= ? order by position desc limit 1', profileId, until);
  let from: LogCounts | null = null;
  try {
    from = row ? decodeLogCounts(row.counts) : null;
  } catch {
    // Derived data: an unreadable one costs time, not the answer (verify names it).
  }
  return from ? countLog(sql, profileId, from, row!.position, until) : countLog(sql, profileId, emptyLogCounts(), 0, until);
}
