// The floors' line reader: 4 MiB reads, each cut at its last newline and split once. As fast
// as plain Node reads lines, so a floor is a floor.
import { closeSync, openSync, readSync } from 'node:fs';

/** Calls onLines with the file's lines, a batch per read; the last line may lack its newline. */
export function forEachLines(file, onLines) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  let carry = Buffer.alloc(0);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const end = chunk.lastIndexOf(10);
      if (end < 0) {
        carry = Buffer.from(chunk);
        continue;
      }
      onLines(chunk.toString('utf8', 0, end).split('\n'));
      carry = Buffer.from(chunk.subarray(end + 1));
    }
    if (carry.length) onLines([carry.toString('utf8')]);
  } finally {
    closeSync(fd);
  }
}
