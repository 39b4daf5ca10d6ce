import { inputError } from '../../errors.ts';
import { DYNAMIC, InferStride, UNSET, type Atom } from '../../model/atoms.ts';
import { codeKey, type CodeId } from '../../model/code-id.ts';
import type { FrameStateSizeEntry } from '../../model/entry.ts';
import { CANONICAL_NAN, PyFloat } from '../../model/float.ts';
import type { PyInt } from '../../model/int.ts';
import { closureConflicts } from '../../model/closures.ts';
import { layoutOf, type CodeState, type Profile, type TorchLayout } from '../../model/profile.ts';
import type { PyFields, PyPlain } from '../../model/py-plain.ts';
import { encodeUtf8 } from './text.ts';

export type PickleProtocol = 2 | 3 | 4 | 5;

/** Which equal source names are one string object in the pickling process (see PickleOptions.sourceNames). */
export type SourceNames = 'shared' | 'per-code';

/**
 * Which string objects a code id's filename, name and file_hash are in the pickling process,
 * by code key: a group each (0: the process's own objects, where equal strings are one object
 * and a name is the interned one a field name is; another number: an object made elsewhere,
 * one for each group and text). PyTorch keeps the CodeId objects it loaded from the profile it
 * warm-started from, whose strings are the unpickler's, not the ones its code objects hold
 * (see codeStringsOf and codeOrigins).
 */
export type CodeStrings = ReadonlyMap<string, readonly [filename: number, name: number, fileHash: number]>;

const FRAME_SIZE_TARGET = 64 * 1024;
const FRAME_SIZE_MIN = 4;
const FRAME_HEADER = 9;
const BATCHSIZE = 1000;
const PGO = 'torch._dynamo.pgo';

/**
 * Pickles a profile the way CPython's C pickler (`pickle.dumps(state)`) does: the same
 * opcodes, memo order, 64 KiB frames and 1000-item batches, strings memoised by value and
 * tuples and InferStride objects by identity. Protocol 4 is PyTorch's default.
 */
export interface PickleOptions {
  protocol?: PickleProtocol;
  /**
   * 'shared' (default): equal strings are one memo entry, as in a profile whose equal
   * strings are one object (CPython re-pickling a loaded profile, all of the oracle).
   * 'per-code': source names are fresh objects in each code state, as in the live
   * process that first wrote the profile (the files PyTorch writes after a cold run).
   */
  sourceNames?: SourceNames;
  /** Where a code id's strings are objects of their own (default: none, all the process's own). */
  codeStrings?: CodeStrings;
  /**
   * Which pgo.py layout (default: the profile's own, 2.11 if it never said). 2.12: every
   * CodeId has closure_hash and every entry excluded_sizes/excluded_scalar, as upstream
   * pickles them. 2.11 cannot hold closure-distinct code ids: merge them first (see
   * closureConflicts/mergeClosures).
   */
  layout?: TorchLayout;
}

export function pickleProfile(profile: Profile, options: PickleOptions | PickleProtocol = {}): Uint8Array {
  const opts = typeof options === 'number' ? { protocol: options } : options;
  const protocol = opts.protocol ?? 4;
  // the caller's word, not a bug: a LedgerError of kind input (a RangeError read as "this is a bug")
  if (![2, 3, 4, 5].includes(protocol)) throw inputError(`protocol ${protocol}: only pickle protocols 2 to 5 are written`);
  const layout = opts.layout ?? layoutOf(profile) ?? '2.11';
  const c: Counts = { entries: 0, closures: false };
  profile.codes.forEach(countSlot, c);
  // closureConflicts finds none where no code id has a closure hash (the common case)
  if (layout === '2.11' && c.closures) {
    const clash = closureConflicts(profile);
    if (clash.length) throw new RangeError(`the 2.11 layout cannot hold code ids that differ only in closure_hash: ${clash.join('; ')}`);
  }
  const entries = c.entries;
  // A profile that says none of its tuples or automatic_dynamic objects occurs twice (its
  // builder knows it) is taken at its word; otherwise the tuples are looked at.
  const known = profile.unshared === true;
  const w = new Writer(protocol, opts.sourceNames === 'per-code', layout === '2.12', known || tuplesUnshared(profile, entries), known);
  // Sized up front from what real profiles take (~100 bytes a code id, ~40 an entry), so a
  // big profile's buffer is not grown and copied a dozen times.
  if (opts.codeStrings?.size) w.codeStrings = opts.codeStrings;
  w.reserve(64 + profile.codes.size * 100 + entries * 40);
  w.run(profile);
  return w.finish();
}

