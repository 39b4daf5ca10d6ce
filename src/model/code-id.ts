/**
 * `CodeId`: a compiled code object. Equality ignores `filename` (a restarted job may run
 * the same file from another path); a profile keeps the first filename it saw.
 */
export interface CodeId {
  readonly filename: string;
  readonly firstlineno: number;
  readonly name: string;
  readonly file_hash: string;
}

/** The identity PyTorch's `__eq__`/`__hash__` use: everything but the filename. */
const keys = new WeakMap<CodeId, string>();
export function codeKey(c: CodeId): string {
  // Memoised per object: the store hands the fold one shared CodeId per code row.
  let k = keys.get(c);
  if (k === undefined) keys.set(c, (k = `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}`));
  return k;
}

/** `str(CodeId)`: `hash(<file_hash>)<filename>:<firstlineno>:<name>`. */
export function codeIdText(c: CodeId): string {
  return `hash(${c.file_hash})${c.filename}:${c.firstlineno}:${c.name}`;
}
