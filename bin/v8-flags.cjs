'use strict';
// The command line's V8 flags (bin/pgo-ledger.cjs sets them before compiling anything).
const v8 = require('node:v8');

/**
 * V8 hands a function to TurboFan once it has run its interrupt budget of bytecode (66 KB by
 * default). A command runs many functions a short while each, and compiling them cost more
 * than running them: TurboFan was a fifth of the instructions of `ingest --kind trace` of 200
 * traces (cachegrind). With sixteen times the budget the short-lived ones stay on the baseline
 * tiers and the hot loops still reach TurboFan. Process-wide, so workers share it.
 */
const RAISED = '--interrupt-budget=1081344';
/** V8's own budget (`node --v8-options`): setting it back gives back Node's own flags. */
const OWN = '--interrupt-budget=67584';

/**
 * A worker thread compiles the Node modules it starts with (its bootstrap, the ES module
 * loader, worker_threads) from Node's code cache only under the flags Node was built with:
 * under the raised budget a worker took ~75 ms of CPU to start, ~37 under Node's own. So the
 * ingest starts its parse worker under Node's flags (Symbol.for('pgo-ledger.nodeFlags'), which
 * the library leaves alone where it is unset) and raises the budget again once the worker runs
 * its own code. Where setting the budget back does not give Node's flags back (another Node, a
 * flag given on the command line), it leaves the flags as they are.
 */
exports.raise = function raise() {
  const own = v8.cachedDataVersionTag();
  v8.setFlagsFromString(RAISED);
  globalThis[Symbol.for('pgo-ledger.nodeFlags')] = () => {
    v8.setFlagsFromString(OWN);
    if (v8.cachedDataVersionTag() === own) return () => v8.setFlagsFromString(RAISED);
    v8.setFlagsFromString(RAISED);
    return () => {};
  };
};
