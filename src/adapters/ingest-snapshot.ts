import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { inputError, inputName, withContext } from '../errors.ts';
import { entryToJson } from '../codecs/entry-json.ts';
import { decodeMegaCache } from '../codecs/megacache.ts';
import { unpickleProfile } from '../codecs/pickle/index.ts';
import { cacheKeyOfRemoteKey, profileOfRemoteValue } from '../codecs/remote-value.ts';
import { cacheKey, formatCacheKey, parseCacheKey, rewriteMegaCacheKey } from '../model/cache-key.ts';
import type { Profile } from '../model/profile.ts';
import { codeIdLabel } from '../model/code-id.ts';
import { strayInferStrides } from '../model/stray-infer-strides.ts';
import { eventMs } from '../model/event-time.ts';
import { counted } from '../counted.ts';
import type { AppendResult, Ledger, NewEvent } from '../store/ledger.ts';
import { heldWholeByTraces, slotOf } from '../store/told-entries.ts';
import { retractedRuns } from '../store/retracted-runs.ts';
import { dictionaries } from '../store/log.ts';
import type { FileIngestOptions } from './ingest-file.ts';
import type { LineDefaults } from './observation-lines.ts';
import { flagsNotUsed } from './flags-not-used.ts';
import { readInput } from './read-lines.ts';
import { ingestWords } from './ingest-words.ts';

export interface SnapshotSource {
  /** What PyTorch wrote it as: 'pickle', 'remote-json', 'megacache', or a trace artifact name. */
  format: string;
  /** Where it came from (a path, a Redis key). */
  origin: string;
  /** The bytes kept in the imports table (the pickle, the whole bundle). */
  bytes: Uint8Array;
  run: string | null;
  time: number;
}

/**
 * One imported profile as entry.imported events, one per entry in PyTorch's order: each is
 * joined into the target (`|=`), so history and `why` can point at the import that changed
 * a dim. The snapshot itself is kept (deflated) in the imports table.
 */
export function importEvents(ledger: Ledger, profile: Profile, key: string, src: SnapshotSource, part = 0): NewEvent[] {
  return snapshotEvents(ledger, profile, key, src, part, false).events;
}

/**
 * A snapshot PyTorch wrote (a profile file, a remote value, a mega-cache artifact) as
 * importEvents makes them; none where it is, whole, a snapshot the profile's traces held
 * (`heldWholeByTraces`) or one appended before under the same key, and `told` counts its
 * entries (already in the log).
 */
export function fileSnapshotEvents(ledger: Ledger, profile: Profile, key: string, src: SnapshotSource, part = 0, earlier?: EarlierWrite): Made {
  return snapshotEvents(ledger, profile, key, src, part, true, earlier);
}

/**
 * The same profile's previous write in one container of many (a mega-cache bundle's pgo
 * artifacts, one per write after each compile, each the whole profile so far): each code id's
 * state there, as text. Filled in by each snapshot made with it, for the next.
 */
export type EarlierWrite = Map<string, string>;

/**
 * What PyTorch writes one profile write to: its local file, the remote cache's value (read as a
 * file or from Redis) and a mega-cache artifact. The same snapshot met again in another of them
 * is the same write, as one pickled with another protocol is (issue 9.2), under the same key and
 * run: not joined again (trial s31: the local pickle and then the remote value of one run made
 * `why` count each value twice).
 */
const CONTAINERS = ['pickle', 'remote-json', 'redis', 'megacache'];

/**
 * A snapshot's events; `byTraces` where its profile's traces held it whole (so no run given for
 * it is its), `retracted` where it is in the log already as a run's the profile retracted.
 */
export type Made = {
  events: NewEvent[];
  told: number;
  byTraces?: { run: string | null };
  retracted?: string;
  repeated?: number;
  /** The write it is, read again (isProfileNow): the run it is in the log as. */
  unchanged?: { run: string | null };
  /** Its digest's events in the profile before, newest (a run its profile retracted: `retracted`), where it is joined all the same. */
  prior?: Prior;
};

