import type { CodeId } from '../model/code-id.ts';
import type { Profile } from '../model/profile.ts';
import { entryToJson, intToJson } from '../codecs/entry-json.ts';
import { fieldsToJson } from '../model/py-plain.ts';
import type { HistoryRow } from '../store/ledger.ts';
import type { EntryChange } from '../store/diff.ts';
import type { StormWindow } from '../store/stats.ts';
import { codeIdLabel } from '../model/code-id.ts';
import { guardFailures } from '../model/guard-failures.ts';
import { sawSentence, type DescribedShape } from '../store/described-shapes.ts';
import type { DescribedScalar } from '../store/described-scalars.ts';
import { counted } from '../counted.ts';
import { recordValue } from '../store/why-fold.ts';

/**
 * The command line's one JSON vocabulary: the same field names for the same things in every
 * command (`position`, `time` as ISO 8601, `run`, `code` as an object, `source`, `compile_id`,
 * `origin` as {name, line}), structured values, never preformatted strings.
 */
export const isoTime = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function codeJson(c: CodeId) {
  return {
    filename: c.filename,
    firstlineno: c.firstlineno,
    name: c.name,
    file_hash: c.file_hash,
    // the layout after 2.11: present (None as null, past 2**53 as a string) where the data carries it
    ...(c.closure_hash !== undefined ? { closure_hash: c.closure_hash === null ? null : intToJson(c.closure_hash) } : {}),
    ...(c.extra?.length ? { extra: fieldsToJson(c.extra) } : {}),
  };
}

export function originJson(origin: string | null, line: number | null) {
  return origin === null ? null : { name: origin, line };
}

export function profileJson(profile: Profile) {
  return [...profile.codes.values()].map(({ id, state }) => ({ code: codeJson(id), entries: Object.fromEntries([...state.automaticDynamic].map(([s, e]) => [s, entryToJson(e)])) }));
}

/** One record, as `history`, `stats` and `why` (its `logged`) give it. */
export function historyJson(h: Omit<HistoryRow, 'codeSeq'>) {
  return {
    position: h.position,
    time: isoTime(h.time),
    run: h.run,
    code: codeJson(h.code),
    source: h.name,
    dim_changed: h.dim_changed,
    reason: h.reason,
    // the record's text is Python's str() (`AutoDynamic.token`, `(8, 4)`): said as show says a dim
    cached: recordValue(h.cached),
    new: recordValue(h.new),
    compile_id: h.compileId,
    origin: originJson(h.origin, h.originLine),
    guard: h.guard,
    kind: h.kind,
  };
}

export function historyText(h: HistoryRow): string {
  const dim = h.dim_changed === 'all' || h.dim_changed === 'scalar' ? h.dim_changed : `dim ${h.dim_changed}`;
  const head = `#${h.position} ${isoTime(h.time)} ${h.run ?? '-'}${h.compileId ? ` [${h.compileId}]` : ''} ${h.code.name}:${h.code.firstlineno} ${h.name} ${dim}: ${h.reason}: ${recordValue(h.cached)} -> ${recordValue(h.new)}`;
  const derived = h.kind === 'entry.imported' ? ' (by PyTorch\'s rule, joining an imported snapshot: not a record PyTorch logged)' : '';
  return h.guard ? `${head}${derived}\n    compile ${h.compileId ?? '?'} recompiled after: ${guardFailures(h.guard)}` : head + derived;
}

/** `history --shapes`: one input a compile saw (a trace's describe_tensor/describe_source). */
export function describedJson(s: DescribedShape) {
  return {
    position: s.position,
    time: isoTime(s.time),
    run: s.run,
    code: codeJson(s.code),
    source: s.source,
    compile_id: s.compileId,
    origin: originJson(s.origin, s.originLine),
    kind: 'shape.described',
    size: s.size,
    stride: s.stride,
    dtype: s.dtype,
    device: s.device,
    role: s.role,
    requires_grad: s.requiresGrad,
  };
}

