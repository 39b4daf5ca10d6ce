import { inputError } from '../errors.ts';
import { codeIdLabel, codeIdText, codeKey, type CodeId } from '../model/code-id.ts';

/**
 * `--code REF`: which code ids a command means. REF is a function name (exactly: `f` is not
 * `forward`), `file:line:name` (the file as written or its last path parts), or the code id's
 * own text `hash(…)file:line:name`. A name that several code ids share is ambiguous: the
 * error lists them, so the user can pick one with `file:line:name`.
 */
export function matchCode(candidates: Iterable<CodeId>, ref: string): (c: CodeId) => boolean {
  const distinct = new Map<string, CodeId>();
  for (const c of candidates) if (!distinct.has(codeKey(c))) distinct.set(codeKey(c), c);
  const all = [...distinct.values()];
  const byText = all.filter((c) => codeIdText(c) === ref || codeIdLabel(c) === ref);
  const m = /^(.*):(\d+):([^:]+)$/.exec(ref);
  const byPlace = m ? all.filter((c) => c.firstlineno === Number(m[2]) && c.name === m[3] && (m[1] === c.filename || c.filename.endsWith(`/${m[1].replace(/^\.?\//, '')}`))) : [];
  const byName = all.filter((c) => c.name === ref);
  const found = byText.length ? byText : byPlace.length ? byPlace : byName;
  if (!found.length) {
    throw inputError(`no code id matches --code ${ref}${all.length ? ` (there are: ${all.map(codeIdLabel).join(', ')})` : ''}`);
  }
  if (found.length > 1 && !byText.length) {
    throw inputError(`--code ${ref} is ambiguous: ${found.map(codeIdLabel).join(', ')}; pick one with file:line:name`);
  }
  const keys = new Set(found.map(codeKey));
  return (c) => keys.has(codeKey(c));
}
