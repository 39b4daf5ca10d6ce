import type { FoldFilter, Ledger } from '../store/ledger.ts';

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

export function pointFilter(_l: Ledger, p: Point): FoldFilter {
  return { untilPosition: p.position, untilTime: p.time };
}
