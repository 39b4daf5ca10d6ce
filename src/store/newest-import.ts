import type { Sql } from './database.ts';
import type { Dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/** Where a profile's entries last came in whole: an import's format and its snapshot's id (null: a trace artifact or a merge). */
export interface NewestImport {
  format: string;
  importId: number | null;
}

/** entry.imported events read a query, newest first. */
const PAGE = 256;

/**
 * The newest entry.imported event of the profile that the window folds (window.ts's rule:
 * position, time, runs left out or retracted in it), or null where it folds none (a profile
 * of observation lines). A ledger with no imported entry at all is told by the bodies' index,
 * without reading the log.
 */
export function newestImport(sql: Sql, dict: Dictionaries, profileId: number, w: Window): NewestImport | null {
  if (!sql.get("select 1 as one from bodies where kind = 'entry.imported' limit 1")) return null;
  const left = leftOutRuns(sql, profileId, w, dict);
  let before = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = sql.allRaw(
      "select position, time, body_id, run_id from events where profile_id = ? and kind = 'entry.imported' and position < ? order by position desc limit " + PAGE,
      profileId,
      before,
    );
    for (const r of rows) {
      const position = Number(r[0]);
      if (!inWindow(w, position, Number(r[1]))) continue;
      if (r[3] !== null && left.has(dict.run(Number(r[3])))) continue;
      const stored = dict.body(Number(r[2])).stored as { format: string; import_id: number | null };
      return { format: stored.format, importId: stored.import_id };
    }
    if (rows.length < PAGE) return null;
    before = Number(rows[rows.length - 1][0]);
  }
}
