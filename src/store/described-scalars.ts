import type { ScalarDescribed } from './events.ts';
import type { Ledger } from './ledger.ts';
import { describedEvents, type DescribedEvent } from './described-events.ts';
import type { Window } from './window.ts';

/**
 * One int (or float, with specialize_float=False) a compile was fed once its source was
 * dynamic, as the trace told it: Dynamo's symbol for it (`create_symbol`'s `val`, a
 * scalar.described event). A static one is specialized into the graph and has no symbol, so a
 * trace describes it nowhere (`why` counts it from the compile's record or snapshot).
 */
export interface DescribedScalar extends Omit<DescribedEvent, 'stored'> {
  /** An int (a string past 2**53), or a float by its repr. */
  value: ScalarDescribed['value'];
}

/** The scalars each compile of a profile was fed as symbols, in log order, over a window (as describedShapes). */
export function describedScalars(ledger: Ledger, profileId: number, window: Window = {}): DescribedScalar[] {
  return describedEvents(ledger, profileId, window, 'scalar.described').map(({ stored, ...e }) => ({ ...e, value: (stored as Pick<ScalarDescribed, 'value'>).value }));
}
