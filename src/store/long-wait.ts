/**
 * What a store call that waits long does with SIGINT and SIGTERM. A PostgreSQL call blocks
 * the store's thread (postgres.ts: the bridge's Atomics.wait), and a JS signal handler runs only
 * once the event loop turns again, after the call: `watch`'s "finish the input under way"
 * handlers were honoured only when a server that stopped answering let go (600 s, trial s31).
 * A command that installs handlers (watch) asks here that while a call has waited longer than
 * a moment (the bridge's first slice, 1 s) the signals have their default action: the OS ends
 * the process at once (a shell reads 130 or 143), and the server rolls back the transaction under
 * way when its connection goes, so nothing is half written; what committed stays, as after
 * `kill -9`. A signal before that moment, or outside a call, is the handlers' as before (a call
 * that short ends in time for them). Removing the handlers is the only way to restore the
 * default action from JS; a signal that landed in the call's first second and was not yet handed
 * to them (they run after the call) is dropped with them, a narrow window.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let defaultActions = false;

/** Whether long store calls leave SIGINT and SIGTERM their default action (watch turns it on while it runs). */
export function signalsEndLongWaits(on: boolean): void {
  defaultActions = on;
}

/** Runs a wait that has already been long (see above). */
export function longWait<T>(wait: () => T): T {
  if (!defaultActions) return wait();
  const saved = SIGNALS.map((s) => [s, process.listeners(s)] as const);
  for (const [s, ls] of saved) for (const l of ls) process.off(s, l);
  try {
    return wait();
  } finally {
    for (const [s, ls] of saved) for (const l of ls) process.on(s, l as NodeJS.SignalsListener);
  }
}
