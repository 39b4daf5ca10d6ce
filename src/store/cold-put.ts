import type { Evidence } from './why-fold.ts';

/**
 * Whether a dim turned dynamic by joining a put that PyTorch logged no record for, though it held a
 * static value where the profile held another: PyTorch's put is its whole profile, so that run never
 * loaded this one (probe13: a run on a host without the profile file starts cold, or one started
 * from another copy). PyTorch saw no change and its own profile after that run keeps the put's value;
 * the ledger joins every run's puts, as a run warm-started from the first would have.
 */
export function coldPut<E extends Evidence>(became: E | null, logged: unknown): became is E {
  return became !== null && logged === null && became.kind === 'entry.imported' && became.format?.startsWith('put_') === true && became.brought !== null && !became.brought.includes('?');
}