function snapshotEvents(ledger: Ledger, profile: Profile, key: string, src: SnapshotSource, part: number, mayBeTold: boolean, earlier?: EarlierWrite): Made {
  // each entry's JSON made once, for the digest and the events
  const rows = [...profile.codes.values()].map(({ id, state }) => [id, [...state.automaticDynamic].map(([source, entry]) => [source, entryToJson(entry)] as const)] as const);
  // Known by what it holds, not by its bytes: the same profile pickled with another protocol
  // (or memo layout) is the same import, and adds nothing the second time.
  const digest = createHash('sha256').update(profileDigestText(rows)).digest('hex');
  // a snapshot read before (its digest kept) may be the same write again (priorImport,
  // isProfileNow): a new one, the common case, is not looked for among the profile's events
  const seenBefore = mayBeTold && ledger.sql.get<{ one: number }>('select 1 as one from imports where digest = ?', digest) !== undefined;
  const importId = ledger.recordImport(src.format, src.origin, src.bytes, digest);
  const entries = rows.flatMap(([id, sources]) => sources.map(([source, json]) => ({ id, source, json })));
  // A code id whose whole state repeats the previous write's was not compiled since: its
  // entries are that write's again, no new sighting (trial s31: a bundle's 9 writes counted
  // L['a']._base "seen 5 times", the run's trace once). Joining them again changes nothing,
  // so none is made; a code id compiled again counts every source its frame had, as the trace does.
  const repeated = earlier ? repeatedEntries(rows, earlier) : null;
  const kept = (i: number) => repeated === null || !repeated.has(i);
  let lastKept = entries.length - 1;
  while (lastKept >= 0 && !kept(lastKept)) lastKept--;
  const eventAt = (i: number, format = src.format, at = part): NewEvent => {
    const { id, source, json } = entries[i];
    return {
      kind: 'entry.imported',
      cacheKey: key,
      payload: { code: id, source, entry: json, import_id: importId, format },
      time: src.time,
      keyedTime: false,
      run: src.run,
      origin: src.origin,
      originLine: null,
      idempotencyKey: `import\u0000${digest}\u0000${at}\u0000${key}\u0000${i}\u0000${source}`,
    };
  };
  const slots = () => new Map(entries.map((e) => [slotOf(e.id, e.source), JSON.stringify(e.json)]));
  const byTraces = mayBeTold ? heldWholeByTraces(ledger, key, slots) : null;
  if (byTraces) return { events: [], told: entries.length, byTraces };
  // The same snapshot appended before under this key (a run's file read again after the run, as
  // a fleet's ingest does after each run), from any of PyTorch's containers (CONTAINERS): its
  // events went in one transaction, all of them or none, so its last one held says all are.
  // None is made (a 250,000-entry profile read again: 8.34/8.42 CPU-s before, 3.38/3.44 after,
  // `bench fleet`'s fleet-reingest).
  // another container's write is at place 0 (a file, a value, a one-artifact bundle; trial s31:
  // a bundle's last artifact, the write the run's pickle holds, was looked for at its own place)
  const held = (format: string) => ledger.holds(eventAt(lastKept, format, format === src.format ? part : 0));
  if (mayBeTold && lastKept >= 0 && (held(src.format) || (CONTAINERS.includes(src.format) && CONTAINERS.some((f) => f !== src.format && held(f))))) {
    const pid = src.run === null ? undefined : ledger.profileByKey(key)?.id;
    return { events: [], told: entries.length, ...(pid !== undefined && retractedRuns(ledger, pid).includes(src.run!) ? { retracted: src.run! } : {}) };
  }
  const prior = seenBefore && CONTAINERS.includes(src.format) ? priorImport(ledger, key, importId) : null;
  if (prior && !prior.retracted && lastKept >= 0 && isProfileNow(ledger, prior.pid, new Map(entries.map((e) => [slotOf(e.id, e.source), comparedJson(e.json)])))) return { events: [], told: entries.length, unchanged: { run: prior.run } };
  const out: NewEvent[] = [];
  for (let i = 0; i < entries.length; i++) if (kept(i)) out.push(eventAt(i));
  return { events: out, told: entries.length - out.length, ...(repeated?.size ? { repeated: repeated.size } : {}), ...(prior ? { prior } : {}) };
}

/** The newest event of a snapshot's import (its digest's row) in its profile: its run, and whether the profile retracted it. */
interface Prior {
  pid: number;
  run: string | null;
  retracted: boolean;
}

/** Entry.imported events read a query, newest first (priorImport). */
const PRIOR_PAGE = 1024;

/**
 * The newest event of the import `importId` in the profile's log, retracted runs too (null:
 * none): where the same snapshot was joined before, and as which run's.
 */