export function describedText(s: DescribedShape): string {
  const device = s.device?.replace(/^device\(type='([^']*)'(?:, index=(\d+))?\)$/, (_m, t: string, i?: string) => (i === undefined ? t : `${t}:${i}`));
  // requires_grad as a tensor's repr says it: only when true
  const detail = [s.role === 'input' ? null : s.role, s.stride ? `stride [${s.stride.map((x) => x ?? '?').join(', ')}]` : null, s.dtype, device, s.requiresGrad ? 'requires_grad=True' : null].filter(Boolean).join(', ');
  return `${sawSentence([s])}${detail ? ` (${detail})` : ''} in ${s.code.name}, run ${s.run ?? '-'}, #${s.position}`;
}

/** `history --shapes`: an int or float a compile was fed, as a symbol or specialized (`scalar`: as an entry's scalar is given). */
export function describedScalarJson(s: DescribedScalar) {
  return { position: s.position, time: isoTime(s.time), run: s.run, code: codeJson(s.code), source: s.source, compile_id: s.compileId, origin: originJson(s.origin, s.originLine), kind: 'scalar.described', scalar: s.value, specialized: s.specialized };
}

export function describedScalarText(s: DescribedScalar): string {
  const v = s.value;
  const value = typeof v === 'object' ? `${v.float} (a float` : `${v} (an int`;
  const as = s.specialized ? 'specialized: static' : 'as its symbol: dynamic';
  return `compile ${s.compileId ?? '?'} saw ${s.source} ${value}, ${as}) in ${s.code.name}, run ${s.run ?? '-'}, #${s.position}`;
}

/** `diff` (and `publish --dry-run`): one entry that changed, as a JSON line. */
export function changeJson(c: EntryChange) {
  return { ...c, code: codeJson(c.code) };
}

/** `diff` (and `publish --dry-run`): one entry that changed, in words. */
export function changeText(c: EntryChange): string {
  const dims = c.dims.map((d) => `${d.dim}: ${d.from ?? 'absent'} -> ${d.to}${d.position !== undefined ? ` (at #${d.position})` : ''}`);
  return `${c.change} ${c.source} in ${codeIdLabel(c.code)}: ${c.from ?? ''}${c.from && c.to ? ' -> ' : ''}${c.to ?? ''}${dims.length ? `\n    ${dims.join('\n    ')}` : ''}`;
}

/** `stats`: one run's recompile records in one time window of one profile. */
export function stormJson(w: StormWindow) {
  return {
    cache_key: w.cacheKey,
    job: w.key.job,
    rank: w.key.rank,
    tag: w.key.tag,
    run: w.run,
    start: isoTime(w.start),
    end: isoTime(w.end),
    count: w.records.length,
    dims: w.dims.map((d) => ({ code: codeJson(d.code), source: d.source, dim: d.dim, position: d.position, time: isoTime(d.time), observations: d.observations, values: d.values, via: d.via })),
    records: w.records.map(historyJson),
  };
}

/** `stats`, in words: the window, its records, and each dim it made dynamic with the values seen there (rarest first). */
export function stormText(w: StormWindow): string {
  const head = `${w.cacheKey} run ${w.run ?? '-'}, ${isoTime(w.start)} to ${isoTime(w.end)}: ${counted(w.records.length, 'recompile record')}`;
  const recs = w.records.map((h) => `  ${historyText(h).replace(/\n/g, '\n  ')}`);
  const dims = w.dims.map((d) => {
    const seen = d.values.length ? `${d.values.slice(0, 5).map((v) => `${v.value} seen ${counted(v.count, 'time')}`).join(', ')}${d.values.length > 5 ? `, and ${counted(d.values.length - 5, 'more value')}` : ''} in ${counted(d.observations, 'observation')}${d.via ? ` of ${d.via}, which the merge brought the change from` : ''}` : 'no observations of it (it came in a snapshot)';
    return `  turned dynamic: ${d.source} ${d.dim} in ${codeIdLabel(d.code)} at #${d.position}: ${seen}`;
  });
  return [head, ...recs, ...dims].join('\n');
}
