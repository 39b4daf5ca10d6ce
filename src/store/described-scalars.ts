import type { ScalarDescribed } from './events.ts';
import type { Ledger } from './ledger.ts';
import { describedEvents, type DescribedEvent } from './described-events.ts';
import type { Window } from './window.ts';

/**
 * One int (or float) a compile was fed, as the trace told it (a scalar.described event):
 * Dynamo's symbol for it once its source was dynamic (`create_symbol`'s `val`), or the guard
 * that pins a static one, which is specialized into the graph (`EQUALS_MATCH`, `specialized`).
 */
export interface DescribedScalar extends Omit<DescribedEvent, 'stored'> {
  /** An int (a string past 2**53), or a float by its repr. */
  value: ScalarDescribed['value'];
  /** Specialized (static: a guard pins it), not a symbol. */
  specialized: boolean;
}

/** The scalars each compile of a profile was fed (symbols and guards), in log order, over a window (as describedShapes). */
export function describedScalars(ledger: Ledger, profileId: number, window: Window = {}): DescribedScalar[] {
  return describedEvents(ledger, profileId, window, 'scalar.described').map(({ stored, ...e }) => ({ ...e, value: (stored as ScalarDescribed).value, specialized: (stored as ScalarDescribed).specialized === true }));
}
