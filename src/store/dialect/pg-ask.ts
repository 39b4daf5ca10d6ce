/**
 * The name of a read asked for ahead (Dialect.ask): its connection, statement and parameters.
 * Both sides of the PostgreSQL bridge key its answer by it (postgres.ts, pg-worker.ts); kept
 * apart from the worker's module so that the store's thread does not load pg with it.
 */
export const askKey = (id: number, text: string, params: readonly unknown[]): string => `${askPrefix(id)}${text}\u0000${JSON.stringify(params)}`;
/** What begins the askKey of every read of a connection. */
export const askPrefix = (id: number): string => `${id}\u0000`;
