import { after, before } from 'node:test';

/** Sets an environment variable for the tests of the enclosing describe, and puts it back after them. */
export function envDuring(name: string, value: string): void {
  let was: string | undefined;
  before(() => {
    was = process.env[name];
    process.env[name] = value;
  });
  after(() => {
    if (was === undefined) delete process.env[name];
    else process.env[name] = was;
  });
}
