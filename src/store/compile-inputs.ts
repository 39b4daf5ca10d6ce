import { UNSET } from '../model/atoms.ts';
import type { Dictionaries } from './log.ts';

/**
 * The inputs each compile of a trace described, to tell what a compile's `put_*_code_state`
 * holds of its own code that the compile was fed from what the run had loaded: the snapshot is
 * the whole profile, so a warm-started compile's put holds the entries of earlier runs' sources
 * it never had (a list grown shorter, an input that is no view now, trial s25c; a class
 * attribute the compile read from the instance instead, probe5's cfg).
 * - Tensors: Dynamo describes every tensor input it fakes (describe_tensor/describe_source),
 *   which is every one it compares with the profile, a view's base included (`._base`).
 * - Ints and floats: each is a symbol (create_symbol) or specialized and guarded (EQUALS_MATCH),
 *   both scalar.described. A compile whose guards were read (one specialized scalar at least)
 *   described every scalar it was fed; one with none is taken at its put's word (a ledger
 *   ingested before guards were read, a compile of no specialized scalar).
 */
export interface CompileInputs {
  /** An event of a log read in order: a shape.described or scalar.described of a compile (compileOf) describes the input of this codeKey-NUL-source. */
  seen(ev: { kind: string; bodyId: number }, compile: string | null, key: string): void;
  /** Whether a put's entry of this key is one its compile loaded, not fed: it described such inputs, this one not. */
  loadedOnly(compile: string, key: string, entry: { size: unknown; scalar: unknown }): boolean;
}

export function compileInputs(dict: Dictionaries): CompileInputs {
  const by = new Map<string, Set<string>>();
  const guarded = new Set<string>();
  return {
    seen(ev, compile, key) {
      if (compile === null || (ev.kind !== 'shape.described' && ev.kind !== 'scalar.described')) return;
      let s = by.get(compile);
      if (!s) by.set(compile, (s = new Set()));
      s.add(key);
      // a guard's (Dynamo specialized the scalar): the compile's guards were read
      if (ev.kind === 'scalar.described' && (dict.body(ev.bodyId).stored as { specialized?: boolean }).specialized === true) guarded.add(compile);
    },
    loadedOnly(compile, key, entry) {
      const s = by.get(compile);
      if (s === undefined || s.has(key)) return false;
      if (Array.isArray(entry.size)) return true;
      // a scalar's entry (a tensor's has its scalar unset)
      return guarded.has(compile) && entry.scalar !== UNSET && entry.scalar !== 'unset';
    },
  };
}

