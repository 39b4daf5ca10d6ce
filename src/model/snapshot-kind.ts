/**
 * What a TORCH_TRACE snapshot artifact is, by its name: PyTorch's `put_*_code_state` writes the
 * profile a run leaves (all it loaded joined with all it saw), its `get_*_code_state` is the
 * profile the run loaded at its start (a warm start): what earlier runs brought, none of it
 * seen by this one. Null for any other format (a pickle, a merge, observation lines).
 */
export function snapshotKind(format: string | null | undefined): 'put' | 'get' | null {
  if (!format) return null;
  if (/^put_\w*_code_state$/.test(format)) return 'put';
  if (/^get_\w*_code_state$/.test(format)) return 'get';
  return null;
}
