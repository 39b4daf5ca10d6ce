import { compileOfAttempt } from '../codecs/trace/envelope.ts';

/**
 * The compile a trace's event is of, as a key: its run, its file and its compile id, a restarted
 * attempt (`5/0_1`: a graph break's) being the same frame, fed the same inputs; null for an
 * event of no compile (an observation line, a profile file). The file too: each process numbers
 * its compiles from 0/0, and several processes' logs ingested under one `--run` (a job's
 * restarts) had their compiles taken for one another's, their values counted once (trial s36b).
 */
export function compileOf(ev: { run: string | null; origin: string | null; compileId: string | null }): string | null {
  return ev.compileId === null ? null : `${ev.run ?? '\u0001'}\u0000${ev.origin ?? ''}\u0000${compileOfAttempt(ev.compileId)}`;
}
