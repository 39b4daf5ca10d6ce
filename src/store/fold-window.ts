import type { Sql } from './database.ts';
import { checkpointFor } from './checkpoints.ts';
import { emptyStream, fold, type FoldStep, type StreamView } from './fold.ts';
import { scanEvents, type Dictionaries, type LeanEvent } from './log.ts';
import { leftOutRuns, windowFolds, type Window } from './window.ts';

/**
 * A fresh fold of one profile over a window (window.ts says which events). Without `onStep`
 * it starts from the nearest checkpoint that folds what the window folds; with it, every
 * step is reported with the event's details (origin, compile), from the start of the log.
 */
export function foldWindow(sql: Sql, dict: Dictionaries, pid: number, window: Window, onStep?: (step: FoldStep, ev: LeanEvent) => void): StreamView {
  const excluded = leftOutRuns(sql, pid, window, dict);
  const cp = onStep ? null : checkpointFor(sql, pid, window, dict);
  const view = cp?.view ?? emptyStream();
  scanEvents(
    sql,
    { ...window, profileId: pid, afterPosition: cp?.position, details: onStep !== undefined },
    (ev) => {
      if (!windowFolds(ev, excluded)) return;
      const step = fold(view, ev);
      if (step && onStep) onStep(step, ev);
    },
    dict,
  );
  return view;
}