function priorImport(ledger: Ledger, key: string, importId: number): Prior | null {
  const p = ledger.profileByKey(key);
  if (!p) return null;
  const dict = dictionaries(ledger.sql);
  const page = `select position, body_id, run_id from events where profile_id = ? and kind = 'entry.imported' and position < ? order by position desc limit ${PRIOR_PAGE}`;
  for (let bound = Number.MAX_SAFE_INTEGER; ; ) {
    const rows = ledger.sql.allRaw(page, p.id, bound);
    for (const r of rows) {
      if ((dict.body(Number(r[1])).stored as { import_id?: unknown }).import_id !== importId) continue;
      const run = r[2] === null ? null : dict.run(Number(r[2]));
      return { pid: p.id, run, retracted: run !== null && retractedRuns(ledger, p.id).includes(run) };
    }
    if (rows.length < PRIOR_PAGE) return null;
    bound = Number(rows[rows.length - 1][0]);
  }
}

/**
 * Whether the profile now (its stored view: the whole log folded) is, whole, the snapshot (slot to
 * its value's JSON). PyTorch writes a profile only when it changed (`put_code_state`: "no change,
 * skipping"), and what it writes is the whole profile so far: a snapshot joined into the profile
 * before (priorImport) that the profile now is again is that write read again (the file a run
 * that changed nothing left, read after it under its own `--run`, or none; a warm run's
 * mega-cache bundle holding the write it loaded; the run's pickle after its bundle), not joined
 * again (trial s32: a sighting more of each value, for a run that saw none). The profile now, not
 * the newest import: a bundle's earlier writes read after the run's pickle come later in the log
 * and change nothing of it (trial s33b).
 */
function isProfileNow(ledger: Ledger, pid: number, snapshot: ReadonlyMap<string, string>): boolean {
  const now = ledger.view(pid).profile;
  let n = 0;
  for (const { id, state } of now.codes.values()) {
    for (const [source, entry] of state.automaticDynamic) {
      if (snapshot.get(slotOf(id, source)) !== comparedJson(entryToJson(entry))) return false;
      n++;
    }
  }
  return n === snapshot.size;
}

/**
 * An entry's JSON as PyTorch compares entries: without the values a dim or int had before it
 * turned dynamic (`excluded_sizes`, `excluded_scalar`: compare=False), which the fold keeps
 * where a 2.11 file has none.
 */
