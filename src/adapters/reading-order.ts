import { sep } from 'node:path';

/**
 * The order `ingest` and `watch` read the files under one path in: depth first in name order,
 * except that each folder's TORCH_TRACE logs (gzipped or not) come before its other files and
 * its subfolders. PyTorch logs a run's records before (or as) it writes the profile file
 * holding their result: a file read ahead of its log put its entries ahead of PyTorch's
 * records, and history and `why` then said the file, not PyTorch's record, made a dim dynamic.
 * Per folder, not all logs of a tree first: a folder a run (`run1/`, `run2/`) reads as the runs
 * happened, each run's log and then its file. `paths` are the files under one path (the names
 * `join` made from it); a stable order, whatever order they come in.
 */
export function readingOrder(paths: readonly string[], isLog: (path: string) => boolean): string[] {
  // each path as its folders' names (rank 1) then its own name (rank 0 for a log, else 1)
  const keyed = paths.map((path) => {
    const parts = path.split(sep);
    return { path, parts, last: isLog(path) ? 0 : 1 };
  });
  keyed.sort((a, b) => {
    const n = Math.min(a.parts.length, b.parts.length);
    for (let i = 0; i < n; i++) {
      const ra = i === a.parts.length - 1 ? a.last : 1;
      const rb = i === b.parts.length - 1 ? b.last : 1;
      if (ra !== rb) return ra - rb;
      if (a.parts[i] !== b.parts[i]) return a.parts[i] < b.parts[i] ? -1 : 1;
    }
    return a.parts.length - b.parts.length;
  });
  return keyed.map((k) => k.path);
}
