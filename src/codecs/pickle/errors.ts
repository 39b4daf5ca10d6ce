import { LedgerError } from '../../errors.ts';

/** A pickle that cannot be read: what is wrong and at which byte offset. */
export class PickleError extends LedgerError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`pickle: ${message} (at byte ${offset})`);
    this.name = 'PickleError';
    this.offset = offset;
  }
}

/** A pickle that decodes but does not hold a PGO profile (wrong shape or types). */
export class ProfileShapeError extends LedgerError {
  constructor(message: string) {
    super(`pickle holds no valid PGO profile: ${message}`);
    this.name = 'ProfileShapeError';
  }
}
