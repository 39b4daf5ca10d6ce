import { toPyInt } from '../../model/int.ts';
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
const MEMO_CHUNK_BITS = 12;
const MEMO_CHUNK_MASK = (1 << MEMO_CHUNK_BITS) - 1;
/** The () a NEWOBJ pops right away: never memoised, never kept. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * Reads a pickle (protocols 0 to 5) into plain values. Only the allow-listed globals can
 * be named; no code from the pickle runs. Every failure is a PickleError with the offset.
 */
export function unpickle(bytes: Uint8Array): unknown {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  let op = 0;
  let opAt = 0;
  // stack[0..sp) is the stack: truncating by `sp` rather than `length` keeps V8 from
  // trimming and regrowing the backing store at every SETITEMS.
  const stack: unknown[] = [];
  let sp = 0;
  const marks: number[] = [];
  // Memo indices are dense in practice (MEMOIZE); a far-off PUT index goes to a side map.
  // The dense part in chunks that are never copied as it grows (MEMOIZE makes one entry
  // for every few bytes); memoLen plays the part of an array's length.
  const memo: unknown[][] = [];
  let memoLen = 0;
  const farMemo = new Map<number, unknown>();
  let memoCount = 0;
  let frameEnd = -1;

  const fail = (msg: string, at = opAt): never => {
    throw new PickleError(msg, at);
  };
  const need = (k: number): void => {
    if (k < 0 || pos + k > n) fail(`truncated: opcode ${opName(op)} needs ${k} more bytes, ${n - pos} left`);
    if (frameEnd >= 0 && pos + k > frameEnd) fail(`opcode ${opName(op)} runs past the end of its frame`);
  };
  const u8 = (): number => {
    need(1);
    return b[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(n - pos)) fail(`truncated: opcode ${opName(op)} declares ${v} bytes, ${n - pos} left`);
    return Number(v);
  };
  const line = (): [number, number] => {
    const start = pos;
    const end = b.indexOf(0x0a, pos);
    if (end < 0 || (frameEnd >= 0 && end >= frameEnd)) fail(`truncated: opcode ${opName(op)} has no end of line`);
    pos = end + 1;
    return [start, end];
  };
  const lineText = (): string => {
    const [s, e] = line();
    let t = '';
    for (let i = s; i < e; i++) t += String.fromCharCode(b[i]);
    return t;
  };
  const push = (v: unknown): void => {
    if (sp >= MAX_STACK) fail('stack too deep');
    stack[sp++] = v;
  };
  // Values above the innermost MARK are stack[base..]; MARKs are indices, not stack items.
  const base = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (sp <= base()) fail(`opcode ${opName(op)} on an empty stack${marks.length ? ' (above a MARK)' : ''}`);
    return stack[--sp];
  };
  const top = (): unknown => {
    if (sp <= base()) fail(`opcode ${opName(op)} on an empty stack${marks.length ? ' (above a MARK)' : ''}`);
    return stack[sp - 1];
  };
  /** Ends the innermost MARK; returns where its items start (caller truncates the stack). */
  const popMark = (): number => {
    const start = marks.pop();
    if (start === undefined) fail(`opcode ${opName(op)} without a MARK`);
    return start!;
  };
  const takeMark = (): unknown[] => {
    const start = popMark();
    const items = stack.slice(start, sp);
    sp = start;
    return items;
  };
  const str = (len: number): string => {
    need(len);
    const s = decodeUtf8(b, pos, pos + len);
    if (s === null) fail('string is not valid UTF-8');
    pos += len;
    return s!;
  };
  const bytesOf = (len: number): Uint8Array => {
    need(len);
    const v = b.slice(pos, pos + len);
    pos += len;
    return v;
  };
  const memoGet = (i: number): unknown => {
    const v = i >= 0 && i < memoLen ? memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] : farMemo.get(i);
    if (v === undefined) fail(`memo key ${i} was never stored`);
    return v;
  };
  const memoPut = (i: number): void => {
    const v = top();
    if (i < 0) fail('negative PUT argument');
    if (i < memoLen) {
      memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] = v; // below memoLen every slot is set
    } else if (i === memoLen) {
      if ((i & MEMO_CHUNK_MASK) === 0) memo.push(new Array(MEMO_CHUNK_MASK + 1));
      memo[i >>> MEMO_CHUNK_BITS][i & MEMO_CHUNK_MASK] = v;
      memoLen++;
      memoCount++;
    } else {
      if (!farMemo.has(i)) memoCount++;
      farMemo.set(i, v);
    }
  };
  const lookupGlobal = (module: string, name: string): PyGlobal => {
    const g = ALLOWED.get(`${module}\n${name}`);
    if (!g) fail(`refusing global ${module}.${name}: not one of the classes a PGO profile holds`);
    return g!;
  };
  /** SETITEM(S): stack[start..] are key, value pairs for the dict below them. */
  const setItems = (start: number): void => {
    if (start <= base()) fail(`opcode ${opName(op)} with no dict below its items`);
    const target = stack[start - 1];
    let d: PyDict;
    if (isDict(target)) d = target;
    else if (isInstance(target) && target.items) d = target.items;
    else return fail(`SETITEM(S) on a ${typeName(target)}`);
    if ((sp - start) % 2 !== 0) fail('SETITEMS with an odd number of items');
    beforeDictChange(d);
    for (let i = start; i < sp; i += 2) {
      const k = stack[i];
      if (isList(k) || isDict(k)) fail(`unhashable dict key: ${typeName(k)}`);
      dictPush(d, k, stack[i + 1]);
    }
    sp = start;
  };
  const decodeLong = (start: number, len: number): bigint | number => {
    if (len === 0) return 0;
    if (len <= 6) {
      // up to 48 bits: exact in doubles, no BigInt garbage
      let v = 0;
      for (let i = len - 1; i >= 0; i--) v = v * 256 + b[start + i];
      return b[start + len - 1] & 0x80 ? v - 2 ** (8 * len) : v;
    }
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[start + i]);
    if (b[start + len - 1] & 0x80) v -= 1n << BigInt(8 * len);
    return toPyInt(v);
  };
  const parseDecimal = (t: string): number | bigint => {
    const s = t.endsWith('L') ? t.slice(0, -1) : t;
    if (!/^[+-]?\d+$/.test(s)) fail(`not an integer: ${JSON.stringify(t)}`);
    return toPyInt(BigInt(s));
  };
  const newDataclass = (cls: unknown): PyInstance => {
    if (!(cls instanceof PyGlobal) || !cls.dataclass) {
      return fail(`cannot create an instance of ${describe(cls)}`);
    }
    return newInstance(cls);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal)) return fail(`REDUCE on ${describe(fn)}, not a class`);
    if (!Array.isArray(args)) return fail(`REDUCE arguments are a ${typeName(args)}, not a tuple`);
    if (fn.module === 'collections' && fn.name === 'defaultdict') {
      if (args.length > 1) fail('defaultdict with more than one argument');
      return newDefaultDict(fn, args.length ? args[0] : null);
    }
    if (fn.name === '_reconstructor') {
      // copyreg._reconstructor(cls, object, None): object.__new__(cls)
      const base = args[1];
      if (args.length !== 3 || !(base instanceof PyGlobal) || base.name !== 'object' || args[2] !== null) {
        fail('copyreg._reconstructor with arguments other than (cls, object, None)');
      }
      return newDataclass(args[0]);
    }
    if (fn.module === PGO && ENUMS.has(fn.name)) {
      if (args.length !== 1 || args[0] !== 0) fail(`${fn.qualified} has no member with value ${describe(args[0])}`);
      return ENUMS.get(fn.name);
    }
    return fail(`refusing to call ${fn.qualified}`);
  };

  for (;;) {
    if (pos >= n) fail('truncated: no STOP opcode', pos);
    if (frameEnd >= 0 && pos >= frameEnd) frameEnd = -1;
    opAt = pos;
    op = b[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: { // FRAME
        const len = u64();
        if (frameEnd >= 0) fail('FRAME inside a frame');
        if (pos + len > n) fail(`truncated: frame of ${len} bytes, ${n - pos} left`);
        frameEnd = pos + len;
        break;
      }
      case 0x2e: { // STOP
        const v = pop();
        if (marks.length) fail('STOP with an open MARK');
        return v;
      }
      case 0x28: // MARK
        if (marks.length >= MAX_STACK) fail('too many MARKs');
        marks.push(sp);
        break;
      case 0x30: // POP
        if (sp > base()) sp--;
        else popMark();
        break;
      case 0x31: // POP_MARK
        sp = popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x4a: push(i32()); break; // BININT
      case 0x8a: { // LONG1
        const len = u8();
        need(len);
        push(decodeLong(pos, len));
        pos += len;
        break;
      }
      case 0x8b: { // LONG4
        const len = i32();
        if (len < 0) fail('LONG4 with a negative length');
        need(len);
        push(decodeLong(pos, len));
        pos += len;
        break;
      }
      case 0x49: { // INT
        const t = lineText();
        if (t === '01') push(true);
        else if (t === '00') push(false);
        else push(parseDecimal(t));
        break;
      }
      case 0x4c: push(parseDecimal(lineText())); break; // LONG
      case 0x46: { // FLOAT
        const t = lineText();
        const v = Number(t);
        if (Number.isNaN(v) && !/nan/i.test(t)) fail(`not a float: ${JSON.stringify(t)}`);
        push(new PyFloat(v));
        break;
      }
      case 0x47: { // BINFLOAT
        need(8);
        push(new PyFloat(dv.getFloat64(pos, false)));
        pos += 8;
        break;
      }
      case 0x8c: push(str(u8())); break; // SHORT_BINUNICODE
      case 0x58: push(str(u32())); break; // BINUNICODE
      case 0x8d: push(str(u64())); break; // BINUNICODE8
      case 0x56: { // UNICODE
        const [s, e] = line();
        const v = decodeRawUnicodeEscape(b, s, e);
        if (v === null) fail('bad raw-unicode-escape string');
        push(v);
        break;
      }
      case 0x53: push(pyStringLiteral(lineText(), fail)); break; // STRING
      case 0x54: { // BINSTRING
        const len = i32();
        if (len < 0) fail('BINSTRING with a negative length');
        push(latin1(bytesOf(len)));
        break;
      }
      case 0x55: push(latin1(bytesOf(u8()))); break; // SHORT_BINSTRING
      case 0x43: push(bytesOf(u8())); break; // SHORT_BINBYTES
      case 0x42: push(bytesOf(u32())); break; // BINBYTES
      case 0x8e: push(bytesOf(u64())); break; // BINBYTES8
      case 0x96: push(bytesOf(u64())); break; // BYTEARRAY8
      // EMPTY_TUPLE; NEWOBJ's args (the next opcode) need no array of their own
      case 0x29: push(b[pos] === 0x81 ? NO_ARGS : []); break;
      case 0x85: push([pop()]); break; // TUPLE1
      case 0x86: { // TUPLE2
        const y = pop(), x = pop();
        push([x, y]);
        break;
      }
      case 0x87: { // TUPLE3
        const z = pop(), y = pop(), x = pop();
        push([x, y, z]);
        break;
      }
      case 0x74: { // TUPLE: rank-4 to 6 shapes as literals, which V8 can pretenure (see py-values.ts)
        const start = popMark();
        const k = sp - start;
        const s = stack;
        const t = k === 4 ? [s[start], s[start + 1], s[start + 2], s[start + 3]]
          : k === 5 ? [s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4]]
          : k === 6 ? [s[start], s[start + 1], s[start + 2], s[start + 3], s[start + 4], s[start + 5]]
          : s.slice(start, sp);
        sp = start;
        push(t);
        break;
      }
      case 0x5d: push(newList([])); break; // EMPTY_LIST
      case 0x6c: push(newList(takeMark())); break; // LIST
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!isList(l)) return fail(`APPEND to a ${typeName(l)}`);
        l.items.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = takeMark();
        const l = top();
        if (!isList(l)) return fail(`APPENDS to a ${typeName(l)}`);
        for (const v of items) l.items.push(v);
        break;
      }
      case 0x7d: push(newDict()); break; // EMPTY_DICT
      case 0x64: { // DICT: the dict goes below its items, then they are set into it
        const start = popMark();
        for (let i = sp; i > start; i--) stack[i] = stack[i - 1];
        stack[start] = newDict();
        sp++;
        setItems(start + 1);
        break;
      }
      case 0x73: // SETITEM
        if (sp - 2 < base()) fail('SETITEM needs a key and a value');
        setItems(sp - 2);
        break;
      case 0x75: // SETITEMS
        setItems(popMark());
        break;
      case 0x8f: case 0x90: case 0x91: // EMPTY_SET, ADDITEMS, FROZENSET
        fail(`sets are not part of a PGO profile (opcode ${opName(op)})`);
        break;
      case 0x68: push(memoGet(u8())); break; // BINGET
      case 0x6a: push(memoGet(u32())); break; // LONG_BINGET
      case 0x67: push(memoGet(Number(parseDecimal(lineText())))); break; // GET
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x70: memoPut(Number(parseDecimal(lineText()))); break; // PUT
      case 0x94: memoPut(memoCount); break; // MEMOIZE
      case 0x63: { // GLOBAL
        const module = lineText();
        const name = lineText();
        push(lookupGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(lookupGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        push(reduce(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        if (!Array.isArray(args) || args.length) fail('NEWOBJ with arguments: the pgo classes take none');
        push(newDataclass(cls));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kw = pop(), args = pop(), cls = pop();
        if (!Array.isArray(args) || args.length || !isDict(kw) || kw.size) fail('NEWOBJ_EX with arguments');
        push(newDataclass(cls));
        break;
      }
      case 0x62: { // BUILD
        let state = pop();
        const obj = top();
        if (!isInstance(obj) || obj.items) return fail(`BUILD on ${describe(obj)}`);
        if (Array.isArray(state) && state.length === 2) {
          // (state, slotstate): dataclasses without slots have no slot state
          if (state[1] !== null) fail('BUILD with slot state');
          state = state[0];
        }
        if (!isDict(state)) return fail(`BUILD with a ${typeName(state)} state, not a dict`);
        adoptState(obj, state);
        break;
      }
      case 0x50: case 0x51: fail('persistent ids are not part of a PGO profile'); break;
      case 0x82: case 0x83: case 0x84: fail('extension registry codes are not allowed'); break;
      case 0x69: case 0x6f: fail(`old-style instance opcodes (${opName(op)}) are not allowed`); break;
      case 0x97: case 0x98: fail('out-of-band buffers are not part of a PGO profile'); break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Protocol 0's STRING: a Python bytes literal, quoted. */
function pyStringLiteral(t: string, fail: (m: string) => never): string {
  const q = t[0];
  if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) fail('STRING is not quoted');
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
