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
export function codeKey(c: CodeId): string {
  return `${c.file_hash}\u0000${c.firstlineno}\u0000${c.name}`;
}

/** `str(CodeId)`: `hash(<file_hash>)<filename>:<firstlineno>:<name>`. */
export function codeIdText(c: CodeId): string {
  return `hash(${c.file_hash})${c.filename}:${c.firstlineno}:${c.name}`;
}
