import { entryFromJson, intFromJson } from '../codecs/entry-json.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { entryOf, type Shape } from '../model/observation.ts';
import { codeStateFor, emptyProfile, type Profile } from '../model/profile.ts';
import { applyLoggedRecord } from '../model/logged-record.ts';
import { updateAutomaticDynamic, type DynamicRecord } from '../model/update.ts';
import { markDynamic } from '../model/mark-dynamic.ts';
import type { DynamicLogged, EventBody, ShapeObserved } from './events.ts';
import type { EntryJson } from '../codecs/entry-json.ts';
import { emptyEntry } from '../model/entry.ts';

/** The fold's state for one profile: the profile and each code id's first-seen index. */
export interface StreamView {
  profile: Profile;
  codeSeq: Map<string, number>;
  /**
   * Counts the folds that changed the view or may have (absent: none yet). While it stands, a
   * fold of what the view kept before keeps it again (the append's AppendMemo; past it, while
   * the entry itself is unchanged: unchangedSince). Only fold changes a view.
   */
  changes?: number;
}

export function emptyStream(): StreamView {
  return { profile: emptyProfile(), codeSeq: new Map(), changes: 0 };
}

export interface FoldStep {
  code: CodeId;
  codeSeq: number;
  source: string;
  before: FrameStateSizeEntry | undefined;
  after: FrameStateSizeEntry;
  records: DynamicRecord[];
  /** PyTorch's guard failure text, for records a trace logged. */
  guard: string | null;
}

export function shapeFromJson(s: ShapeObserved['shape']): Shape {
  switch (s.kind) {
    case 'tensor':
      return s.mark_dynamic?.length
        ? { kind: 'tensor', size: s.size.map(intFromJson), stride: s.stride.map(intFromJson), markDynamic: s.mark_dynamic }
        : { kind: 'tensor', size: s.size.map(intFromJson), stride: s.stride.map(intFromJson) };
    case 'scalar':
      return { kind: 'scalar', value: intFromJson(s.value) };
    case 'size':
      return { kind: 'size', size: s.size.map(intFromJson) };
  }
}

/** What the fold needs of one event, however it was read (the hot paths fill it from caches). */
export interface FoldInput {
  kind: string;
  code: CodeId;
  source: string;
  /** shape.observed */
  shape: Shape | null;
  automaticDynamic: boolean;
  /** entry.imported */
  entry: EntryJson | null;
  /** entry.imported from a trace: PyTorch's records are separate dynamic.logged events. */
  quiet: boolean;
  /** entry.imported: the snapshot's format (`merge`: a join of profiles, by `|=` as ranks are). */
  format: string | null;
  /** dynamic.logged */
  record: DynamicLogged['record'] | null;
  guard: string | null;
}

/**
 * THE fold: one event applied to one profile with PyTorch's rules. The inline view update,
 * replay, verify, as-of queries and `why` all come here. Retractions are not applied here:
 * whoever folds leaves the retracted runs' events out.
 */
