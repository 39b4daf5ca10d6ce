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
 * On-stack replacement off while an observation ingest runs (Symbol.for('pgo-ledger.ingestFlags'),
 * which the library calls around one and leaves alone where it is unset). Its batch loops
 * (decode, intern, insert, fold) run once a batch, 10,000 events a call: V8 compiled each
 * twice, once to enter the running loop and again for the next call (the fold's two: 18 and
 * 70 ms of TurboFan, --trace-opt). Off, each is compiled once, for its next batch: a 250k-line
 * file parsed on the main thread took 0.71-0.77 CPU-s against 0.75-0.86 (6 pairs), with its
 * worker 1.04-1.12 against 1.10-1.21 (4 pairs). Set back at the end of the ingest, so
 * that every other command, and the code cache the build writes at exit, see V8's flags as
 * raise() set them; given back to Node's own flags with the budget while a worker starts.
 */
const NO_OSR = '--no-use-osr';
const OSR = '--use-osr';

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
  /** Observation ingests under way (see ingestFlags below): on-stack replacement is off while one is. */
  let ingests = 0;
  globalThis[Symbol.for('pgo-ledger.nodeFlags')] = () => {
    if (ingests !== 0) v8.setFlagsFromString(OSR);
    v8.setFlagsFromString(OWN);
    const again = () => {
      v8.setFlagsFromString(RAISED);
      if (ingests !== 0) v8.setFlagsFromString(NO_OSR);
    };
    if (v8.cachedDataVersionTag() === own) return again;
    again();
    return () => {};
  };
  globalThis[Symbol.for('pgo-ledger.ingestFlags')] = () => {
    if (ingests++ === 0) v8.setFlagsFromString(NO_OSR);
    let back = false;
    return () => {
      if (back) return;
      back = true;
      if (--ingests === 0) v8.setFlagsFromString(OSR);
    };
  };
};
