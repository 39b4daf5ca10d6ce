/**
 * The tensors each compile of a trace described (describe_tensor/describe_source: Dynamo
 * describes every tensor input it fakes, which is every one it compares with the profile, a
 * view's base included: `._base`), to tell what a compile's `put_*_code_state` holds of its own
 * code that the compile was fed from what the run had loaded: the snapshot is the whole
 * profile, so a warm-started compile's put holds the entries of earlier runs' sources it never
 * had (a list grown shorter, an input that is no view now; trial s25c). Only tensors: an int is
 * described only once dynamic.
 */
export interface CompileInputs {
  /** A compile (compileOf) described the tensor of this codeKey-NUL-source. */
  described(compile: string, key: string): void;
  /** Whether a put's entry of this key (a tensor's, `size` a tuple) is one its compile loaded, not fed: it described tensors, this one not. */
  loadedOnly(compile: string, key: string, entry: { size: unknown }): boolean;
}

export function compileInputs(): CompileInputs {
  const by = new Map<string, Set<string>>();
  return {
    described(compile, key) {
      let s = by.get(compile);
      if (!s) by.set(compile, (s = new Set()));
      s.add(key);
    },
    loadedOnly(compile, key, entry) {
      const s = by.get(compile);
      return s !== undefined && Array.isArray(entry.size) && !s.has(key);
    },
  };
}
