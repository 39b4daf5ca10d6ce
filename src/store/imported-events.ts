import type { Sql } from './database.ts';
import type { Body, Dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/** An entry.imported event of a profile, as its readers here need it. */
export interface ImportedEvent {
  position: number;
  time: number;
  bodyId: number;
  /** Its code id's row (null: none, as a hostile row may have). */
  codeRow: number | null;
  run: string | null;
  /** A trace's snapshot: the compile that put or loaded it (as the trace names it, `0/0 (2nd)` after a reset). */
  compileId: string | null;
}

/** entry.imported events read a query. */
const PAGE = 1024;

/**
 * A profile's entry.imported events that the window folds (window.ts's rule: position, time,
 * runs left out or retracted in it), in position order or newest first, until `visit` returns
 * true. A ledger with no imported entry at all is told by the bodies' index, without reading
 * the log (a log of observation lines has none).
 */
export function eachImportedEvent(sql: Sql, dict: Dictionaries, profileId: number, w: Window, newestFirst: boolean, visit: (e: ImportedEvent) => boolean | void): void {
  if (!sql.get("select 1 as one from bodies where kind = 'entry.imported' limit 1")) return;
  const left = leftOutRuns(sql, profileId, w, dict);
  const page = `select position, time, body_id, run_id, code_id, compile_id from events where profile_id = ? and kind = 'entry.imported' and ${newestFirst ? 'position < ? order by position desc' : 'position > ? order by position'} limit ${PAGE}`;
  for (let bound = newestFirst ? Number.MAX_SAFE_INTEGER : 0; ; ) {
    const rows = sql.allRaw(page, profileId, bound);
    for (const r of rows) {
      const position = Number(r[0]);
      const time = Number(r[1]);
      if (!inWindow(w, position, time)) continue;
      const run = r[3] === null ? null : dict.run(Number(r[3]));
      if (run !== null && left.has(run)) continue;
      if (visit({ position, time, bodyId: Number(r[2]), codeRow: r[4] === null ? null : Number(r[4]), run, compileId: r[5] === null ? null : String(r[5]) })) return;
    }
    if (rows.length < PAGE) return;
    bound = Number(rows[rows.length - 1][0]);
  }
}

/**
 * The ledger's entry.imported bodies with their ids: what a snapshot brought is a few bodies
 * (each snapshot's format and import in its payload), and a log of observation lines has none.
 */
export function importedBodies(sql: Sql, dict: Dictionaries): { id: number; body: Body }[] {
  return sql.allRaw("select id from bodies where kind = 'entry.imported'").map((r) => ({ id: Number(r[0]), body: dict.body(Number(r[0])) }));
}
