import { NO_RUN } from '../model/id-chars.ts';
import { DYNAMIC, type SizeAtom, type StrideAtom } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import { intFromJson } from '../codecs/entry-json.ts';
import { floatFromRepr, type PyFloat } from '../model/float.ts';
import type { PyInt } from '../model/int.ts';
import { makeScalar, makeTensor, type FrameStateSizeEntry } from '../model/entry.ts';
import { inferStrides } from '../model/infer-strides.ts';
import { snapshotKind } from '../model/snapshot-kind.ts';
import type { ScalarDescribed, ShapeDescribed } from './events.ts';
import { compileOf } from './compile-of.ts';
import { compileInputs } from './compile-inputs.ts';
import { scanEvents, type Dictionaries } from './log.ts';
import type { Sql } from './database.ts';
import { leftOutRuns, windowFolds, type Window } from './window.ts';
import { carried, dimKey, isStatic, recordDimKey, recordValue, show, valueAt, type Acc, type DimRef, type RecordRef, type Track } from './why-fold.ts';

/**
 * The values seen at a dim of a source that a trace told of, as PyTorch compared them: each
 * frame Dynamo compiled builds one entry from what it was fed (make_tensor, make_scalar) and
 * joins it into the profile (update_automatic_dynamic), so each compile saw one value, credited
 * to its run. A trace tells a compile's value three ways, best first: the input it described
 * (describe_tensor: the whole tensor, strides inferred as Dynamo infers them; create_symbol: a
 * dynamic int, scalar.described), the record it
 * logged for the dim (`new` is the frame's value), and the static dims of the snapshot it put
 * (a static dim of a join is the value every frame joined had). A snapshot's dynamic dim holds
 * no value, so a value that made a dim dynamic, and every later one, is only in the first two;
 * a snapshot a run loaded (get_*_code_state) is what earlier runs saw. An observation line
 * counts as one, as `why`'s fold counts it; a profile file (a pickle beside a run's log) holds a
 * join, and counts a value only where no compile saw it.
 *
 * Returns, for an acc, its dim's values in first-seen order (by the position of the compile's
 * first event, or of the event), or null for an acc no trace told of (its values are the
 * fold's: fillValues in why.ts). The log is read once, on first ask, with the window's events
 * as `why`'s fold takes them (the window's, less the runs it leaves out).
 */