/**
 * What pickleProfile counts before writing, in one pass. forEach with a module function,
 * not for-of: a Map iterator's result objects were megabytes of garbage a big profile.
 */
interface Counts {
  entries: number;
  closures: boolean;
}
function countSlot(this: Counts, slot: { id: CodeId; state: CodeState }): void {
  this.entries += slot.state.automaticDynamic.size;
  if (slot.id.closure_hash != null) this.closures = true;
}

/**
 * True if no tuple object occurs twice in the profile (the rule in practice): the writer then
 * keeps no identity memo of tuples, whose lookups and inserts, interleaved with the writing,
 * were the most of a big profile's time. Found in one go: a Set built from all of them at
 * once, away from the writing. A superset of the tuples the writer meets: more can only mean
 * false (the identity memo, as before).
 */
function tuplesUnshared(profile: Profile, entries: number): boolean {
  // Sized for the size and stride of every entry (not grown and copied as it fills).
  const acc: TupleList = { all: new Array(2 * entries), n: 0 };
  for (const slot of profile.codes.values()) {
    if (slot.id.extra) for (const [, v] of slot.id.extra) plainTuples(acc, v);
    for (const e of slot.state.automaticDynamic.values()) entryTuples(acc, e);
  }
  acc.all.length = acc.n;
  return new Set(acc.all).size === acc.n;
}

/**
 * tuplesUnshared's list. Its collectors are module functions, not closures in it: V8
 * optimised fresh closures again for every profile written.
 */
interface TupleList {
  readonly all: unknown[];
  n: number;
}
function plainTuples(acc: TupleList, v: PyPlain): void {
  if (Array.isArray(v) && v.length) {
    acc.all[acc.n++] = v;
    for (const x of v as readonly PyPlain[]) plainTuples(acc, x);
  }
}
function entryTuples(acc: TupleList, e: FrameStateSizeEntry): void {
  if (Array.isArray(e.size) && e.size.length) acc.all[acc.n++] = e.size;
  if (Array.isArray(e.stride) && e.stride.length) acc.all[acc.n++] = e.stride;
  if (e.excluded_sizes?.length) acc.all[acc.n++] = e.excluded_sizes;
  if (e.extra) for (const [, v] of e.extra) plainTuples(acc, v);
}

/** The constant names a profile pickle repeats (Key: an index here). */
const KEYS = [
  'filename', 'firstlineno', 'name', 'file_hash', 'closure_hash', 'scalar', 'size', 'stride', 'excluded_sizes', 'excluded_scalar', 'dim',
  'automatic_dynamic', 'CodeId', 'CodeState', 'FrameStateSizeEntry', 'InferStride',
] as const;
type Key = number;
const [K_filename, K_firstlineno, K_name, K_file_hash, K_closure_hash, K_scalar, K_size, K_stride, K_excluded_sizes, K_excluded_scalar, K_dim] = KEYS.map((_, i) => i);
const [K_automatic_dynamic, K_CodeId, K_CodeState, K_FrameStateSizeEntry, K_InferStride] = KEYS.slice(11).map((_, i) => 11 + i);

class Writer {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private framing = false;
  private frameStart = -1;
  private memoSize = 0;
  private strMemo = new Map<string, number>();
  private readonly globalMemo = new Map<string, number>();
  private readonly objMemo = new Map<unknown, number>();
  /** Memo indices of the two tokens and of the constant names, looked up once (-1: not yet). */
  private dynamicMemo = -1;
  private unsetMemo = -1;
  private readonly keyMemo = new Int32Array(KEYS.length).fill(-1);
  private readonly globalKeyMemo = new Int32Array(KEYS.length).fill(-1);
  private readonly sourceMemo = new Map<string, number>();
  /** PickleOptions.codeStrings, and the memo index of each group's text (`group\0text`). */
  codeStrings: CodeStrings | null = null;
  private readonly groupMemo = new Map<string, number>();
  private batchAt = 0;
  private batchLen = 0;
  /** saveCodeItem's batch counters. */
  private codeAt = 0;
  private codeBatchLen = 0;
  /** A DataView of buf, made again only when buf is replaced (reserve). */
  private view: DataView | null = null;

