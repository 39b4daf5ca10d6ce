import type { IngestWords } from '../ingest-words.ts';
import type { LeftOut } from '../left-out.ts';

/** What a follower is given for a pass. */
export interface FollowContext {
  now(): number;
  /** A log untouched this long is final (its last entry complete). */
  settleMs: number;
  /** One pass (`watch --once`): what waits for a later pass is said now, as this watch makes none. */
  once?: boolean;
  /** Said once where it matters (stderr). */
  note(message: string): void;
  /** An input that could not be taken (or a Redis away): said as a note, and counted for the pass (`watch --once` exits 2 on it). */
  fail(message: string): void;
  /**
   * Observation lines commit batch by batch: after each, the events the input still being read
   * appended so far; `null` once it is done (reported, or failed). A second signal says them.
   */
  reading?(input: string | null, appended: number): void;
  /** How a note asking which profile an input is for names the ways to say it (LineDefaults.words). */
  words?: IngestWords;
}

/** What one input gave in a pass (a status line, a --json line). */
export interface InputReport {
  /** The file's path, or the Redis key with where it is. */
  input: string;
  kind: string;
  /** A log: the bytes read before and after the pass. */
  from?: number;
  to?: number;
  appended: number;
  duplicates: number;
  records: number;
  /** A trace's problems said (each skipped what it names), in the pass that finds it final. */
  skipped?: number;
  /** Events of runs their profile retracted before: stored, left out of every answer (left-out.ts). */
  leftOut?: LeftOut;
  /** A log: bytes written but not read yet (a partial last line). */
  behindBytes?: number;
}
