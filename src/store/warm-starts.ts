import type { Sql } from './database.ts';
import { eachImportedEvent, importedBodies } from './imported-events.ts';
import type { Dictionaries } from './log.ts';
import { retractionsIn, type Window } from './window.ts';
import { listed } from './known.ts';
import { snapshotKind } from '../model/snapshot-kind.ts';

/** A snapshot ingested with no run (a profile pickle, a mega-cache, a remote value) that carries what a run brought. */
export interface CarrierSnapshot {
  format: string;
  /** The file (or key) it was read from. */
  origin: string;
  /** Its first event in the profile. */
  position: number;
}

/** Carriers as the notes say them and the library gives them (retractRun's `carried`). */
export interface CarriersSaid {
  runs: readonly string[];
  snapshots: readonly CarrierSnapshot[];
}

/** A CarrierSnapshot with its import (imports' id): its entries are the events of the profile whose body names it (why reads them). */
export interface CarrierImport extends CarrierSnapshot {
  importId: number;
}

/** What carries what a run brought to a profile: later runs that warm-started, and snapshots with no run. */
export interface Carriers {
  runs: string[];
  snapshots: CarrierImport[];
}

/**
 * What carries what a run brought to a profile, whatever `retract` leaves out of it: the runs
 * that warm-started (a trace's get_*_code_state: the profile PyTorch loaded at start) after
 * the run first wrote the profile (its first put_*_code_state), and the snapshots ingested with
 * no run (a profile pickle, a mega-cache, a remote value, each a file PyTorch wrote) later than
 * that (or than the run's first event, for a run no trace wrote). PyTorch writes each profile
 * as what it loaded joined with what it saw, so they hold the run's effects: leaving the run
 * out undoes nothing they wrote. Event times decide (PyTorch's clock; a snapshot's is its
 * file's), and runs the window leaves out carry nothing. A profile with no imported entry has none.
 */
export function warmStartCarriers(sql: Sql, dict: Dictionaries, profileId: number, w: Window): (run: string) => Carriers {
  const none = () => ({ runs: [], snapshots: [] });
  const kindOf = new Map<number, 'put' | 'get' | number>();
  for (const { id, body: b } of importedBodies(sql, dict)) {
    const importId = (b.stored as { import_id?: number | null }).import_id;
    const kind = snapshotKind(b.format);
    if (kind) kindOf.set(id, kind);
    else if (b.format !== 'merge' && typeof importId === 'number') kindOf.set(id, importId); // a kept snapshot
  }
  if (!kindOf.size) return none;
  const firstPut = new Map<string, number>();
  const gets: { run: string; time: number }[] = [];
  // by import: its first event in the profile (with no run)
  const snapshots = new Map<number, { position: number; time: number; bodyId: number }>();
  eachImportedEvent(sql, dict, profileId, w, false, (e) => {
    const k = kindOf.get(e.bodyId);
    if (k === undefined) return;
    if (typeof k === 'number') {
      if (e.run === null && !snapshots.has(k)) snapshots.set(k, { position: e.position, time: e.time, bodyId: e.bodyId });
      return;
    }
    if (e.run === null) return;
    if (k === 'put') firstPut.set(e.run, Math.min(e.time, firstPut.get(e.run) ?? Infinity));
    else gets.push({ run: e.run, time: e.time });
  });
  if (!snapshots.size && (!gets.length || !firstPut.size)) return none;
  // named by its first event here, its own format and origin: one import row stands for every
  // snapshot of the same bytes, whichever profile and file it came in first as (trial s26d: a
  // Redis value was named as another profile's pickle of the same bytes)
  const origins = new Map<number, { format: string; origin: string }>();
  const named = (id: number) => {
    let o = origins.get(id);
    if (!o) {
      const s = snapshots.get(id)!;
      const origin = sql.get<{ origin: string }>('select o.origin from events e join origins o on o.id = e.origin_id where e.position = ?', s.position)?.origin ?? '?';
      origins.set(id, (o = { format: dict.body(s.bodyId).format ?? 'snapshot', origin }));
    }
    return o;
  };
  return (run) => {
    // a run no trace wrote: from its first event in the profile
    const t = firstPut.get(run) ?? (snapshots.size ? firstTime(sql, profileId, run) : undefined);
    if (t === undefined) return none();
    const runs: string[] = [];
    for (const g of gets) if (g.run !== run && g.time > t && !runs.includes(g.run)) runs.push(g.run);
    const snaps: CarrierImport[] = [];
    for (const [id, s] of snapshots) if (s.time > t) snaps.push({ ...named(id), position: s.position, importId: id });
    return { runs, snapshots: snaps };
  };
}

/** The time of a run's first event in a profile (profile_runs keeps its position), undefined where it has none. */
function firstTime(sql: Sql, profileId: number, run: string): number | undefined {
  const r = sql.get<{ time: number | string }>('select e.time from profile_runs pr join runs r on r.id = pr.run_id join events e on e.position = pr.first_position where pr.profile_id = ? and r.run = ?', profileId, run);
  return r === undefined ? undefined : Number(r.time);
}

/**
 * How a run is left out: by `retract` (in the log), or by `--exclude-run` (a read-time what-if,
 * window.ts); the advice names the same way for the runs that carry it.
 */
export type LeaveOut = 'retract' | 'exclude';

/** `run r1`, `runs r1, r2`. */
export function runsWord(runs: readonly string[]): string {
  return runs.length > 1 ? `runs ${runs.join(', ')}` : `run ${runs[0]}`;
}

