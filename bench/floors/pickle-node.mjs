// pgo-ledger's pickle codec on one file, timed in-process: one warm-up, then decode (and
// then encode) repeated for at least MS milliseconds and 3 times. Prints per-operation CPU
// (process.cpuUsage) and wall seconds. Usage: node pickle-node.mjs FILE.pkl MS
import { readFileSync } from 'node:fs';
import { pickleProfile, unpickleProfile } from '../../dist/index.mjs';

const bytes = readFileSync(process.argv[2]);
const ms = Number(process.argv[3] ?? 1000);
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
let profile = unpickleProfile(bytes);
const decode = time(() => {
  profile = unpickleProfile(bytes);
});
let out = new Uint8Array();
const encode = time(() => {
  out = pickleProfile(profile);
});
console.log(JSON.stringify({ decode, encode, codes: profile.codes.size, roundTrip: Buffer.from(out).equals(bytes) }));
