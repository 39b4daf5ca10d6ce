import { inputError } from '../errors.ts';
import { codeIdLabel, codeIdText, codeKey, type CodeId } from '../model/code-id.ts';
import { toPyInt } from '../model/int.ts';
import type { Ledger } from './ledger.ts';
import { storedCodeIds } from './views.ts';
import { isWholeLog, type Window } from './window.ts';
import { LISTED, windowWords } from './known.ts';

/**
 * The code ids a profile holds in a window, for matchCode: the whole log's from the stored
 * view's own columns, no entry read (a 50,000-code profile's `why --code` of one source loaded the whole view
 * twice: 6.05/6.09 CPU-s before, 3.45/4.27 after, `bench fleet`'s fleet-why), a window's from its fold.
 */
export function codeIdsIn(ledger: Pick<Ledger, 'sql' | 'fold'>, profileId: number, window: Window = {}): CodeId[] {
  return isWholeLog(window) ? storedCodeIds(ledger.sql, profileId) : [...ledger.fold(profileId, window).profile.codes.values()].map((c) => c.id);
}

/**
 * `code` (the command line's `--code REF`): which code ids a read means. REF is a function name (exactly: `f` is not
 * `forward`), `file:line:name` (the file as written or its last path parts), or the code id's
 * own text `hash(…)file:line:name` (with ` closure 0x…` for one closure of a function made
 * by a factory, PyTorch after 2.11). A closure is named with or without the `hash(…)`, in hex
 * as the answers show it or as the decimal int the data gives (observation lines, `--json`).
 * A name that several code ids share is ambiguous: the error lists them, so the user can pick one.
 */
export function matchCode(candidates: Iterable<CodeId>, ref: string, flag = 'code'): (c: CodeId) => boolean {
  // `flag`: how the caller names REF in an error (the library's field, the command line's flag)
  if (ref.trim() === '') throw inputError(`${flag} is empty: give a function name, file:line:name, or the code id text`);
  const all = distinctCodes(candidates);
  const { found, byLabel, byPlace } = codesNamed(all, ref);
  if (!found.length) throw inputError(`no code id matches ${flag} ${ref}${all.length ? ` (there are: ${listed(all)})` : ''}`);
  if (found.length > 1 && !byLabel) {
    const closures = new Set(found.map(codeIdText)).size < found.length;
    // the same function in two versions of its file (its hash changed between runs) has one file:line:name
    const places = new Set(found.map((c) => `${c.filename}:${c.firstlineno}:${c.name}`)).size;
    const how = closures
      ? 'the text shown, closure included (hash(…) may be left out; the closure in hex as shown, or as the decimal int the data gives)'
      : places < found.length
        ? `the code id text shown, hash(…) included (${places === 1 ? 'the same function in versions of its file' : 'some are one function in versions of its file'})`
        : byPlace
          ? 'file:line:name with more of the file\'s path, or the code id text shown'
          : 'file:line:name';
    throw inputError(`${flag} ${ref} is ambiguous: ${found.map(codeIdLabel).join(', ')}; pick one with ${how}`);
  }
  const keys = new Set(found.map(codeKey));
  return (c) => keys.has(codeKey(c));
}

/**
 * matchCode over the code ids a profile holds in a window (codeIdsIn). A code id the profile
 * holds but the window leaves out (a point before its first event, a run left out that alone
 * brought it) is said so, not read as a typo (trial s31: "no code id matches" of one there later).
 */
export function matchCodeIn(ledger: Pick<Ledger, 'sql' | 'fold'>, profileId: number, window: Window, ref: string, flag = 'code', ids = codeIdsIn(ledger, profileId, window)): (c: CodeId) => boolean {
  // `ids`: the window's code ids, where the caller folded the window already
  if (!isWholeLog(window) && ref.trim() !== '' && !codesNamed(distinctCodes(ids), ref).found.length) {
    const whole = codesNamed(distinctCodes(storedCodeIds(ledger.sql, profileId)), ref).found;
    if (whole.length) throw inputError(`no code id matches ${flag} ${ref}${windowWords(window)}: the profile holds ${listed(whole)} in its whole log, not in this window (a point before its first event, or runs left out that alone brought it)`);
    // the code ids listed are the window's: said so
    throw inputError(`no code id matches ${flag} ${ref}${windowWords(window)}${ids.length ? ` (there are, in this window: ${listed(distinctCodes(ids))})` : ''}`);
  }
  return matchCode(ids, ref, flag);
}

/** Labels of code ids, as many as an error lists (known.ts LISTED) and how many more (a fleet's profile holds 50,000). */
function listed(codes: readonly CodeId[]): string {
  const shown = codes.slice(0, LISTED).map(codeIdLabel).join(', ');
  return codes.length > LISTED ? `${shown} and ${codes.length - LISTED} more (show lists them)` : shown;
}

function distinctCodes(candidates: Iterable<CodeId>): CodeId[] {
  const distinct = new Map<string, CodeId>();
  for (const c of candidates) if (!distinct.has(codeKey(c))) distinct.set(codeKey(c), c);
  return [...distinct.values()];
}

/** The code ids REF names among `all` (matchCode's rule), and whether by a whole label or by a place. */
function codesNamed(all: readonly CodeId[], ref: string): { found: CodeId[]; byLabel: boolean; byPlace: boolean } {
  // The label (`… closure 0x…`) names one closure; the text alone names all closures of a function.
  const byLabel = all.filter((c) => codeIdLabel(c) === ref);
  const byText = byLabel.length ? byLabel : all.filter((c) => codeIdText(c) === ref);
  const byPlace = all.filter((c) => atPlace(c, ref));
  // one closure named otherwise than by its whole label: the text or the place, then the closure in hex or decimal
  const cm = /^(.*) closure (-?)(0x[0-9a-f]+|\d+)$/i.exec(ref);
  const closure = cm ? toPyInt((cm[2] ? -1n : 1n) * BigInt(cm[3])) : undefined;
  const byClosure = cm && !byLabel.length ? all.filter((c) => c.closure_hash != null && c.closure_hash === closure && (codeIdText(c) === cm[1] || atPlace(c, cm[1]))) : [];
  const byName = all.filter((c) => c.name === ref);
  const found = byText.length ? byText : byClosure.length ? byClosure : byPlace.length ? byPlace : byName;
  return { found, byLabel: byLabel.length !== 0, byPlace: found === byPlace };
}

/** `file:line:name`, the file as written or its last path parts. */
function atPlace(c: CodeId, ref: string): boolean {
  const m = /^(.*):(\d+):([^:]+)$/.exec(ref);
  return m !== null && c.firstlineno === Number(m[2]) && c.name === m[3] && (m[1] === c.filename || c.filename.endsWith(`/${m[1].replace(/^\.?\//, '')}`));
}
