import { toPyInt } from '../../model/int.ts';
import { nanOfBits } from '../../model/float.ts';
import { DYNAMIC, UNSET } from '../../model/atoms.ts';
import { PickleError } from './errors.ts';
import { adoptState, beforeDictChange, dictPush, isDict, isInstance, isList, newDefaultDict, newDict, newInstance, newList, PyFloat, PyGlobal, type PyDict, type PyInstance } from './py-values.ts';
import { decodeRawUnicodeEscape, decodeUtf8 } from './text.ts';

const PGO = 'torch._dynamo.pgo';
/** The pgo dataclasses: built with NEWOBJ (or copyreg's reconstructor) and BUILD, never called. */
const DATACLASSES = new Set(['CodeId', 'CodeState', 'FrameStateSizeEntry', 'InferStride']);
const ENUMS = new Map<string, symbol>([
  ['AutoDynamic', DYNAMIC],
  ['AutoUnset', UNSET],
]);

/**
 * The allow-list: every global a PyTorch profile pickle names, protocols 0 to 5, and
 * nothing else. Old protocols spell builtins and copyreg the Python 2 way.
 */
const ALLOWED = new Map<string, PyGlobal>();
for (const [m, n] of [
  ['collections', 'defaultdict'],
  ['copy_reg', '_reconstructor'],
  ['copyreg', '_reconstructor'],
  ['__builtin__', 'object'],
  ['builtins', 'object'],
  ...[...DATACLASSES, ...ENUMS.keys()].map((n) => [PGO, n]),
]) {
  ALLOWED.set(`${m}\n${n}`, new PyGlobal(m, n, m === PGO && DATACLASSES.has(n)));
}

const MAX_STACK = 1 << 22;
/**
 * CPython (3.11 on) refuses to read or print an int of more digits than this
 * (sys.get_int_max_str_digits), so PyTorch can neither load one from protocol 0 text nor
 * log or guard on one; V8's decimal conversions of such an int grow faster than its size
 * (a 2 MB LONG4 took seconds each time the store keyed it).
 */
const MAX_INT_DIGITS = 4300;
const INT_TOO_LONG = `an int of more than ${MAX_INT_DIGITS} decimal digits (more than CPython reads or prints: sys.get_int_max_str_digits)`;
let TOO_MANY_DIGITS: bigint | undefined;
const MEMO_CHUNK_BITS = 12;
const MEMO_CHUNK_MASK = (1 << MEMO_CHUNK_BITS) - 1;
const NO_CHUNK: unknown[] = [];
/** A memo chunk, filled so that it holds any value from birth (one elements kind in every run). */
function newChunk(): unknown[] {
  return new Array<unknown>(MEMO_CHUNK_MASK + 1).fill(undefined);
}
/** The () a NEWOBJ pops right away: never memoised, never kept. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * Reads a pickle (protocols 0 to 5) into plain values. Only the allow-listed globals can
 * be named; no code from the pickle runs. Every failure is a PickleError with the offset.
 */
export function unpickle(bytes: Uint8Array): unknown {
  return unpickleTree(bytes).value;
}

/**
 * unpickle, and whether its value is a tree as far as a profile can see: `tree` is true when
 * no memo fetch (GET, BINGET, LONG_BINGET) or DUP gave back an object that can hold a tuple,
 * so every tuple (every array but the NEWOBJ args) sits in exactly one place. Objects that
 * cannot lead a profile to a tuple are left out: classes, and InferStride instances (a profile
 * takes only their dim). Strings, ints and the AutoDynamic/AutoUnset tokens are no objects.
 */