export function compileValues(sql: Sql, dict: Dictionaries, profileId: number, window: Window, accs: Map<string, Acc>): (acc: Acc, d: DimRef) => Track['values'] | null {
  let seen: Map<Acc, Seen[]> | undefined;
  const read = () => {
    const out = new Map<Acc, Seen[]>();
    const excluded = leftOutRuns(sql, profileId, window, dict);
    const keys = new Map<CodeId, string>();
    // each body's entry, made once (described tensors', and what the other events carried)
    const described = new Map<number, FrameStateSizeEntry>();
    const bodies = new Map<number, FrameStateSizeEntry>();
    const inputs = compileInputs(dict);
    // the record before, with the dim recordDimKey gave it (a rank change's size record, then its stride's)
    let prev: { record: RecordRef; dim: string } | undefined;
    scanEvents(
      sql,
      { ...window, profileId, details: true },
      (ev) => {
        if (!windowFolds(ev, excluded)) return;
        let ck = keys.get(ev.code);
        if (ck === undefined) keys.set(ev.code, (ck = codeKey(ev.code)));
        let dim: string | null = null;
        if (ev.record) {
          const record: RecordRef = { ...ev.record, code: ev.code, name: ev.source, run: ev.run, compileId: ev.compileId };
          dim = recordDimKey(record, prev);
          prev = { record, dim };
        }
        // a compile's events (a restarted attempt is its compile)
        const compile = compileOf(ev);
        inputs.seen(ev, compile, `${ck}\u0000${ev.source}`);
        const acc = accs.get(`${ck}\u0000${ev.source}`);
        if (!acc) return;
        let list = out.get(acc);
        if (!list) out.set(acc, (list = []));
        if (ev.kind === 'shape.described' || ev.kind === 'scalar.described') {
          let e = described.get(ev.bodyId);
          if (!e) {
            const b = dict.body(ev.bodyId).stored;
            described.set(ev.bodyId, (e = ev.kind === 'shape.described' ? describedEntry(b as ShapeDescribed) : makeScalar(scalarValue((b as Pick<ScalarDescribed, 'value'>).value))));
          }
          list.push({ position: ev.position, run: ev.run, compile, rank: DESCRIBED, entry: e, dim: null, value: null });
        } else if (ev.record) {
          list.push({ position: ev.position, run: ev.run, compile, rank: RECORD, entry: null, dim, value: recordValue(ev.record.new) });
        } else if (ev.shape || ev.entry) {
          const kind = snapshotKind(ev.format);
          // what a run loaded at its start was seen by earlier runs, not by it
          if (kind === 'get') return;
          let entry = bodies.get(ev.bodyId);
          if (!entry) bodies.set(ev.bodyId, (entry = carried((ev.shape ?? ev.entry)!)));
          // the put's entry of an input its compile never had: what the run loaded
          if (kind === 'put' && compile !== null && inputs.loadedOnly(compile, `${ck}\u0000${ev.source}`, entry)) return;
          list.push({ position: ev.position, run: ev.run, compile: kind === 'put' ? compile : null, rank: kind === 'put' ? SNAPSHOT : EVENT, entry, dim: null, value: null, file: kind !== 'put' && ev.kind === 'entry.imported' });
        }
      },
      dict,
    );
    return out;
  };
  return (acc, d) => {
    const list = (seen ??= read()).get(acc);
    if (!list || !list.some((s) => s.compile !== null)) return null;
    const dk = dimKey(d);
    // each compile's value: the best its events tell (DESCRIBED, RECORD, SNAPSHOT), at its first event
    const best = new Map<string, { position: number; run: string | null; rank: number; value: string | null }>();
    const counted: { position: number; run: string | null; value: string }[] = [];
    const files: { position: number; run: string | null; value: string }[] = [];
    for (const s of list) {
      const value = s.rank === RECORD ? (s.dim === dk && !s.value!.includes('?') ? s.value : null) : staticText(s.entry!, d);
      if (s.compile === null) {
        if (value !== null) (s.file ? files : counted).push({ position: s.position, run: s.run, value });
        continue;
      }
      const b = best.get(s.compile);
      if (!b) best.set(s.compile, { position: s.position, run: s.run, rank: value === null ? NONE : s.rank, value });
      else if (value !== null && s.rank < b.rank) {
        b.rank = s.rank;
        b.value = value;
      }
    }
    for (const b of best.values()) if (b.value !== null) counted.push({ position: b.position, run: b.run, value: b.value });
    // A profile file (a pickle, a remote value, a mega-cache) holds the join of what the runs
    // before it fed, not a frame's input: where a compile saw its value, the file is that
    // value again (each run's code_state file beside its log doubled the run's counts). A value
    // no compile saw (a run the traces do not cover) is the file's to tell.
    if (files.length) {
      const saw = new Set(counted.map((c) => c.value));
      for (const f of files) if (!saw.has(f.value)) (saw.add(f.value), counted.push(f));
    }
    counted.sort((x, y) => x.position - y.position);
    const values: Track['values'] = new Map();
    for (const c of counted) {
      let into = values.get(c.value);
      if (!into) values.set(c.value, (into = { count: 0, runs: new Set() }));
      into.count++;
      into.runs.add(c.run ?? NO_RUN); // as why-fold.ts whyCount keeps a sighting with no run
    }
    return values;
  };
}

/** A described scalar's value: an int, or a float by its repr. */
function scalarValue(v: ScalarDescribed['value']): PyInt | PyFloat {
  return typeof v === 'object' ? floatFromRepr(v.float)! : intFromJson(v);
}

/** How a compile's value was told, best first (a lower rank wins); EVENT: no compile's. */
const DESCRIBED = 0;
const RECORD = 1;
const SNAPSHOT = 2;
const EVENT = 3;
const NONE = 4;

/** One event's word on an acc's values. */
interface Seen {
  position: number;
  run: string | null;
  /** The compile it is of (null: an event counted on its own). */
  compile: string | null;
  rank: number;
  /** What it held of the source (DESCRIBED, SNAPSHOT, EVENT). */
  entry: FrameStateSizeEntry | null;
  /** A record's dim (dimKey) and value (as `show` prints it). */
  dim: string | null;
  value: string | null;
  /** A profile file's snapshot (no trace's put or get): the join, counted where no compile saw its value. */
  file?: boolean;
}

/** A dim's static value in an entry as `show` prints it; null for none (dynamic, unset, absent, or a whole field with a dynamic dim). */
function staticText(e: FrameStateSizeEntry, d: DimRef): string | null {
  const v = valueAt(e, d);
  if (!isStatic(v) || (Array.isArray(v) && v.includes(DYNAMIC))) return null;
  return show(v);
}

/**
 * The entry Dynamo built from a described tensor (make_tensor, strides inferred from the
 * sizes): a dim the trace wrote as no int (a symbolic one) is unknown, as are the strides
 * unless every size and stride is an int (inference reads them all); unknown is DYNAMIC here,
 * which holds no value.
 */
function describedEntry(b: Pick<ShapeDescribed, 'size' | 'stride'>): FrameStateSizeEntry {
  const isInt = (x: unknown): x is number => typeof x === 'number';
  const size: SizeAtom[] = b.size.map((x) => (isInt(x) ? x : DYNAMIC));
  const known = b.stride !== null && b.stride.length === b.size.length && b.size.every(isInt) && b.stride.every(isInt);
  const stride: StrideAtom[] = known ? inferStrides(b.size as number[], b.stride as number[]) : b.size.map(() => DYNAMIC);
  return makeTensor(size, stride);
}
