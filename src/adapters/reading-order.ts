import { sep } from 'node:path';

/**
 * The order `ingest` and `watch` read the files under one path in: its TORCH_TRACE logs
 * (gzipped or not) first, in the order they began (`startOf`, then depth first in name order),
 * then its other files, depth first in name order. PyTorch logs
 * a run's records before (or as) it writes the profile file holding their result, so a file
 * read ahead of a log put its entries ahead of PyTorch's records, and history and `why` then
 * said the file, not PyTorch's record, made a dim dynamic. All the logs of the tree, not each
 * folder's: a job's trace folder and its cache folder side by side (`cache/dynamo/code_state_*.pkl`
 * sorts before `traces/`) hold one run's log and file. A file read after every log brings only
 * what no log told of (then the file did tell it), whatever run wrote it: a folder a run
 * (`run1/`, `run2/`) reads both logs, then both files. `paths` are the files under one path
 * (the names `join` made from it); a stable order, whatever order they come in.
 */
export function readingOrder(paths: readonly string[], isLog: (path: string) => boolean, startOf: (path: string) => string | null = () => null): string[] {
  const keyed = paths.map((path) => {
    const log = isLog(path);
    return { path, parts: path.split(sep), log, start: log ? startOf(path) : null };
  });
  keyed.sort((a, b) => {
    if (a.log !== b.log) return a.log ? -1 : 1;
    // the logs in the order their runs began (glog-start.ts), those that say none after them: a
    // job's TORCH_TRACE folder names its logs at random (dedicated_log_torch_trace_<random>.log),
    // and a log read after a later run's put its records after that run's load (trial s28a)
    if (a.start !== b.start) return a.start === null ? 1 : b.start === null ? -1 : a.start < b.start ? -1 : 1;
    const n = Math.min(a.parts.length, b.parts.length);
    // depth first in name order: as the folder's walk lists them, name by name
    for (let i = 0; i < n; i++) if (a.parts[i] !== b.parts[i]) return a.parts[i] < b.parts[i] ? -1 : 1;
    return a.parts.length - b.parts.length;
  });
  return keyed.map((k) => k.path);
}