export function unpickleTree(bytes: Uint8Array): { value: unknown; tree: boolean } {
  const u = new Unpickler(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const value = u.run();
  return { value, tree: !u.refetched };
}

/**
 * One run of the unpickler. A class, not closures in unpickle: V8 optimised the closures
 * made afresh for every pickle again and again (and unpickle with them), in a process that
 * reads many pickles.
 */
class Unpickler {
  private readonly n: number;
  private readonly dv: DataView;
  private pos = 0;
  private op = 0;
  private opAt = 0;
  // stack[0..sp) is the stack: truncating by `sp` rather than `length` keeps V8 from
  // trimming and regrowing the backing store at every SETITEMS. Made with an element that
  // is not a small int: the array holds objects from birth, so its elements kind (and map)
  // is the same in every run and V8's optimised code for one run stays good for the next.
  private readonly stack: unknown[] = [null];
  private sp = 0;
  private readonly marks: number[] = [];
  // Memo indices are dense in practice (MEMOIZE); a far-off PUT index goes to a side map.
  // The dense part in chunks that are never copied as it grows (MEMOIZE makes one entry
  // for every few bytes); memoLen plays the part of an array's length.
  // memo[0] is a placeholder until the first MEMOIZE (objects from birth, as the stack).
  private readonly memo: unknown[][] = [NO_CHUNK];
  private memoLen = 0;
  private readonly farMemo = new Map<number, unknown>();
  private memoCount = 0;
  private frameEnd = -1;
  /** A memo fetch or DUP gave back an object that may hold tuples (see unpickleTree). */
  refetched = false;

  constructor(private readonly b: Buffer) {
    this.n = b.length;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private fail(msg: string, at = this.opAt): never {
    throw new PickleError(msg, at);
  }
  private need(k: number): void {
    if (k < 0 || this.pos + k > this.n) this.fail(`truncated: opcode ${opName(this.op)} needs ${k} more byte${k === 1 ? '' : 's'}, ${this.n - this.pos} left`);
    if (this.frameEnd >= 0 && this.pos + k > this.frameEnd) this.fail(`opcode ${opName(this.op)} runs past the end of its frame`);
  }
  private u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }
  private u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.n - this.pos)) this.fail(`truncated: opcode ${opName(this.op)} declares ${v} bytes, ${this.n - this.pos} left`);
    return Number(v);
  }
  private line(): [number, number] {
    const start = this.pos;
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0 || (this.frameEnd >= 0 && end >= this.frameEnd)) this.fail(`truncated: opcode ${opName(this.op)} has no end of line`);
    this.pos = end + 1;
    return [start, end];
  }
  private lineText(): string {
    const [s, e] = this.line();
    let t = '';
    for (let i = s; i < e; i++) t += String.fromCharCode(this.b[i]);
    return t;
  }
  private push(v: unknown): void {
    if (this.sp >= MAX_STACK) this.fail('stack too deep');
    this.stack[this.sp++] = v;
  }
  // Values above the innermost MARK are stack[base..]; MARKs are indices, not stack items.
  private base(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }
  private pop(): unknown {
    if (this.sp <= this.base()) this.fail(`opcode ${opName(this.op)} on an empty stack${this.marks.length ? ' (above a MARK)' : ''}`);
    return this.stack[--this.sp];
  }
  private top(): unknown {
    if (this.sp <= this.base()) this.fail(`opcode ${opName(this.op)} on an empty stack${this.marks.length ? ' (above a MARK)' : ''}`);
    return this.stack[this.sp - 1];
  }
  /** Ends the innermost MARK; returns where its items start (caller truncates the stack). */
  private popMark(): number {
    const start = this.marks.pop();
    if (start === undefined) this.fail(`opcode ${opName(this.op)} without a MARK`);
    return start!;
  }
  private takeMark(): unknown[] {
    const start = this.popMark();
    const items = this.stack.slice(start, this.sp);
    this.sp = start;
    return items;
  }
  private str(len: number): string {
    this.need(len);
    const s = decodeUtf8(this.b, this.pos, this.pos + len);
    if (s === null) this.fail('string is not valid UTF-8');
    this.pos += len;
    return s!;
  }
  private bytesOf(len: number): Uint8Array {
    this.need(len);
    const v = this.b.slice(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }
  private memoGet(i: number): unknown {
    const v = i >= 0 && i < this.memoLen ? this.memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] : this.farMemo.get(i);
    if (v === undefined) this.fail(`memo key ${i} was never stored`);
    if (typeof v === 'object') this.again(v);
    return v;
  }
  /** An object met a second time (memo fetch, DUP): unless it cannot hold a tuple, the value is no tree. */
  private again(v: unknown): void {
    if (v === null || v instanceof PyGlobal || (isInstance(v) && v.cls.module === PGO && v.cls.name === 'InferStride' && !v.items)) return;
    this.refetched = true;
  }
  private memoPut(i: number): void {
    const v = this.top();
    if (i < 0) this.fail('negative PUT argument');
    if (i < this.memoLen) {
      this.memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] = v; // below memoLen every slot is set
    } else if (i === this.memoLen) {
      if ((i & MEMO_CHUNK_MASK) === 0) this.memo[i >>> MEMO_CHUNK_BITS] = newChunk();
      this.memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] = v;
      this.memoLen++;
      this.memoCount++;
    } else {
      if (!this.farMemo.has(i)) this.memoCount++;
      this.farMemo.set(i, v);
    }
  }
  private lookupGlobal(module: string, name: string): PyGlobal {
    const g = ALLOWED.get(`${module}\n${name}`);
    if (!g) this.fail(`refusing global ${module}.${name}: not one of the classes a PGO profile holds`);
    return g!;
  }
  /** SETITEM(S): stack[start..] are key, value pairs for the dict below them. */
  private setItems(start: number): void {
    if (start <= this.base()) this.fail(`opcode ${opName(this.op)} with no dict below its items`);
    const target = this.stack[start - 1];
    let d: PyDict;
    if (isDict(target)) d = target;
    else if (isInstance(target) && target.items) d = target.items;
    else return this.fail(`SETITEM(S) on a ${typeName(target)}`);
    if ((this.sp - start) % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    beforeDictChange(d);
    for (let i = start; i < this.sp; i += 2) {
      const k = this.stack[i];
      if (isList(k) || isDict(k)) this.fail(`unhashable dict key: ${typeName(k)}`);
      dictPush(d, k, this.stack[i + 1]);
    }
    this.sp = start;
  }
  private decodeLong(start: number, len: number): bigint | number {
    if (len === 0) return 0;
    if (len <= 6) {
      // up to 48 bits: exact in doubles, no BigInt garbage
      let v = 0;
      for (let i = len - 1; i >= 0; i--) v = v * 256 + this.b[start + i];
      return this.b[start + len - 1] & 0x80 ? v - 2 ** (8 * len) : v;
    }
    // Through hex text, most significant byte first: linear in len, where shifting a BigInt
    // a byte at a time copies it every time (a LONG4 of 2 MB ran past 30 s).
    let v = BigInt('0x' + Buffer.from(this.b.subarray(start, start + len)).reverse().toString('hex'));
    if (this.b[start + len - 1] & 0x80) v -= 1n << BigInt(8 * len);
    // Up to 1785 bytes an int has at most 4299 digits: only a longer one needs the check.
    if (len > 1785 && (v < 0n ? -v : v) >= (TOO_MANY_DIGITS ??= 10n ** BigInt(MAX_INT_DIGITS))) this.fail(INT_TOO_LONG);
    return toPyInt(v);
  }
  private parseDecimal(t: string): number | bigint {
    const s = t.endsWith('L') ? t.slice(0, -1) : t;
    if (!/^[+-]?\d+$/.test(s)) this.fail(`not an integer: ${JSON.stringify(t.length > 40 ? t.slice(0, 40) + '…' : t)}`);
    if (s.length - (s[0] === '+' || s[0] === '-' ? 1 : 0) > MAX_INT_DIGITS) this.fail(INT_TOO_LONG);
    return toPyInt(BigInt(s));
  }
  private newDataclass(cls: unknown): PyInstance {
    if (!(cls instanceof PyGlobal) || !cls.dataclass) {
      return this.fail(`cannot create an instance of ${describe(cls)}`);
    }
    return newInstance(cls);
  }
  private reduce(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof PyGlobal)) return this.fail(`REDUCE on ${describe(fn)}, not a class`);
    if (!Array.isArray(args)) return this.fail(`REDUCE arguments are a ${typeName(args)}, not a tuple`);
    if (fn.module === 'collections' && fn.name === 'defaultdict') {
      if (args.length > 1) this.fail('defaultdict with more than one argument');
      return newDefaultDict(fn, args.length ? args[0] : null);
    }
    if (fn.name === '_reconstructor') {
      // copyreg._reconstructor(cls, object, None): object.__new__(cls)
      const baseCls = args[1];
      if (args.length !== 3 || !(baseCls instanceof PyGlobal) || baseCls.name !== 'object' || args[2] !== null) {
        this.fail('copyreg._reconstructor with arguments other than (cls, object, None)');
      }
      return this.newDataclass(args[0]);
    }
    if (fn.module === PGO && ENUMS.has(fn.name)) {
      if (args.length !== 1 || args[0] !== 0) this.fail(`${fn.qualified} has no member with value ${describe(args[0])}`);
      return ENUMS.get(fn.name);
    }
    return this.fail(`refusing to call ${fn.qualified}`);
  }

  run(): unknown {
    for (;;) {
      if (this.pos >= this.n) this.fail('truncated: no STOP opcode', this.pos);
      if (this.frameEnd >= 0 && this.pos >= this.frameEnd) this.frameEnd = -1;
      this.opAt = this.pos;
      this.op = this.b[this.pos++];
      switch (this.op) {
        case 0x80: { // PROTO
          const p = this.u8();
          if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
          break;
        }
        case 0x95: { // FRAME
          const len = this.u64();
          if (this.frameEnd >= 0) this.fail('FRAME inside a frame');
          if (this.pos + len > this.n) this.fail(`truncated: frame of ${len} bytes, ${this.n - this.pos} left`);
          this.frameEnd = this.pos + len;
          break;
        }
        case 0x2e: { // STOP
          const v = this.pop();
          if (this.marks.length) this.fail('STOP with an open MARK');
          return v;
        }
        case 0x28: // MARK
          if (this.marks.length >= MAX_STACK) this.fail('too many MARKs');
          this.marks.push(this.sp);
          break;
        case 0x30: // POP
          if (this.sp > this.base()) this.sp--;
          else this.popMark();
          break;
        case 0x31: // POP_MARK
          this.sp = this.popMark();
          break;
        case 0x32: { // DUP
          const v = this.top();
          if (typeof v === 'object') this.again(v);
          this.push(v);
          break;
        }
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x8a: { // LONG1
          const len = this.u8();
          this.need(len);
          this.push(this.decodeLong(this.pos, len));
          this.pos += len;
          break;
        }
        case 0x8b: { // LONG4
          const len = this.i32();
          if (len < 0) this.fail('LONG4 with a negative length');
          this.need(len);
          this.push(this.decodeLong(this.pos, len));
          this.pos += len;
          break;
        }
        case 0x49: { // INT
          const t = this.lineText();
          if (t === '01') this.push(true);
          else if (t === '00') this.push(false);
          else this.push(this.parseDecimal(t));
          break;
        }
        case 0x4c: this.push(this.parseDecimal(this.lineText())); break; // LONG
        case 0x46: { // FLOAT
          // float(text): repr's digits, or inf / nan (which Number() does not read as Python does)
          const t = this.lineText().trim();
          const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
          const v = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : t === '' ? NaN : Number(t);
          if (Number.isNaN(v) && !special) this.fail(`not a float: ${JSON.stringify(t)}`);
          this.push(new PyFloat(v));
          break;
        }
        case 0x47: { // BINFLOAT
          this.need(8);
          const v = this.dv.getFloat64(this.pos, false);
          // a nan keeps its bits, as CPython's float does (PyFloat.nanBits)
          this.push(Number.isNaN(v) ? nanOfBits(this.dv.getUint32(this.pos, false).toString(16).padStart(8, '0') + this.dv.getUint32(this.pos + 4, false).toString(16).padStart(8, '0'))! : new PyFloat(v));
          this.pos += 8;
          break;
        }
        case 0x8c: this.push(this.str(this.u8())); break; // SHORT_BINUNICODE
        case 0x58: this.push(this.str(this.u32())); break; // BINUNICODE
        case 0x8d: this.push(this.str(this.u64())); break; // BINUNICODE8
        case 0x56: { // UNICODE
          const [s, e] = this.line();
          const v = decodeRawUnicodeEscape(this.b, s, e);
          if (v === null) this.fail('bad raw-unicode-escape string');
          this.push(v);
          break;
        }
        case 0x53: { // STRING
          const v = pyStringLiteral(this.lineText());
          if (v === null) this.fail('STRING is not quoted');
          this.push(v);
          break;
        }
        case 0x54: { // BINSTRING
          const len = this.i32();
          if (len < 0) this.fail('BINSTRING with a negative length');
          this.push(latin1(this.bytesOf(len)));
          break;
        }
        case 0x55: this.push(latin1(this.bytesOf(this.u8()))); break; // SHORT_BINSTRING
        case 0x43: this.push(this.bytesOf(this.u8())); break; // SHORT_BINBYTES
        case 0x42: this.push(this.bytesOf(this.u32())); break; // BINBYTES
        case 0x8e: this.push(this.bytesOf(this.u64())); break; // BINBYTES8
        case 0x96: this.push(this.bytesOf(this.u64())); break; // BYTEARRAY8
        // EMPTY_TUPLE; NEWOBJ's args (the next opcode) need no array of their own
        case 0x29: this.push(this.b[this.pos] === 0x81 ? NO_ARGS : []); break;
        case 0x85: this.push([this.pop()]); break; // TUPLE1
        case 0x86: { // TUPLE2
          const y = this.pop(), x = this.pop();
          this.push([x, y]);
          break;
        }
        case 0x87: { // TUPLE3
          const z = this.pop(), y = this.pop(), x = this.pop();
          this.push([x, y, z]);
          break;
        }
        case 0x74: { // TUPLE: rank-4 to 6 shapes as literals, which V8 can pretenure (see py-values.ts)
          const start = this.popMark();
          const k = this.sp - start;
          const s = this.stack;
          const t = k === 4 ? [s[start], s[start + 1], s[start + 2], s[start + 3]]
            : k === 5 ? [s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4]]
            : k === 6 ? [s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5]]
            : s.slice(start, this.sp);
          this.sp = start;
          this.push(t);
          break;
        }
        case 0x5d: this.push(newList([])); break; // EMPTY_LIST
        case 0x6c: this.push(newList(this.takeMark())); break; // LIST
        case 0x61: { // APPEND
          const v = this.pop();
          const l = this.top();
          if (!isList(l)) return this.fail(`APPEND to a ${typeName(l)}`);
          l.items.push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.takeMark();
          const l = this.top();
          if (!isList(l)) return this.fail(`APPENDS to a ${typeName(l)}`);
          for (const v of items) l.items.push(v);
          break;
        }
        case 0x7d: this.push(newDict()); break; // EMPTY_DICT
        case 0x64: { // DICT: the dict goes below its items, then they are set into it
          const start = this.popMark();
          for (let i = this.sp; i > start; i--) this.stack[i] = this.stack[i - 1];
          this.stack[start] = newDict();
          this.sp++;
          this.setItems(start + 1);
          break;
        }
        case 0x73: // SETITEM
          if (this.sp - 2 < this.base()) this.fail('SETITEM needs a key and a value');
          this.setItems(this.sp - 2);
          break;
        case 0x75: // SETITEMS
          this.setItems(this.popMark());
          break;
        case 0x8f: case 0x90: case 0x91: // EMPTY_SET, ADDITEMS, FROZENSET
          this.fail(`sets are not part of a PGO profile (opcode ${opName(this.op)})`);
          break;
        case 0x68: this.push(this.memoGet(this.u8())); break; // BINGET
        case 0x6a: this.push(this.memoGet(this.u32())); break; // LONG_BINGET
        case 0x67: this.push(this.memoGet(Number(this.parseDecimal(this.lineText())))); break; // GET
        case 0x71: this.memoPut(this.u8()); break; // BINPUT
        case 0x72: this.memoPut(this.u32()); break; // LONG_BINPUT
        case 0x70: this.memoPut(Number(this.parseDecimal(this.lineText()))); break; // PUT
        case 0x94: this.memoPut(this.memoCount); break; // MEMOIZE
        case 0x63: { // GLOBAL
          const module = this.lineText();
          const name = this.lineText();
          this.push(this.lookupGlobal(module, name));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop(), module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.push(this.lookupGlobal(module as string, name as string));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop(), fn = this.pop();
          this.push(this.reduce(fn, args));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop(), cls = this.pop();
          if (!Array.isArray(args) || args.length) this.fail('NEWOBJ with arguments: the pgo classes take none');
          this.push(this.newDataclass(cls));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kw = this.pop(), args = this.pop(), cls = this.pop();
          if (!Array.isArray(args) || args.length || !isDict(kw) || kw.size) this.fail('NEWOBJ_EX with arguments');
          this.push(this.newDataclass(cls));
          break;
        }
        case 0x62: { // BUILD
          let state = this.pop();
          const obj = this.top();
          if (!isInstance(obj) || obj.items) return this.fail(`BUILD on ${describe(obj)}`);
          if (Array.isArray(state) && state.length === 2) {
            // (state, slotstate): dataclasses without slots have no slot state
            if (state[1] !== null) this.fail('BUILD with slot state');
            state = state[0];
          }
          if (!isDict(state)) return this.fail(`BUILD with a ${typeName(state)} state, not a dict`);
          adoptState(obj, state);
          break;
        }
        case 0x50: case 0x51: this.fail('persistent ids are not part of a PGO profile'); break;
        case 0x82: case 0x83: case 0x84: this.fail('extension registry codes are not allowed'); break;
        case 0x69: case 0x6f: this.fail(`old-style instance opcodes (${opName(this.op)}) are not allowed`); break;
        case 0x97: case 0x98: this.fail('out-of-band buffers are not part of a PGO profile'); break;
        default:
          this.fail(`unknown opcode 0x${this.op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Protocol 0's STRING: a Python bytes literal, quoted (null: not quoted). */
function pyStringLiteral(t: string): string | null {
  const q = t[0];
  if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) return null;
  const body = t.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

export function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'symbol') return v === DYNAMIC ? 'AutoDynamic' : 'AutoUnset';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'tuple';
  if (isList(v)) return 'list';
  if (isDict(v)) return 'dict';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyGlobal) return `class ${v.qualified}`;
  if (isInstance(v)) return v.cls.qualified;
  return typeof v;
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return typeName(v);
}

const NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x4a: 'BININT', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x8c: 'SHORT_BINUNICODE', 0x58: 'BINUNICODE', 0x8d: 'BINUNICODE8', 0x56: 'UNICODE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET',
  0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x81: 'NEWOBJ', 0x62: 'BUILD',
  0x73: 'SETITEM', 0x75: 'SETITEMS', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x49: 'INT', 0x4c: 'LONG',
  0x70: 'PUT', 0x67: 'GET', 0x94: 'MEMOIZE', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x47: 'BINFLOAT', 0x46: 'FLOAT', 0x53: 'STRING', 0x92: 'NEWOBJ_EX', 0x61: 'APPEND', 0x65: 'APPENDS',
};
function opName(op: number): string {
  return NAMES[op] ?? (op >= 0x20 && op < 0x7f ? `'${String.fromCharCode(op)}'` : `0x${op.toString(16)}`);
}
