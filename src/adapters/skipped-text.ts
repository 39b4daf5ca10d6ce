import { counted } from '../counted.ts';

/**
 * An input's skips in a summary line (`ingest`, `watch`): a trace's are problems of many kinds
 * (a line that is no glog line, a payload that fails its MD5, a PyTorch record whose compile's
 * compilation_metrics never came), each said with its line; "invalid lines" read as if only
 * lines went (trial s25b: a record dropped, unsaid there). Observation lines' are lines. Empty for none.
 */
export function skippedText(kind: string, n: number | undefined): string {
  if (!n) return '';
  // a folder's are its files' (trial s26a: a folder of traces said "invalid lines")
  return kind === 'observations' ? `, ${counted(n, 'invalid line')} skipped` : `, ${counted(n, 'problem')} said above (what each names skipped)`;
}
