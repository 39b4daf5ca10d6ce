import { entryFromJson, intFromJson } from '../codecs/entry-json.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { entryOf, type Shape } from '../model/observation.ts';
import { emptyProfile, type Profile } from '../model/profile.ts';
import { updateAutomaticDynamic, type DynamicRecord } from '../model/update.ts';
import type { EventBody, ShapeObserved } from './events.ts';

/** The fold's state for one profile: the profile and each code id's first-seen index. */
export interface StreamView {
  profile: Profile;
  codeSeq: Map<string, number>;
}

export function emptyStream(): StreamView {
  return { profile: emptyProfile(), codeSeq: new Map() };
}

export interface FoldStep {
  code: CodeId;
  codeSeq: number;
  source: string;
  before: FrameStateSizeEntry | undefined;
  after: FrameStateSizeEntry;
  records: DynamicRecord[];
}

export function shapeFromJson(s: ShapeObserved['shape']): Shape {
  switch (s.kind) {
    case 'tensor':
      return { kind: 'tensor', size: s.size.map(intFromJson), stride: s.stride.map(intFromJson) };
    case 'scalar':
      return { kind: 'scalar', value: intFromJson(s.value) };
    case 'size':
      return { kind: 'size', size: s.size.map(intFromJson) };
  }
}

/**
 * THE fold: one event applied to one profile with PyTorch's rules. The inline view update,
 * replay, verify, as-of queries and `why` all call this and nothing else. Retractions are
 * not applied here: whoever folds leaves the retracted runs' events out.
 */
export function applyEvent(view: StreamView, ev: EventBody): FoldStep | null {
  if (ev.kind === 'run.retracted') return null;
  const p = ev.payload;
  if (ev.kind === 'shape.observed') return applyEntry(view, p.code, p.source, entryOf(shapeFromJson(ev.payload.shape)), ev.payload.automatic_dynamic);
  return applyEntry(view, p.code, p.source, entryFromJson(ev.payload.entry), true);
}

/** The fold's core, for callers that already hold the entry (the hot ingest and replay paths). */
export function applyEntry(view: StreamView, code: CodeId, source: string, entry: FrameStateSizeEntry, automaticDynamic: boolean): FoldStep {
  const r = updateAutomaticDynamic(view.profile, code, source, entry, automaticDynamic);
  const key = codeKey(code);
  let seq = view.codeSeq.get(key);
  if (seq === undefined) view.codeSeq.set(key, (seq = view.codeSeq.size));
  return { code, codeSeq: seq, source, before: r.before, after: r.entry, records: r.records };
}
