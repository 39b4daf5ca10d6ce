import type { PyInt } from './int.ts';
import { plainRepr, plainsKey, type PyFields } from './py-plain.ts';

/**
 * `CodeId`: a compiled code object. Equality ignores `filename` (a restarted job may run
 * the same file from another path); a profile keeps the first filename it saw.
 */
export interface CodeId {
  readonly filename: string;
  readonly firstlineno: number;
  readonly name: string;
  readonly file_hash: string;
  /**
   * PyTorch after 2.11 (`CodeId.closure_hash: int | None`): the same factory-made function
   * under different closures is a different code id. `undefined`: the 2.11 layout (no such
   * field); `null`: the newer layout's None. Both are the same identity (None is the default).
   */
  readonly closure_hash?: PyInt | null;
  /** Fields of a newer layout that this version does not know: kept, and written back. */
  readonly extra?: PyFields;
}

/** The identity PyTorch's `__eq__`/`__hash__` use: everything but the filename. */
const keys = new WeakMap<CodeId, string>();
export function codeKey(c: CodeId): string {
  // Memoised per object: the store hands the fold one shared CodeId per code row.
  let k = keys.get(c);
  if (k === undefined) {
    k = codeKeyOnce(c);
    keys.set(c, k);
  }
  return k;
}
/** codeKey without the memo, for a CodeId keyed once (a decoded pickle's: fresh objects). */
export function codeKeyOnce(c: CodeId): string {
  let k = `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}`;
  if (c.closure_hash != null) k += `\u0000c${String(c.closure_hash)}`;
  if (c.extra?.length) k += `\u0000x${plainsKey(c.extra)}`;
  return k;
}

/** `str(CodeId)`: `hash(<file_hash>)<filename>:<firstlineno>:<name>` (closures print alike, as upstream). */
export function codeIdText(c: CodeId): string {
  return `hash(${c.file_hash})${c.filename}:${c.firstlineno}:${c.name}`;
}

/** Python's `hex()` of a closure hash: `0x2a`, `-0x7`. */
export function closureHex(h: PyInt): string {
  const b = BigInt(h);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
}

/**
 * The code id as pgo-ledger's own answers show it (why, history, diff, the report): the
 * `str()` text, plus `closure 0x…` where the closure tells two code ids apart, plus any
 * field of a newer layout.
 */
export function codeIdLabel(c: CodeId): string {
  let s = codeIdText(c);
  if (c.closure_hash != null) s += ` closure ${closureHex(c.closure_hash)}`;
  if (c.extra?.length) s += ` ${c.extra.map(([k, v]) => `${k}=${plainRepr(v)}`).join(' ')}`;
  return s;
}
