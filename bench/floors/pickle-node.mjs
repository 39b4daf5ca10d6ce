// pgo-ledger's pickle codec on one file, timed in-process: one warm-up, then decode (and
// then encode) repeated for at least MS milliseconds and 3 times. Prints per-operation CPU
// (process.cpuUsage) and wall seconds. Usage: node pickle-node.mjs FILE.pkl MS [keep|drop]
// keep (the default, judged): each result is held until the next operation has made its own,
// as a caller holds the profile it loads. drop: each result is let go at once. pickle_cpython.py
// does the same in each mode.
import { readFileSync } from 'node:fs';
import { pickleProfile, unpickleProfile } from '../../dist/index.mjs';

const bytes = readFileSync(process.argv[2]);
const ms = Number(process.argv[3] ?? 1000);
const drop = process.argv[4] === 'drop';
function time(fn) {
  fn();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || performance.now() - t0 < ms) {
    fn();
    n++;
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6 / n, wall: wall / n, n };
}
let kept;
/** `op` timed in the mode asked: its result held until the next (keep) or let go at once (drop). */
const timed = (op) =>
  time(
    drop
      ? () => {
          op();
        }
      : () => {
          kept = op();
        },
  );
// No decode before the timed ones: one held here would shape V8's collections of the dropped ones.
const decode = timed(() => unpickleProfile(bytes));
const profile = unpickleProfile(bytes);
const encode = timed(() => pickleProfile(profile));
const out = pickleProfile(profile);
console.log(JSON.stringify({ decode, encode, codes: profile.codes.size, roundTrip: Buffer.from(out).equals(bytes) }));
