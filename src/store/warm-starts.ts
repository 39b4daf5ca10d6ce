import type { Sql } from './database.ts';
import { eachImportedEvent } from './imported-events.ts';
import type { Dictionaries } from './log.ts';
import type { Window } from './window.ts';

/**
 * The runs that carry what a run brought to a profile, whatever `retract` leaves out of it:
 * those that warm-started (a trace's get_*_code_state: the profile PyTorch loaded at start)
 * after the run first wrote the profile (its first put_*_code_state). PyTorch writes each
 * run's profile as what it loaded joined with what it saw, so their snapshots hold the run's
 * effects: leaving the run out undoes nothing they wrote. Event times decide (PyTorch's
 * clock), and runs the window leaves out carry nothing. A profile no trace wrote has none.
 */
export function warmStartCarriers(sql: Sql, dict: Dictionaries, profileId: number, w: Window): (run: string) => string[] {
  const none = () => [];
  // PyTorch's snapshots are a few bodies; a log of observation lines has none
  const bodies = sql.allRaw("select id from bodies where kind = 'entry.imported'").map((r) => Number(r[0]));
  const kindOf = new Map<number, 'put' | 'get'>();
  for (const id of bodies) {
    const f = dict.body(id).format ?? '';
    if (/^put_\w*_code_state$/.test(f)) kindOf.set(id, 'put');
    else if (/^get_\w*_code_state$/.test(f)) kindOf.set(id, 'get');
  }
  if (!kindOf.size) return none;
  const firstPut = new Map<string, number>();
  const gets: { run: string; time: number }[] = [];
  eachImportedEvent(sql, dict, profileId, w, false, (e) => {
    const k = kindOf.get(e.bodyId);
    if (!k || e.run === null) return;
    if (k === 'put') firstPut.set(e.run, Math.min(e.time, firstPut.get(e.run) ?? Infinity));
    else gets.push({ run: e.run, time: e.time });
  });
  if (!gets.length || !firstPut.size) return none;
  return (run) => {
    const t = firstPut.get(run);
    if (t === undefined) return [];
    const out: string[] = [];
    for (const g of gets) if (g.run !== run && g.time > t && !out.includes(g.run)) out.push(g.run);
    return out;
  };
}

/** What retracting `runs` leaves in place, in the words `why` and `retract` use (carriers: warmStartCarriers'). */
export function carriedAdvice(runs: readonly string[], carriers: readonly string[]): string {
  const what = runs.length > 1 ? `runs ${runs.join(', ')}` : `run ${runs[0]}`;
  const them = carriers.length > 1 ? `runs ${carriers.join(', ')}` : `run ${carriers[0]}`;
  return `but ${them} warm-started from a profile that held what ${what} brought (get_*_code_state), and PyTorch writes what it loaded into each profile it writes, so ${carriers.length > 1 ? 'their profiles still carry' : 'its profile still carries'} it: retract ${carriers.length > 1 ? 'them' : 'it'} too (${carriers.map((r) => `pgo-ledger retract --run ${r}`).join('; ')}) to leave out all that ${what} brought`;
}

/** retract's note for a profile where `carriers` carry what the retracted run brought. */
export function carriedNote(run: string, cacheKey: string, carriers: readonly string[]): string {
  return `pgo-ledger: note: ${cacheKey}: run ${run} is left out of its answers, ${carriedAdvice([run], carriers)}\n`;
}
