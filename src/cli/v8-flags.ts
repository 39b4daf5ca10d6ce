import { setFlagsFromString } from 'node:v8';

/**
 * V8 hands a function to TurboFan once it has run its interrupt budget of bytecode (66 KB by
 * default). A command runs many functions a short while each, and compiling them cost more
 * than running them: TurboFan was a fifth of the instructions of `ingest --kind trace` of 200
 * traces (cachegrind). With sixteen times the budget the short-lived ones stay on the baseline
 * tiers and the hot loops still reach TurboFan. Imported first by main.ts, before any other
 * module runs; process-wide, so workers share it.
 */
setFlagsFromString('--interrupt-budget=1081344');
