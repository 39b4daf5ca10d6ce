import type { CodeId } from '../model/code-id.ts';
import { toPyInt } from '../model/int.ts';
import { fieldsFromJson, plainsKey } from '../model/py-plain.ts';

/**
 * How a CodeId's newer fields sit in the codes and code_states columns: closure_hash as ''
 * (absent: the 2.11 layout), 'None', or the decimal int (any size); extra as '' or JSON.
 */
export function closureColumn(c: CodeId): string {
  return c.closure_hash === undefined ? '' : c.closure_hash === null ? 'None' : String(c.closure_hash);
}
export function extraColumn(c: CodeId): string {
  return c.extra?.length ? plainsKey(c.extra) : '';
}

/** A CodeId from its columns (the newer fields only where present, so 2.11 ids stay 4 fields). */
export function codeFromColumns(r: { filename: string; firstlineno: number; name: string; file_hash: string; closure_hash?: string; extra?: string }): CodeId {
  const id: { -readonly [K in keyof CodeId]: CodeId[K] } = { filename: r.filename, firstlineno: r.firstlineno, name: r.name, file_hash: r.file_hash };
  if (r.closure_hash) {
    if (r.closure_hash === 'None') id.closure_hash = null;
    else if (/^-?\d+$/.test(r.closure_hash)) id.closure_hash = toPyInt(BigInt(r.closure_hash));
    else throw new RangeError(`closure_hash ${JSON.stringify(r.closure_hash)} is not an int or None`);
  }
  if (r.extra) id.extra = fieldsFromJson(JSON.parse(r.extra));
  return id;
}