/**
 * Snapshots by file, each named once with its positions (`the pickle snapshot F (#70, #92)`):
 * one file read several times (a watch of a cache folder that PyTorch rewrites after each run)
 * is one name (trial s27a: the same path three times).
 */
export function snapshotFiles(snapshots: readonly CarrierSnapshot[]): string[] {
  const files = new Map<string, number[]>();
  for (const x of snapshots) {
    const k = `the ${x.format} snapshot ${x.origin}`;
    const at = files.get(k);
    if (at) at.push(x.position);
    else files.set(k, [x.position]);
  }
  return [...files].map(([k, at]) => `${k} (#${at.join(', #')})`);
}

/** What leaving out `runs` leaves in place, in the words `why`, `retract` and `--exclude-run` use (carriers: warmStartCarriers'). */
export function carriedAdvice(runs: readonly string[], carriers: CarriersSaid, how: LeaveOut = 'retract'): string {
  const what = runsWord(runs);
  const out: string[] = [];
  const c = carriers.runs;
  if (c.length) {
    const them = runsWord(c);
    const too = how === 'retract' ? `retract ${c.length > 1 ? 'them' : 'it'} too (${c.map((r) => `pgo-ledger retract --run ${r}`).join('; ')})` : `leave ${c.length > 1 ? 'them' : 'it'} out too (${c.map((r) => `--exclude-run ${r}`).join(' ')})`;
    out.push(`${them} warm-started from a profile that held what ${what} brought (get_*_code_state), and PyTorch writes what it loaded into each profile it writes, so ${c.length > 1 ? 'their profiles still carry' : 'its profile still carries'} it: ${too} to leave out all that ${what} brought`);
  }
  const files = snapshotFiles(carriers.snapshots);
  if (files.length) {
    const many = files.length > 1;
    const them = files.join(', ');
    out.push(`${them}, ingested with no run and written later than ${what} (by ${many ? 'their files\' times' : 'its file\'s time'}: a copy that did not keep it tells otherwise), ${many ? 'hold' : 'holds'} what ${what} brought too (PyTorch writes what it loaded into each profile it writes): no run names ${many ? 'them' : 'it'}, so no ${how === 'retract' ? 'retraction' : '--exclude-run'} leaves ${many ? 'them' : 'it'} out`);
  }
  return `but ${out.join('; and ')}`;
}

/** Whether anything carries what the run brought (carriedAdvice has something to say). */
export const carriesAny = (c: CarriersSaid): boolean => c.runs.length > 0 || c.snapshots.length > 0;

/** The note for a profile where `carriers` carry what the run left out (by `retract`, or `--exclude-run`) brought. */
export function carriedNote(run: string, cacheKey: string, carriers: CarriersSaid, how: LeaveOut = 'retract'): string {
  const left = how === 'retract' ? `run ${run} is left out of its answers` : `--exclude-run ${run} leaves it out of this answer`;
  return `pgo-ledger: note: ${cacheKey}: ${left}, ${carriedAdvice([run], carriers, how)}\n`;
}

/**
 * The what-if's note (`--exclude-run`): for each run the window leaves out as a what-if, in
 * each profile it is in, what still carries what it brought there within the window (the
 * runs that warm-started from it and the later snapshots with no run: warmStartCarriers', the
 * other runs left out carrying nothing), in the words retract's note uses; where the window
 * holds the run's retraction, that it changes nothing. Empty where nothing is to be said.
 * With `profileId` (the profile an answer reads), only that profile's notes, and where it holds
 * no event of the run, that the what-if changes nothing there (trial s35b: a run of another job
 * left out, silently).
 */
export function excludedRunNotes(sql: Sql, dict: Dictionaries, w: Window, profileId?: number): { cacheKey: string; run: string; note: string; retracted: boolean }[] {
  const notes: { cacheKey: string; run: string; note: string; retracted: boolean }[] = [];
  for (const run of new Set(w.excludeRuns ?? [])) {
    const others = (w.excludeRuns ?? []).filter((r) => r !== run);
    const all = sql.allRaw('select p.id, p.cache_key from profile_runs pr join runs r on r.id = pr.run_id join profiles p on p.id = pr.profile_id where r.run = ? order by p.cache_key', run);
    const rows = profileId === undefined ? all : all.filter(([pid]) => Number(pid) === profileId);
    if (profileId !== undefined && !rows.length) {
      const cacheKey = String(sql.allRaw('select cache_key from profiles where id = ?', profileId)[0]?.[0] ?? profileId);
      const where = all.map(([, k]) => String(k));
      notes.push({ cacheKey, run, note: `pgo-ledger: note: ${cacheKey}: --exclude-run ${run} changes nothing here: run ${run} has no events in this profile (its events are in ${listed(where)})\n`, retracted: false });
      continue;
    }
    for (const [pid, cacheKey] of rows) {
      // a run the window's retractions leave out already: the what-if changes nothing there (trial s34b: no word)
      const retracted = retractionsIn(sql, Number(pid), { ...w, excludeRuns: [] }, dict).find((r) => r.run === run);
      if (retracted) {
        notes.push({ cacheKey: String(cacheKey), run, note: `pgo-ledger: note: ${String(cacheKey)}: --exclude-run ${run} changes nothing here: run ${run} was retracted at #${retracted.position}, and answers leave it out already\n`, retracted: true });
        continue;
      }
      const carriers = warmStartCarriers(sql, dict, Number(pid), { ...w, excludeRuns: others })(run);
      if (!carriesAny(carriers)) continue;
      notes.push({ cacheKey: String(cacheKey), run, note: carriedNote(run, String(cacheKey), carriers, 'exclude'), retracted: false });
    }
  }
  return notes;
}