function comparedJson(json: ReturnType<typeof entryToJson>): string {
  const { excluded_sizes: _s, excluded_scalar: _x, ...rest } = json as unknown as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** The indices (in entry order) of the entries of code ids whose state is `earlier`'s again; `earlier` then holds this write's. */
function repeatedEntries(rows: readonly (readonly [unknown, readonly (readonly [string, unknown])[]])[], earlier: EarlierWrite): Set<number> {
  const out = new Set<number>();
  const now: [string, string][] = [];
  let i = 0;
  for (const [id, sources] of rows) {
    const code = jsonText(id);
    const state = jsonText(sources);
    if (earlier.get(code) === state) for (let k = 0; k < sources.length; k++) out.add(i + k);
    now.push([code, state]);
    i += sources.length;
  }
  earlier.clear();
  for (const [code, state] of now) earlier.set(code, state);
  return out;
}

function profileDigestText(rows: readonly (readonly [unknown, readonly (readonly [string, unknown])[]])[]): string {
  return jsonText(rows);
}

const jsonText = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

/**
 * A file's name as PyTorch wrote it: a gzipped copy (`code_state_job_None_.pkl.gz`, read
 * through gunzip) is named by the file inside (trial s29a: its key was not told, exit 2).
 */
function unzippedName(file: string): string {
  return basename(file).replace(/\.gz$/i, '');
}

/** `code_state_<key>.pkl` back to its key (the file name replaced <>:"/\|?* by _, so the job may differ). */
export function keyFromFileName(file: string): string | null {
  const m = /^code_state_(.+)_(None|\d+)_(.*)\.pkl$/.exec(unzippedName(file));
  return m ? `${m[1]}:${m[2]}:${m[3]}` : null;
}

function keyFor(file: string, d: LineDefaults, note: (m: string) => void): string {
  const k = keyFromFileName(file);
  const w = ingestWords(d);
  if (d.job) {
    // --job alone sets the job (PyTorch's file name replaces some of its characters): the rank and
    // tag the name holds stay, said (trial s33b: two ranks' files read under --job went into one
    // profile, rank None's, and the second was taken for the first's write read again)
    let named: ReturnType<typeof parseCacheKey> | null = null;
    try {
      named = k === null ? null : parseCacheKey(k);
    } catch {
      // a name that reads as no key: the flags alone, as before
    }
    const rank = named !== null && d.rank === undefined && named.rank !== null;
    const tag = named !== null && d.tag === undefined && named.tag !== '';
    const key = cacheKey({ job: d.job, rank: rank ? named!.rank : (d.rank ?? null), tag: tag ? named!.tag : (d.tag ?? '') });
    const kept = [rank ? ['rank', w.rank] : null, tag ? ['tag', w.tag] : null].filter((x): x is string[] => x !== null);
    if (kept.length) note(`${inputName(file)}: profile key ${key}: ${w.job} as given, its ${kept.map(([n]) => n).join(' and ')} from the file name (give ${kept.map(([, f]) => f).join(' and ')} to set ${kept.length > 1 ? 'them' : 'it'})`);
    return key;
  }
  // the file's own fix first: watch takes no flags, so renaming is what a watched folder can do
  if (!k) throw inputError(`${inputName(file)}: cannot tell the profile's job from the file name (PyTorch names it code_state_<job>_<rank>_<tag>.pkl); give ${w.job} (and ${w.rank}/${w.tag})`);
  const named = parseCacheKey(k);
  // --rank/--tag with no --job: the job from the file name, they the rest (trial s31: dropped unsaid)
  if (d.rank !== undefined || d.tag !== undefined) {
    const given = formatCacheKey({ job: named.job, rank: d.rank === undefined ? named.rank : d.rank, tag: d.tag ?? named.tag });
    note(`${inputName(file)}: profile key ${given}, its job from the file name (characters PyTorch replaced by _ stay _; give ${w.job} to set it) and ${[d.rank !== undefined ? w.rank : '', d.tag !== undefined ? w.tag : ''].filter(Boolean).join(' and ')} as given`);
    return given;
  }
  note(`${inputName(file)}: profile key ${k} derived from the file name (characters PyTorch replaced by _ stay _; give ${w.job} to set it)`);
  return k;
}

/**
 * Said on stderr, the file read all the same: an InferStride naming a dim its tensor does not
 * have (a flipped byte: PyTorch keeps no checksum, so nothing else tells the file is damaged).
 */
function noteStrayStrides(file: string, profile: Profile, note: ((m: string) => void) | undefined, where = ''): void {
  if (!note) return;
  const stray = strayInferStrides(profile);
  // the first few, then a count (trial s36a: 993 lines for one oracle pickle)
  for (const x of stray.slice(0, STRAY_SAID)) {
    note(`${inputName(file)}${where}: ${codeIdLabel(x.code)} ${x.source} stride dim ${x.index}: InferStride(dim=${x.dim}) names a dim the tensor does not have (it has ${counted(x.rank, 'dim')}): kept as read, as PyTorch would load it (a profile pickle has no checksum); the file may be damaged`);
  }
  if (stray.length > STRAY_SAID) note(`${inputName(file)}${where}: and ${stray.length - STRAY_SAID} more strides whose InferStride names a dim the tensor does not have (${stray.length} in all), kept as read`);
}
const STRAY_SAID = 10;

type Summary = { appended: number; duplicates: number; skipped: number; records: number; leftOut?: Record<string, number>; waits?: string };

/** A snapshot of a profile whose log still holds a compile's records back (FileIngestOptions.waiting): nothing appended. */
const waits = (key: string): Summary => ({ appended: 0, duplicates: 0, skipped: 0, records: 0, waits: key });

/** Events a batch of a snapshot's append holds (ingest's batches of observation lines are as many). */
const SNAPSHOT_BATCH = 10_000;

type Appended = Pick<AppendResult, 'appended' | 'duplicates' | 'records' | 'leftOut'>;

/**
 * A snapshot's events appended in batches, inside the caller's one transaction (each ingest of a
 * snapshot is one, as issue 9.3 asks): all or none still, but each batch's prepared events and
 * rows are let go once it is folded (a 250,000-entry profile held all of them at once: 1683 MB
 * peak RSS, 1194 MB in batches, `bench fleet`).
 * `last` appends the last batch (watch saves its cursor with it).
 */
export function appendSnapshotEvents(ledger: Ledger, events: readonly NewEvent[], last: (events: NewEvent[]) => AppendResult = (e) => ledger.append(e)): Appended {
  const s: Appended = { appended: 0, duplicates: 0, records: 0 };
  for (let i = 0; ; i += SNAPSHOT_BATCH) {
    const batch = events.slice(i, i + SNAPSHOT_BATCH);
    const end = i + SNAPSHOT_BATCH >= events.length;
    const r = end ? last(batch) : ledger.append(batch);
    s.appended += r.appended;
    s.duplicates += r.duplicates;
    s.records += r.records;
    if (r.leftOut) for (const [run, n] of Object.entries(r.leftOut)) (s.leftOut ??= {})[run] = (s.leftOut[run] ?? 0) + n;
    if (end) return s;
  }
}

function append(ledger: Ledger, events: NewEvent[], told = 0): Summary {
  const r = appendSnapshotEvents(ledger, events);
  // an entry the profile's traces held is in the log already (fileSnapshotEvents)
  return { appended: r.appended, duplicates: r.duplicates + told, skipped: 0, records: r.records, ...(r.leftOut ? { leftOut: r.leftOut } : {}) };
}

function appendSnapshot(ledger: Ledger, made: Made, file: string, o: FileIngestOptions): Summary {
  const s = append(ledger, made.events, made.told);
  // said once the append stood, as every note of an input
  const note = heldNote(file, made, o);
  if (note) o.onNote?.(note);
  return s;
}

/**
 * What "already in the log" leaves unsaid of a snapshot: that it is a run's its profile retracted
 * (it stays out of every answer: trial s31 read it as held), or that a run given for one the
 * profile's traces hold whole is not its run, the trace's being (trial s31: `--run rZ` gave
 * "already in the log", then `retract --run rZ` found no events of it), as a flag a trace's key
 * leaves unused is said.
 */
function heldNote(file: string, made: Made, o: FileIngestOptions, where = ''): string | null {
  return snapshotNote(`${inputName(file)}${where}`, made, o.defaults?.run ?? null, ingestWords(o.defaults ?? {}).run);
}

/** heldNote of a snapshot read from anywhere (`pull`'s Redis entry: its key), named as `name`. */
export function snapshotNote(name: string, made: Made, run: string | null, flag = '--run'): string | null {
  if (made.retracted !== undefined) return `${name}: already in the log as run ${made.retracted}'s, which its profile retracted: it stays out of every answer (give another ${flag} to join it again)`;
  // the same run's write met again (in another container, or a folder's file after its log) says nothing
  if (made.unchanged && made.unchanged.run !== run) {
    const was = made.unchanged.run === null ? 'with no run' : `as run ${made.unchanged.run}'s`;
    const given = run === null ? '' : `${flag} ${run} not used: `;
    return `${name}: ${given}the same snapshot as the profile now, joined before ${was}: taken for that write read again (PyTorch writes a profile only when it changed: a run that changed nothing leaves the write before it), not joined again`;
  }
  // trial s33b: joined as another run's with no word, and why then blamed that run
  if (made.prior?.retracted && made.prior.run !== run) {
    // with no run there is no run to retract (trial s34a: "retract that too" of a run-less join)
    return `${name}: the same snapshot as run ${made.prior.run}'s, which its profile retracted: joined ${run === null ? `with no run, which no retraction leaves out (ingest such a file with ${flag} to keep it one a retraction can take back)` : `as run ${run}'s (retract that too to leave it out)`}`;
  }
  // the run of the log that holds it given (a run's folder, its log and file): nothing to say (trial s33b)
  if (made.byTraces && run !== null && made.byTraces.run !== run) return `${name}: ${flag} ${run} not used: the profile's TORCH_TRACE logs hold this snapshot whole, written by their run${made.byTraces.run === null ? '' : `, ${made.byTraces.run}`} (already in the log)`;
  return null;
}

function fileTime(file: string): number {
  // to the millisecond, as every event time (eventMs)
  return file === '-' ? Date.now() : eventMs(statSync(file).mtimeMs);
}

const originOf = (file: string) => (file === '-' ? 'stdin' : resolve(file));

/**
 * A remote value's profile key (issue 9.15): `--job`, else `--key`, else the key PyTorch wrote
 * beside it (`redis_key.txt` beside `redis_value.json`, or `<file>.key`).
 */
function remoteKeyFor(file: string, o: FileIngestOptions): string {
  const d = o.defaults ?? {};
  if (d.job) return cacheKey({ job: d.job, rank: d.rank ?? null, tag: d.tag ?? '' });
  const w = ingestWords(d);
  if (o.key !== undefined) return checkedKey(o.key, w.key);
  const name = unzippedName(file);
  const besides = file === '-' ? [] : [...new Set([name.replace(/value/g, 'key').replace(/\.json$/, '.txt'), `${name}.key`])].filter((b) => b !== basename(file));
  for (const beside of besides) {
    const text = readSmallFile(join(dirname(file), beside));
    if (text === undefined) continue;
    const k = checkedKey(text.trim(), join(dirname(file), beside));
    o.onNote?.(`${file}: profile key ${k} from ${join(dirname(file), beside)}`);
    return k;
  }
  const k = keyFromFileName(file);
  if (k) return keyFor(file, d, o.onNote ?? (() => {}));
  // where the key file would be read from is the one fix a watched folder takes (watch has no flags)
  const beside = besides.length ? ` (no ${besides.join(' or ')} beside it holds the key)` : '';
  throw inputError(`${inputName(file)}: cannot tell the remote value's profile key${beside}; give ${w.key} (pt2:dynamo-pgo::<job>:<rank>:<tag>:c1) or ${w.job}`);
}

function checkedKey(key: string, where: string): string {
  const k = cacheKeyOfRemoteKey(key) ?? key;
  try {
    parseCacheKey(k);
  } catch (e) {
    // the one error type, its cause kept (trial s28b: a plain Error, read by instanceof as a bug)
    throw inputError(`${where}: ${(e as Error).message}`, e);
  }
  if (/[\u0000-\u001f\u007f]|\p{Cs}/u.test(k)) throw inputError(`${where}: the key holds a control character or a lone surrogate`);
  return k;
}

/** A key file beside a value: a regular file of at most 4 KiB (a link to one too, as in a folder of links), opened without blocking; else undefined. */
function readSmallFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 4096) return undefined;
    const buf = Buffer.alloc(st.size);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, st.size, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A profile pickle (protocols 0 to 5), code_state_<key>.pkl or any name with --job. */