export function fold(view: StreamView, ev: FoldInput): FoldStep | null {
  // shape.described, scalar.described: evidence of what a compile saw, never a profile update
  if (ev.kind === 'run.retracted' || ev.kind === 'shape.described' || ev.kind === 'scalar.described') return null;
  const key = codeKey(ev.code);
  let seq = view.codeSeq.get(key);
  if (ev.kind === 'dynamic.logged') {
    // A record PyTorch logged changes the profile here, at its own position; the snapshot
    // PyTorch writes after the compile joins in with no further change (it confirms it).
    const changes = (view.changes = (view.changes ?? 0) + 1);
    if (seq === undefined) view.codeSeq.set(key, (seq = view.codeSeq.size));
    const state = codeStateFor(view.profile, ev.code).automaticDynamic;
    const cur = state.get(ev.source);
    const record = { name: ev.source, ...ev.record! };
    const next = cur && applyLoggedRecord(cur, record);
    if (next) state.set(ev.source, next);
    if (cur) entryChanged.set(cur, changes);
    if (next) entryChanged.set(next, changes);
    return { code: ev.code, codeSeq: seq, source: ev.source, before: cur && { ...cur }, after: next ?? cur ?? emptyEntry(), records: [record], guard: ev.guard };
  }
  // Most observations of a long run are a shape the entry already keeps: known ones skip the join.
  const observed = ev.shape !== null && ev.automaticDynamic;
  if (observed && seq !== undefined) {
    const cur = view.profile.codes.get(key)?.state.automaticDynamic.get(ev.source);
    if (cur && keptShapes.get(cur)?.has(ev.shape!)) return { code: ev.code, codeSeq: seq, source: ev.source, before: cur, after: cur, records: NO_RECORDS, guard: null };
  }
  const entry = ev.shape ? entryOf(ev.shape) : entryFromJson(ev.entry!);
  // with automatic dynamic off the observation takes the entry's place (no join in place)
  const replaced = ev.automaticDynamic ? undefined : view.profile.codes.get(key)?.state.automaticDynamic.get(ev.source);
  // a profile PyTorch wrote is a snapshot; a merge joins ranks by `|=` (update.ts)
  let r = updateAutomaticDynamic(view.profile, ev.code, ev.source, entry, ev.automaticDynamic, ev.entry !== null && ev.format !== 'merge');
  if (ev.shape?.kind === 'tensor' && ev.shape.markDynamic) r = markDynamic(r, ev.shape.markDynamic, ev.shape.size.length);
  if (seq === undefined || r.before !== r.entry) {
    const changes = (view.changes = (view.changes ?? 0) + 1);
    entryChanged.set(r.entry, changes);
    if (replaced) entryChanged.set(replaced, changes);
  }
  if (seq === undefined) view.codeSeq.set(key, (seq = view.codeSeq.size));
  if (observed) {
    // The same object back: the join kept it. Any other result is an entry changed in place.
    if (r.before === r.entry) {
      let kept = keptShapes.get(r.entry);
      if (!kept) keptShapes.set(r.entry, (kept = new WeakSet()));
      kept.add(ev.shape!);
    } else keptShapes.delete(r.entry);
  } else if (r.before !== r.entry) keptShapes.delete(r.entry); // a snapshot's excluded values, which a kept shape's join would clear again
  return { code: ev.code, codeSeq: seq, source: ev.source, before: r.before, after: r.entry, records: ev.quiet ? NO_RECORDS : r.records, guard: null };
}

/**
 * Per entry of a folded view, the view's `changes` once the fold last changed it, or took it
 * out of its place (absent: not since the view was made, as for an entry a checkpoint gave).
 * Entries change in place, so an AppendMemo of a fold that kept one names it and the view's
 * `changes` then: while the view has changed only other entries since, the memo holds (in the
 * 1M mix's first 50k lines some entry of each profile changes in every batch).
 */
const entryChanged = new WeakMap<FrameStateSizeEntry, number>();

/** Whether the fold changed `entry` (or took it out) after the view's `changes` was `since`. */
export function unchangedSince(entry: FrameStateSizeEntry, since: number | undefined): boolean {
  const at = entryChanged.get(entry);
  return at === undefined || (since !== undefined && at <= since);
}

/** A step's records when it has none: one shared array, frozen (no reader adds to a step's records). */
const NO_RECORDS = Object.freeze([]) as unknown as DynamicRecord[];

/**
 * Per entry of a folded profile, the shapes (one shared object per distinct shape, see
 * observation-batches.ts's cache) that a join would leave it as it is. Only the fold changes
 * an entry in place (updateAutomaticDynamic), and it forgets the entry's set when it does.
 */
const keptShapes = new WeakMap<FrameStateSizeEntry, WeakSet<Shape>>();

/** What an event's stored body contributes to the fold (the rest is its code, source and kind). */
export type FoldPayload = Omit<FoldInput, 'kind' | 'code' | 'source'>;

/** The fold input of a decoded event. */
export function foldInput(ev: EventBody): FoldInput | null {
  switch (ev.kind) {
    case 'run.retracted':
    case 'shape.described':
    case 'scalar.described':
      return null;
    case 'shape.observed':
      return { kind: ev.kind, code: ev.payload.code, source: ev.payload.source, shape: shapeFromJson(ev.payload.shape), automaticDynamic: ev.payload.automatic_dynamic, entry: null, quiet: false, format: null, record: null, guard: null };
    case 'entry.imported':
      return { kind: ev.kind, code: ev.payload.code, source: ev.payload.source, shape: null, automaticDynamic: ev.payload.automatic_dynamic !== false, entry: ev.payload.entry, quiet: ev.payload.records === 'logged', format: ev.payload.format, record: null, guard: null };
    case 'dynamic.logged':
      return { kind: ev.kind, code: ev.payload.code, source: ev.payload.source, shape: null, automaticDynamic: true, entry: null, quiet: false, format: null, record: ev.payload.record, guard: ev.payload.guard };
  }
}

export function applyEvent(view: StreamView, ev: EventBody): FoldStep | null {
  const input = foldInput(ev);
  return input ? fold(view, input) : null;
}
