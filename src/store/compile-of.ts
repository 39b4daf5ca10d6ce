import { compileOfAttempt } from '../codecs/trace/envelope.ts';

/**
 * The compile a trace's event is of, as a key: its run (or, where a trace named none, its file)
 * and compile id, a restarted attempt (`5/0_1`: a graph break's) being the same frame, fed the
 * same inputs; null for an event of no compile (an observation line, a profile file).
 */
export function compileOf(ev: { run: string | null; origin: string | null; compileId: string | null }): string | null {
  return ev.compileId === null ? null : `${ev.run ?? `\u0001${ev.origin ?? ''}`}\u0000${compileOfAttempt(ev.compileId)}`;
}
