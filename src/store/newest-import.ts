import type { Sql } from './database.ts';
import { eachImportedEvent } from './imported-events.ts';
import type { Dictionaries } from './log.ts';
import type { Window } from './window.ts';

/** Where a profile's entries last came in whole: an import's format and its snapshot's id (null: a trace artifact or a merge). */
export interface NewestImport {
  format: string;
  importId: number | null;
}

/**
 * The newest entry.imported event of the profile that the window folds, or null where it
 * folds none (a profile of observation lines).
 */
export function newestImport(sql: Sql, dict: Dictionaries, profileId: number, w: Window): NewestImport | null {
  let out: NewestImport | null = null;
  eachImportedEvent(sql, dict, profileId, w, true, (e) => {
    const stored = dict.body(e.bodyId).stored as { format: string; import_id: number | null };
    out = { format: stored.format, importId: stored.import_id };
    return true;
  });
  return out;
}
