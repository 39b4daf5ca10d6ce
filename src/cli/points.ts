import type { FoldFilter } from '../store/ledger.ts';

/** A point in the log: a position, or a time (ISO 8601). */
export interface Point {
  position?: number;
  time?: number;
}

export function parsePoint(s: string): Point {
  if (/^\d+$/.test(s)) return { position: Number(s) };
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`${JSON.stringify(s)} is neither a log position nor an ISO time`);
  return { time: t };
}

/** `--as-of` / `--from` / `--to` to a fold filter (the whole log when not given). */
export function pointFilter(s: string | undefined): FoldFilter {
  if (s === undefined) return {};
  const p = parsePoint(s);
  return { untilPosition: p.position, untilTime: p.time };
}
