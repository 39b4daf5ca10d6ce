import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A folder `name` under `dir` holding `open` files and a subfolder `closed` (mode 000) holding
 * `hidden` files, plus a folder anyone may write a database into; `body` runs with them, and
 * the subfolder is opened again after. Root lists any folder: run the command as `as` (nobody
 * under root) for the subfolder to be closed to it.
 */
export function withClosedSubfolder(dir: string, name: string, files: { open: string[]; hidden: string[] }, body: (p: { top: string; closed: string; out: string; as: { uid?: number; gid?: number } }) => void): void {
  const top = join(dir, name);
  const closed = join(top, 'closed');
  const out = join(dir, `${name}-db`);
  mkdirSync(closed, { recursive: true });
  mkdirSync(out);
  for (const f of files.open) copyFileSync(f, join(top, f.split('/').pop()!));
  for (const f of files.hidden) copyFileSync(f, join(closed, f.split('/').pop()!));
  chmodSync(dir, 0o755);
  chmodSync(out, 0o777);
  chmodSync(closed, 0o000);
  try {
    body({ top, closed, out, as: process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {} });
  } finally {
    chmodSync(closed, 0o755);
  }
}