export async function ingestPickleFile(ledger: Ledger, file: string, o: FileIngestOptions): Promise<Summary> {
  const bytes = await readInput(file);
  // Issue 9.13: an empty file is no pickle (it used to pass as 0 observations).
  if (bytes.length === 0) throw inputError(`${inputName(file)}: empty file, not a pickle`);
  const profile = withFile(file, () => unpickleProfile(bytes));
  const key = keyFor(file, o.defaults ?? {}, o.onNote ?? (() => {}));
  if (o.waiting?.(key)) return waits(key);
  noteStrayStrides(file, profile, o.onNote);
  return whole(ledger, () => appendSnapshot(ledger, fileSnapshotEvents(ledger, profile, key, { format: 'pickle', origin: originOf(file), bytes, run: o.defaults?.run ?? null, time: fileTime(file) }), file, o));
}

/** Issue 9.3: the snapshot row and its events are one transaction (a failure leaves neither). */
function whole<T>(ledger: Ledger, fn: () => T): T {
  return ledger.sql.immediate(fn);
}

/** The remote cache's JSON value ({"data": base64 pickle}), as stored in Redis. */
export async function ingestRemoteJsonFile(ledger: Ledger, file: string, o: FileIngestOptions): Promise<Summary> {
  const text = (await readInput(file)).toString('utf8').replace(/^\uFEFF/, '');
  const { pickle, profile } = withFile(file, () => profileOfRemoteValue(text));
  const key = remoteKeyFor(file, o);
  if (o.waiting?.(key)) return waits(key);
  noteStrayStrides(file, profile, o.onNote);
  return whole(ledger, () => appendSnapshot(ledger, fileSnapshotEvents(ledger, profile, key, { format: 'remote-json', origin: originOf(file), bytes: pickle, run: o.defaults?.run ?? null, time: fileTime(file) }), file, o));
}

