import { inputError } from '../errors.ts';
import { codeIdLabel, codeIdText, codeKey, type CodeId } from '../model/code-id.ts';

/**
 * `code` (the command line's `--code REF`): which code ids a read means. REF is a function name (exactly: `f` is not
 * `forward`), `file:line:name` (the file as written or its last path parts), or the code id's
 * own text `hash(…)file:line:name` (with ` closure 0x…` for one closure of a function made
 * by a factory, PyTorch after 2.11). A name that several code ids share is ambiguous: the
 * error lists them, so the user can pick one.
 */
export function matchCode(candidates: Iterable<CodeId>, ref: string, flag = 'code'): (c: CodeId) => boolean {
  // `flag`: how the caller names REF in an error (the library's field, the command line's flag)
  if (ref.trim() === '') throw inputError(`${flag} is empty: give a function name, file:line:name, or the code id text`);
  const distinct = new Map<string, CodeId>();
  for (const c of candidates) if (!distinct.has(codeKey(c))) distinct.set(codeKey(c), c);
  const all = [...distinct.values()];
  // The label (`… closure 0x…`) names one closure; the text alone names all closures of a function.
  const byLabel = all.filter((c) => codeIdLabel(c) === ref);
  const byText = byLabel.length ? byLabel : all.filter((c) => codeIdText(c) === ref);
  const m = /^(.*):(\d+):([^:]+)$/.exec(ref);
  const byPlace = m ? all.filter((c) => c.firstlineno === Number(m[2]) && c.name === m[3] && (m[1] === c.filename || c.filename.endsWith(`/${m[1].replace(/^\.?\//, '')}`))) : [];
  const byName = all.filter((c) => c.name === ref);
  const found = byText.length ? byText : byPlace.length ? byPlace : byName;
  if (!found.length) {
    throw inputError(`no code id matches ${flag} ${ref}${all.length ? ` (there are: ${all.map(codeIdLabel).join(', ')})` : ''}`);
  }
  if (found.length > 1 && !byLabel.length) {
    const closures = new Set(found.map(codeIdText)).size < found.length;
    throw inputError(`${flag} ${ref} is ambiguous: ${found.map(codeIdLabel).join(', ')}; pick one with ${closures ? 'the text shown, closure included' : 'file:line:name'}`);
  }
  const keys = new Set(found.map(codeKey));
  return (c) => keys.has(codeKey(c));
}