  constructor(
    private readonly proto: PickleProtocol,
    private readonly perCodeSources: boolean,
    private readonly next: boolean,
    /** No tuple object occurs twice (tuplesUnshared): tuples need no identity memo. */
    private readonly unshared: boolean,
    /** No code state's automatic_dynamic occurs twice (Profile.unshared): they need none either. */
    private readonly statesUnshared: boolean,
  ) {
  }

  run(profile: Profile): void {
    this.raw([0x80, this.proto]);
    if (this.proto >= 4) this.framing = true;
    if (this.defaultDictStart(profile, K_CodeState)) {
      this.codeAt = 0;
      profile.codes.forEach(this.saveCodeItem, this);
    }
    this.write1(0x2e); // STOP
    this.commitFrame();
  }

  /** batch_dict over the code ids, as in batchItem (with its own counters: each item holds a defaultdict). */
  private saveCodeItem(slot: { id: CodeId; state: CodeState }, _k: string, codes: Map<string, unknown>): void {
    const n = codes.size;
    if (this.codeAt % BATCHSIZE === 0) {
      this.codeBatchLen = Math.min(BATCHSIZE, n - this.codeAt);
      if (this.codeBatchLen > 1) this.write1(0x28);
    }
    this.saveCodeId(slot.id);
    this.saveCodeState(slot.state);
    this.codeAt++;
    if (this.codeAt % BATCHSIZE === 0 || this.codeAt === n) this.write1(this.codeBatchLen > 1 ? 0x75 : 0x73);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  // --- output -----------------------------------------------------------------------

  private dv(): DataView {
    if (this.view === null || this.view.buffer !== this.buf.buffer) this.view = new DataView(this.buf.buffer);
    return this.view;
  }

  reserve(k: number): void {
    if (this.len + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + k) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
  /** `_Pickler_Write`: opens a frame (9 reserved bytes) when framing and none is open. */
  private open(k: number): void {
    if (this.framing && this.frameStart < 0) {
      this.reserve(FRAME_HEADER + k);
      this.frameStart = this.len;
      this.len += FRAME_HEADER;
    } else this.reserve(k);
  }
  private raw(bytes: number[]): void {
    this.open(bytes.length);
    for (const x of bytes) this.buf[this.len++] = x;
  }
  private write1(x: number): void {
    this.open(1);
    this.buf[this.len++] = x;
  }
  private write2(x: number, y: number): void {
    this.open(2);
    this.buf[this.len++] = x;
    this.buf[this.len++] = y;
  }
  /**
   * Four bytes little-endian of an int32 or uint32 (room already opened): a byte store keeps
   * the low 8 bits, which is two's complement for negatives. Not through the DataView: LONG_BINGET
   * writes one for most memo fetches of a big profile, and dv() reads buf.buffer each time.
   */
  private put32(x: number): void {
    const b = this.buf;
    const n = this.len;
    b[n] = x;
    b[n + 1] = x >>> 8;
    b[n + 2] = x >>> 16;
    b[n + 3] = x >>> 24;
    this.len = n + 4;
  }
  private commitFrame(): void {
    if (!this.framing || this.frameStart < 0) return;
    const frameLen = this.len - this.frameStart - FRAME_HEADER;
    if (frameLen >= FRAME_SIZE_MIN) {
      this.buf[this.frameStart] = 0x95;
      this.dv().setBigUint64(this.frameStart + 1, BigInt(frameLen), true);
    } else {
      this.buf.copyWithin(this.frameStart, this.frameStart + FRAME_HEADER, this.len);
      this.len -= FRAME_HEADER;
    }
    this.frameStart = -1;
  }
  /** `_Pickler_OpcodeBoundary`, which CPython runs at the start of every save(). */
  private boundary(): void {
    if (this.framing && this.frameStart >= 0 && this.len - this.frameStart - FRAME_HEADER >= FRAME_SIZE_TARGET) {
      this.commitFrame();
    }
  }

  // --- memo ---------------------------------------------------------------------------

  private memoPut(): void {
    const i = this.memoSize++;
    if (this.proto >= 4) this.write1(0x94);
    else if (i < 256) this.write2(0x71, i);
    else {
      this.open(5);
      this.buf[this.len++] = 0x72;
      this.put32(i);
    }
  }
  private memoGet(i: number): void {
    if (i < 256) this.write2(0x68, i);
    else {
      this.open(5);
      this.buf[this.len++] = 0x6a;
      this.put32(i);
    }
  }
  /** Memoise obj at the next index (the pickler's memo_put). */
  private remember(obj: unknown): void {
    this.objMemo.set(obj, this.memoSize);
    this.memoPut();
  }
  /** Write a BINGET if obj is memoised; true if it was. */
  private recall(obj: unknown): boolean {
    const i = this.objMemo.get(obj);
    if (i === undefined) return false;
    this.memoGet(i);
    return true;
  }

  // --- save functions (each is one CPython save() call) --------------------------------

  private saveStr(s: string): void {
    this.boundary();
    const m = this.strMemo.get(s);
    if (m !== undefined) return this.memoGet(m);
    let ascii = s.length <= 255;
    if (ascii) for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
    if (ascii && this.proto >= 4) {
      this.open(2 + s.length);
      this.buf[this.len++] = 0x8c;
      this.buf[this.len++] = s.length;
      for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
    } else {
      const data = encodeUtf8(s);
      let header: number[];
      if (data.length <= 0xff && this.proto >= 4) header = [0x8c, data.length];
      else if (data.length > 0xffffffff && this.proto >= 4) {
        header = [0x8d, ...le64(data.length)];
      } else header = [0x58, data.length & 0xff, (data.length >>> 8) & 0xff, (data.length >>> 16) & 0xff, (data.length >>> 24) & 0xff];
      this.writeBytes(header, data);
    }
    this.strMemo.set(s, this.memoSize);
    this.memoPut();
  }

  /** `_Pickler_write_bytes`: payloads of 64 KiB or more go outside any frame. */
  private writeBytes(header: number[], data: Uint8Array): void {
    const bypass = data.length >= FRAME_SIZE_TARGET;
    const framing = this.framing;
    if (bypass) {
      this.commitFrame();
      this.framing = false;
    }
    this.raw(header);
    this.open(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    this.framing = framing;
  }

  private saveInt(v: PyInt): void {
    this.boundary();
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) {
      if (v >= 0 && v <= 0xff) return this.write2(0x4b, v);
      if (v >= 0 && v <= 0xffff) {
        this.open(3);
        this.buf[this.len++] = 0x4d;
        this.buf[this.len++] = v & 0xff;
        this.buf[this.len++] = v >>> 8;
        return;
      }
      this.open(5);
      this.buf[this.len++] = 0x4a;
      this.put32(v);
      return;
    }
    if (typeof v === 'number') return this.saveSafeLong(v);
    const bytes = longBytes(BigInt(v));
    if (bytes.length < 256) this.raw([0x8a, bytes.length, ...bytes]);
    else this.raw([0x8b, ...le32(bytes.length), ...bytes]);
  }

  /** LONG1 for a safe integer outside int32, without BigInt: the bytes longBytes gives. */
  private saveSafeLong(v: number): void {
    const abs = Math.abs(v);
    const hi = Math.floor(abs / 0x100000000);
    const nbits = hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(abs >>> 0);
    let nbytes = (nbits >> 3) + 1;
    this.open(2 + nbytes);
    const at = this.len + 2;
    let x = v;
    for (let i = 0; i < nbytes; i++) {
      // floor division keeps two's complement for negatives, exactly (a power-of-two divisor)
      const q = Math.floor(x / 256);
      this.buf[at + i] = x - q * 256;
      x = q;
    }
    if (v < 0 && nbytes > 1 && this.buf[at + nbytes - 1] === 0xff && (this.buf[at + nbytes - 2] & 0x80) !== 0) nbytes--;
    this.buf[this.len] = 0x8a;
    this.buf[this.len + 1] = nbytes;
    this.len = at + nbytes;
  }

  private saveGlobal(name: string, module = PGO): void {
    this.boundary();
    const key = name === 'defaultdict' ? 'collections.defaultdict' : name;
    const m = this.globalMemo.get(key);
    if (m !== undefined) return this.memoGet(m);
    if (this.proto >= 4) {
      this.saveStr(module);
      this.saveStr(name);
      this.write1(0x93); // STACK_GLOBAL
    } else {
      const text = `c${module}\n${name}\n`;
      this.raw([...text].map((c) => c.charCodeAt(0)));
    }
    this.globalMemo.set(key, this.memoSize);
    this.memoPut();
  }

  /**
   * The end of save(args) for a fresh one-element tuple (never in the memo), after its
   * boundary and item. No callback: a closure in a hot method made V8 allocate a context
   * at every call, the memo hit included.
   */
  private tuple1End(): void {
    this.write1(0x85);
    this.memoPut();
  }
  private saveToken(t: typeof DYNAMIC | typeof UNSET): void {
    this.boundary();
    const m = t === DYNAMIC ? this.dynamicMemo : this.unsetMemo;
    if (m >= 0) return this.memoGet(m);
    this.saveGlobal(t === DYNAMIC ? 'AutoDynamic' : 'AutoUnset');
    this.boundary(); // save((0,))
    this.saveInt(0);
    this.tuple1End();
    this.write1(0x52); // REDUCE
    if (t === DYNAMIC) this.dynamicMemo = this.memoSize;
    else this.unsetMemo = this.memoSize;
    this.memoPut();
  }

  /** saveStr of a constant name (a field name or a class name), its memo index cached. */
  private saveKey(k: Key): void {
    const m = this.keyMemo[k];
    if (m >= 0) {
      this.boundary();
      return this.memoGet(m);
    }
    const s = KEYS[k];
    this.saveStr(s);
    this.keyMemo[k] = this.strMemo.get(s)!;
  }

  private saveAtom(a: Atom): void {
    if (a === DYNAMIC || a === UNSET) this.saveToken(a);
    else if (a instanceof InferStride) this.saveInferStride(a);
    else if (a instanceof PyFloat) this.saveFloat(a);
    else this.saveInt(a);
  }

  /** save_float: BINFLOAT, the IEEE double big-endian (protocols 1 and up), a nan's own bits; never memoised. */
  private saveFloat(f: PyFloat): void {
    this.boundary();
    this.open(9);
    this.buf[this.len] = 0x47;
    const bits = Number.isNaN(f.value) ? (f.nanBits ?? CANONICAL_NAN) : null;
    if (bits === null) this.dv().setFloat64(this.len + 1, f.value, false);
    else {
      this.dv().setUint32(this.len + 1, parseInt(bits.slice(0, 8), 16), false);
      this.dv().setUint32(this.len + 5, parseInt(bits.slice(8), 16), false);
    }
    this.len += 9;
  }

  /** saveTupleWith for a size or stride tuple, without a closure per tuple. */
  private saveTupleField(f: readonly Atom[] | typeof DYNAMIC | typeof UNSET): void {
    if (!Array.isArray(f)) return this.saveToken(f as typeof DYNAMIC);
    const xs = f as readonly Atom[];
    this.boundary();
    if (xs.length === 0) return this.write1(0x29);
    if (!this.unshared) {
      const m = this.objMemo.get(xs);
      if (m !== undefined) return this.memoGet(m);
    }
    const short = xs.length <= 3 && this.proto >= 2;
    if (!short) this.write1(0x28);
    for (let i = 0; i < xs.length; i++) this.saveAtom(xs[i]);
    this.write1(short ? 0x84 + xs.length : 0x74);
    if (this.unshared) this.memoPut();
    else this.remember(xs);
  }
  /**
   * save_tuple: memoised by identity, the empty tuple never. Its items are plain values, or
   * with `intOrNone` excluded sizes (a flag, not a callback: see tuple1End).
   */
  private saveTupleWith(xs: readonly unknown[], intOrNone: boolean): void {
    this.boundary();
    if (xs.length === 0) return this.write1(0x29); // EMPTY_TUPLE, never memoised
    if (!this.unshared && this.recall(xs)) return;
    const short = xs.length <= 3 && this.proto >= 2;
    if (!short) this.write1(0x28);
    for (let i = 0; i < xs.length; i++) {
      if (intOrNone) this.saveIntOrNone(xs[i] as PyInt | null);
      else this.savePlain(xs[i] as PyPlain);
    }
    this.write1(short ? 0x84 + xs.length : 0x74); // TUPLE1..3, TUPLE
    if (this.unshared) this.memoPut();
    else this.remember(xs);
  }

  /**
   * A dataclass instance up to its state: cls, (), NEWOBJ, memo. The caller then saves
   * its __dict__ and writes BUILD. Only InferStride objects can be shared in a profile,
   * so only they are kept in the identity memo.
   */
  private newObj(cls: Key, shareable?: unknown): void {
    this.boundary();
    const g = this.globalKeyMemo[cls];
    if (g >= 0) {
      this.boundary();
      this.memoGet(g);
    } else {
      this.saveGlobal(KEYS[cls]);
      this.globalKeyMemo[cls] = this.globalMemo.get(KEYS[cls])!;
    }
    this.boundary();
    this.write1(0x29); // the empty args tuple
    this.write1(0x81); // NEWOBJ
    if (shareable !== undefined) this.remember(shareable);
    else this.memoPut();
  }
  /** save_dict's start for a fresh dict of n str keys: EMPTY_DICT, memo, and MARK if n > 1. */
  private dictStart(n: number): void {
    this.boundary();
    this.write1(0x7d);
    this.memoPut();
    if (n > 1) this.write1(0x28);
  }
  /** ... and its end: SETITEM for one item, SETITEMS for 2 to 1000 (ours have at most 4). */
  private dictEnd(n: number): void {
    this.write1(n === 1 ? 0x73 : 0x75);
  }

  /**
   * defaultdict(factory) through its __reduce__, up to its items; true if they are to be
   * written (false: it was memoised, a BINGET was written).
   */
  private defaultDictStart(obj: unknown, factory: Key, unshared = false): boolean {
    this.boundary();
    if (!unshared && this.recall(obj)) return false;
    this.saveGlobal('defaultdict', 'collections');
    this.boundary(); // save((factory,))
    this.saveGlobal(KEYS[factory]);
    this.tuple1End();
    this.write1(0x52); // REDUCE
    if (unshared) this.memoPut();
    else this.remember(obj);
    return true;
  }
  /**
   * batch_dict over an iterator of `size` items, in place: MARK before a batch of two or
   * more, SETITEMS after it, a lone last item with SETITEM; batches of 1000. Called around
   * each entry of a code state (entries hold no defaultdict, so the counters never nest).
   */
  private batchItem(size: number): void {
    if (this.batchAt % BATCHSIZE === 0) {
      this.batchLen = Math.min(BATCHSIZE, size - this.batchAt);
      if (this.batchLen > 1) this.write1(0x28);
    }
  }
  private batchItemEnd(size: number): void {
    this.batchAt++;
    if (this.batchAt % BATCHSIZE === 0 || this.batchAt === size) this.write1(this.batchLen > 1 ? 0x75 : 0x73);
  }

  private saveCodeId(id: CodeId): void {
    const n = (this.next ? 5 : 4) + (id.extra?.length ?? 0);
    this.newObj(K_CodeId);
    this.dictStart(n);
    const g = this.codeStrings?.get(codeKey(id));
    this.saveKey(K_filename);
    this.saveStrIn(g?.[0] ?? 0, id.filename);
    this.saveKey(K_firstlineno);
    this.saveInt(id.firstlineno);
    this.saveKey(K_name);
    this.saveStrIn(g?.[1] ?? 0, id.name);
    this.saveKey(K_file_hash);
    this.saveStrIn(g?.[2] ?? 0, id.file_hash);
    if (this.next) {
      this.saveKey(K_closure_hash);
      this.saveIntOrNone(id.closure_hash ?? null);
    }
    this.saveExtra(id.extra);
    this.dictEnd(n);
    this.write1(0x62); // BUILD
  }

  /** saveStr of a string that is one object with the equal ones of its group only (CodeStrings). */
  private saveStrIn(group: number, s: string): void {
    if (group === 0) return this.saveStr(s);
    const key = `${group}\u0000${s}`;
    const m = this.groupMemo.get(key);
    if (m !== undefined) {
      this.boundary();
      return this.memoGet(m);
    }
    // a fresh object: written out, its memo slot reached only through its group
    const saved = this.strMemo;
    this.strMemo = new Map();
    this.saveStr(s);
    this.groupMemo.set(key, this.strMemo.get(s)!);
    this.strMemo = saved;
  }

  private saveIntOrNone(v: PyInt | null): void {
    if (v === null) {
      this.boundary();
      this.write1(0x4e); // NONE
    } else this.saveInt(v);
  }

  /** Fields of a newer layout, after the known ones, as they came. */
  private saveExtra(extra: PyFields | undefined): void {
    if (extra === undefined) return;
    for (const [k, v] of extra) {
      this.saveStr(k);
      this.savePlain(v);
    }
  }
  private savePlain(v: PyPlain): void {
    if (v === null) return this.saveIntOrNone(null);
    if (typeof v === 'boolean') {
      this.boundary();
      return this.write1(this.proto >= 2 ? (v ? 0x88 : 0x89) : 0x49);
    }
    if (typeof v === 'string') return this.saveStr(v);
    if (Array.isArray(v)) return this.saveTupleWith(v, false);
    this.saveInt(v as PyInt);
  }

  private saveCodeState(cs: CodeState): void {
    this.newObj(K_CodeState);
    this.dictStart(1);
    this.saveKey(K_automatic_dynamic);
    const ad = cs.automaticDynamic;
    if (this.defaultDictStart(ad, K_FrameStateSizeEntry, this.statesUnshared)) {
      this.batchAt = 0;
      ad.forEach(this.saveSourceEntry, this);
    }
    this.dictEnd(1);
    this.write1(0x62);
  }

  private saveSourceEntry(e: FrameStateSizeEntry, src: string, ad: Map<string, FrameStateSizeEntry>): void {
    const n = ad.size;
    this.batchItem(n);
    this.saveSourceName(src);
    this.saveEntry(e);
    this.batchItemEnd(n);
  }

  private saveSourceName(src: string): void {
    if (!this.perCodeSources) {
      // The few source names recur in every code state: their memo indices come from a
      // small map, not from the one of every string (strMemo's entries never change).
      const m = this.sourceMemo.get(src);
      if (m !== undefined) {
        this.boundary();
        return this.memoGet(m);
      }
      this.saveStr(src);
      if (this.sourceMemo.size < 1024) this.sourceMemo.set(src, this.strMemo.get(src)!);
      return;
    }
    // A fresh string object: its memo slot is never reused by another code state.
    const saved = this.strMemo;
    this.strMemo = new Map();
    this.saveStr(src);
    this.strMemo = saved;
  }

  private saveEntry(e: FrameStateSizeEntry): void {
    const n = (this.next ? 5 : 3) + (e.extra?.length ?? 0);
    this.newObj(K_FrameStateSizeEntry);
    this.dictStart(n);
    this.saveKey(K_scalar);
    this.saveAtom(e.scalar);
    this.saveKey(K_size);
    this.saveTupleField(e.size);
    this.saveKey(K_stride);
    this.saveTupleField(e.stride);
    if (this.next) {
      this.saveKey(K_excluded_sizes);
      if (e.excluded_sizes == null) this.saveIntOrNone(null);
      else this.saveTupleWith(e.excluded_sizes, true);
      this.saveKey(K_excluded_scalar);
      this.saveIntOrNone(e.excluded_scalar ?? null);
    }
    this.saveExtra(e.extra);
    this.dictEnd(n);
    this.write1(0x62);
  }

  private saveInferStride(s: InferStride): void {
    this.boundary();
    if (this.recall(s)) return;
    this.newObj(K_InferStride, s);
    this.dictStart(1);
    this.saveKey(K_dim);
    this.saveInt(s.dim);
    this.dictEnd(1);
    this.write1(0x62);
  }
}

/** Minimal little-endian two's complement, as CPython's save_long for LONG1/LONG4. */
function longBytes(v: bigint): number[] {
  if (v === 0n) return [];
  const abs = v < 0n ? -v : v;
  const nbits = abs.toString(2).length;
  let nbytes = (nbits >> 3) + 1;
  let x = v < 0n ? (1n << BigInt(8 * nbytes)) + v : v;
  const out: number[] = [];
  for (let i = 0; i < nbytes; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  if (v < 0n && nbytes > 1 && out[nbytes - 1] === 0xff && (out[nbytes - 2] & 0x80) !== 0) {
    out.pop();
    nbytes--;
  }
  return out;
}

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function le64(n: number): number[] {
  return [...le32(n >>> 0), ...le32(Math.floor(n / 2 ** 32))];
}