/**
 * A mega-cache bundle: each pgo artifact in order (one per profile write), under its own
 * key; other artifact types are counted and left alone.
 */
export async function ingestMegaCacheFile(ledger: Ledger, file: string, o: FileIngestOptions): Promise<Summary> {
  const bytes = await readInput(file);
  const bundle = withFile(file, () => decodeMegaCache(bytes));
  const d = o.defaults ?? {};
  if (o.waiting)
    for (const a of bundle.artifacts) {
      const key = a.type === 'pgo' ? rewriteMegaCacheKey(a.key, d.job ? cacheKey({ job: d.job, rank: d.rank ?? null, tag: d.tag ?? '' }) : null) : null;
      if (key !== null && o.waiting(key)) return waits(key);
    }
  return whole(ledger, () => megaCacheEvents(ledger, file, bundle, d, o));
}

function megaCacheEvents(ledger: Ledger, file: string, bundle: ReturnType<typeof decodeMegaCache>, d: LineDefaults, o: FileIngestOptions): Summary {
  const events: NewEvent[] = [];
  let told = 0;
  const others = new Map<string, number>();
  const unused = new Map<string, string>();
  const heldNotes: string[] = [];
  // each key's previous write in this bundle (EarlierWrite)
  const earlier = new Map<string, EarlierWrite>();
  let repeats = 0;
  let part = 0;
  // each key's artifacts, in order (the same bundle read again: below), and all in order
  const byKey = new Map<string, Made[]>();
  const all: Made[] = [];
  for (const a of bundle.artifacts) {
    if (a.type !== 'pgo') {
      others.set(a.type, (others.get(a.type) ?? 0) + 1);
      continue;
    }
    // A mast: key becomes the loading job's key, here the one --job names; with none it stays.
    const key = rewriteMegaCacheKey(a.key, d.job ? cacheKey({ job: d.job, rank: d.rank ?? null, tag: d.tag ?? '' }) : null);
    // a key no PyTorch writes (empty, one part) is bad input at its artifact, as in a folder
    // (trial s27b: a file named alone went on to the append and failed there, exit 70)
    withFile(file, () => parseCacheKey(key), `pgo artifact ${part}`);
    if (!unused.has(key)) unused.set(key, flagsNotUsed(file, 'mega-cache', key, d) ?? '');
    const profile = withFile(file, () => unpickleProfile(a.content), `pgo artifact ${part} (${a.key})`);
    noteStrayStrides(file, profile, o.onNote, ` pgo artifact ${part} (${a.key})`);
    if (!earlier.has(key)) earlier.set(key, new Map());
    const made = fileSnapshotEvents(ledger, profile, key, { format: 'megacache', origin: originOf(file), bytes: a.content, run: d.run ?? null, time: fileTime(file) }, part, earlier.get(key));
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(made);
    all.push(made);
    const held = heldNote(file, made, o, ` pgo artifact ${part} (${a.key})`);
    if (held && !heldNotes.includes(held)) heldNotes.push(held);
    repeats += made.repeated ?? 0;
    part++;
  }
  // The same bundle read again under another run (or none): its last write of a key is the
  // profile now (isProfileNow), so its earlier writes joined before are that bundle's too, not
  // joined again (trial s33b: 16 of its 47 entries went in again, each value counted twice); an
  // earlier write never joined (the run's pickle read first, then its bundle) tells the compiles
  // before the last, and goes in.
  for (const mades of byKey.values()) {
    if (!mades[mades.length - 1].unchanged) continue;
    for (const m of mades) {
      if (m.prior && !m.prior.retracted && m.events.length) {
        m.told += m.events.length;
        m.events = [];
      }
    }
  }
  for (const m of all) {
    events.push(...m.events);
    told += m.told;
  }
  // said once the append stood: a failed one is said as failed, not as ingested
  const s = append(ledger, events, told);
  for (const n of unused.values()) if (n) o.onNote?.(n);
  for (const n of heldNotes) o.onNote?.(n);
  // counted already in the log, from a write before them in the bundle (trial s32: said of a new ledger)
  if (repeats) o.onNote?.(`${inputName(file)}: ${counted(repeats, 'entry', 'entries')} of its pgo artifacts repeat the same profile's write before them in the bundle (a code id not compiled in between): counted already in the log, not joined again`);
  if (others.size) o.onNote?.(`${inputName(file)}: ${part} pgo artifacts ingested; left alone: ${[...others].map(([t, n]) => `${n} ${t}`).join(', ')}`);
  return s;
}

function withFile<T>(file: string, fn: () => T, what?: string): T {
  try {
    return fn();
  } catch (e) {
    throw withContext(`${inputName(file)}${what ? `: ${what}` : ''}`, e);
  }
}
