import type { CodeId } from '../model/code-id.ts';
import type { Ledger } from './ledger.ts';
import { knownRead } from './known.ts';
import { dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/** One event of what a trace described, with its stored body. */
export interface DescribedEvent {
  position: number;
  time: number;
  run: string | null;
  compileId: string | null;
  code: CodeId;
  source: string;
  /** The input the event came from (its file, or what watch or pull named) and its line there. */
  origin: string | null;
  originLine: number | null;
  stored: unknown;
}

/**
 * A profile's events of one kind of what traces described (`shape.described`, by its partial
 * index; `scalar.described`, by the index of the events that name a compile, as every one
 * does), in log order, over a window (`--as-of`, `--exclude-run`, retractions).
 */
export function describedEvents(ledger: Ledger, profileId: number, window: Window, kind: 'shape.described' | 'scalar.described'): DescribedEvent[] {
  knownRead(ledger, profileId, window);
  const dict = dictionaries(ledger.sql);
  const out = leftOutRuns(ledger.sql, profileId, window, dict);
  const rows = ledger.sql.allRaw(
    `select position, time, run_id, compile_id, code_id, source_id, body_id, origin_id, origin_line from events where profile_id = ?${kind === 'scalar.described' ? ' and compile_id is not null' : ''} and kind = '${kind}' order by position`,
    profileId,
  );
  const events: DescribedEvent[] = [];
  for (const r of rows) {
    const position = r[0] as number;
    const time = r[1] as number;
    if (!inWindow(window, position, time)) continue;
    const run = r[2] === null ? null : dict.run(r[2] as number);
    if (run !== null && out.has(run)) continue;
    events.push({ position, time, run, compileId: r[3] as string | null, code: dict.code(r[4] as number), source: dict.source(r[5] as number), origin: r[7] === null ? null : dict.origin(r[7] as number), originLine: r[8] as number | null, stored: dict.body(r[6] as number).stored });
  }
  return events;
}
