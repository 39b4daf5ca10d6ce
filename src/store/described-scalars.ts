import type { CodeId } from '../model/code-id.ts';
import type { ScalarDescribed } from './events.ts';
import type { Ledger } from './ledger.ts';
import { knownRead } from './known.ts';
import { dictionaries } from './log.ts';
import { inWindow, leftOutRuns, type Window } from './window.ts';

/**
 * One int (or float, with specialize_float=False) a compile was fed once its source was
 * dynamic, as the trace told it: Dynamo's symbol for it (`create_symbol`'s `val`, a
 * scalar.described event). A static one is specialized into the graph and has no symbol, so a
 * trace describes it nowhere (`why` counts it from the compile's record or snapshot).
 */
export interface DescribedScalar {
  position: number;
  time: number;
  run: string | null;
  compileId: string | null;
  code: CodeId;
  source: string;
  /** An int (a string past 2**53), or a float by its repr. */
  value: ScalarDescribed['value'];
}

/** The scalars each compile of a profile was fed as symbols, in log order, over a window (as describedShapes). */
export function describedScalars(ledger: Ledger, profileId: number, window: Window = {}): DescribedScalar[] {
  knownRead(ledger, profileId, window);
  const dict = dictionaries(ledger.sql);
  const out = leftOutRuns(ledger.sql, profileId, window, dict);
  // every one names its compile: read by the index of those (migration 2026-11-30T13-40)
  const rows = ledger.sql.allRaw(
    "select position, time, run_id, compile_id, code_id, source_id, body_id from events where profile_id = ? and compile_id is not null and kind = 'scalar.described' order by position",
    profileId,
  );
  const scalars: DescribedScalar[] = [];
  for (const r of rows) {
    const position = r[0] as number;
    const time = r[1] as number;
    if (!inWindow(window, position, time)) continue;
    const run = r[2] === null ? null : dict.run(r[2] as number);
    if (run !== null && out.has(run)) continue;
    const b = dict.body(r[6] as number).stored as Pick<ScalarDescribed, 'value'>;
    scalars.push({ position, time, run, compileId: r[3] as string | null, code: dict.code(r[4] as number), source: dict.source(r[5] as number), value: b.value });
  }
  return scalars;
}
