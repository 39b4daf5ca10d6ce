import { codeKeyOnce } from '../../model/code-id.ts';
import { toPyInt, type PyInt } from '../../model/int.ts';
import type { CodeStrings } from './pickle-profile.ts';

/**
 * Which string objects each CodeId's filename, name and file_hash were where the pickle was
 * written: CPython's pickler memoises by identity, so a string written once and fetched again
 * (BINGET) was one object, and two writings of one text were two. A string that is one object
 * with a field name (`size`, `name`, ...) was the interned one: group 0, the writing process's
 * own (a function PyTorch compiled in that process: co_name is interned); every other object a
 * group of its own (PyTorch's code ids loaded from the profile it warm-started from keep the
 * unpickler's strings). Pickling the profile with these groups gives back the bytes.
 *
 * A walk of the opcodes that tracks only which object each string is. Null where the pickle
 * holds anything PyTorch's writer does not make (protocols 0 and 1, other opcodes, fields a
 * CodeId does not have): the caller then writes every string as the process's own.
 */
export function codeStringsOf(bytes: Uint8Array): CodeStrings | null {
  try {
    return walk(bytes);
  } catch (e) {
    if (e === UNKNOWN) return null;
    throw e;
  }
}

const UNKNOWN = new Error('not a pickle this walk knows');

/** A string object (its text and its number, the order it was made in), or any other value. */
interface Str {
  kind: 'str';
  text: string;
  id: number;
}
/** An int (a closure_hash's None too: null). */
interface Int {
  kind: 'int';
  value: PyInt | null;
}
interface Dict {
  kind: 'dict';
  items: Tok[];
}
interface Inst {
  kind: 'inst';
  cls: string;
  state: Dict | null;
}
interface Global {
  kind: 'global';
  name: string;
}
interface Other {
  kind: 'other';
}
type Tok = Str | Int | Dict | Inst | Global | Other;

const OTHER: Other = { kind: 'other' };
const CODE_ID_FIELDS = new Set(['filename', 'firstlineno', 'name', 'file_hash', 'closure_hash']);

function walk(b: Uint8Array): CodeStrings | null {
  if (b.length < 2 || b[0] !== 0x80 || b[1] < 2 || b[1] > 5) throw UNKNOWN;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const stack: Tok[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Tok>();
  const codeIds: Inst[] = [];
  /** String objects that were a field name of some dataclass's state. */
  const keys = new Set<number>();
  let strings = 0;
  let pos = 2;
  const need = (k: number) => {
    if (pos + k > b.length) throw UNKNOWN;
  };
  const pop = (): Tok => {
    if (!stack.length) throw UNKNOWN;
    return stack.pop()!;
  };
  const popMark = (): Tok[] => {
    const m = marks.pop();
    if (m === undefined) throw UNKNOWN;
    return stack.splice(m);
  };
  const text = (k: number) => {
    need(k);
    const s = Buffer.from(b.buffer, b.byteOffset + pos, k).toString('utf8');
    pos += k;
    return s;
  };
  /** LONG1/LONG4's little-endian two's complement. */
  const long = (k: number): PyInt => {
    need(k);
    let v = 0n;
    for (let i = k - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[pos + i]);
    if (k && b[pos + k - 1] & 0x80) v -= 1n << BigInt(8 * k);
    pos += k;
    return toPyInt(v);
  };
  const str = (k: number) => stack.push({ kind: 'str', text: text(k), id: strings++ });
  const get = (i: number) => {
    const t = memo.get(i);
    if (t === undefined) throw UNKNOWN;
    stack.push(t);
  };
  const put = (i: number) => {
    if (!stack.length) throw UNKNOWN;
    memo.set(i, stack[stack.length - 1]);
  };
  const setItems = (d: Tok, items: Tok[]) => {
    if (d.kind !== 'dict' || items.length % 2) throw UNKNOWN;
    d.items.push(...items);
  };
  for (;;) {
    need(1);
    const op = b[pos++];
    switch (op) {
      case 0x95: need(8); pos += 8; break; // FRAME
      case 0x2e: { // STOP
        const out = new Map<string, [number, number, number]>();
        const group = (t: Tok | undefined) => (t?.kind !== 'str' ? 0 : keys.has(t.id) ? 0 : t.id + 1);
        for (const c of codeIds) {
          const f = fields(c.state!);
          const filename = f.get('filename');
          const name = f.get('name');
          const fileHash = f.get('file_hash');
          const line = f.get('firstlineno');
          const closure = f.get('closure_hash');
          if (filename?.kind !== 'str' || name?.kind !== 'str' || fileHash?.kind !== 'str' || line?.kind !== 'int' || typeof line.value !== 'number') throw UNKNOWN;
          if (closure !== undefined && closure.kind !== 'int') throw UNKNOWN;
          const id = { filename: filename.text, firstlineno: line.value, name: name.text, file_hash: fileHash.text, ...(closure === undefined ? {} : { closure_hash: closure.value }) };
          out.set(codeKeyOnce(id), [group(filename), group(name), group(fileHash)]);
        }
        return out;
      }
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x71: need(1); put(b[pos++]); break; // BINPUT
      case 0x72: need(4); put(dv.getUint32(pos, true)); pos += 4; break; // LONG_BINPUT
      case 0x68: need(1); get(b[pos++]); break; // BINGET
      case 0x6a: need(4); get(dv.getUint32(pos, true)); pos += 4; break; // LONG_BINGET
      case 0x8c: need(1); str(b[pos++]); break; // SHORT_BINUNICODE
      case 0x58: { need(4); const k = dv.getUint32(pos, true); pos += 4; str(k); break; } // BINUNICODE
      case 0x8d: { need(8); const k = Number(dv.getBigUint64(pos, true)); pos += 8; str(k); break; } // BINUNICODE8
      case 0x63: { // GLOBAL module\nname\n
        const end1 = b.indexOf(0x0a, pos);
        const end2 = end1 < 0 ? -1 : b.indexOf(0x0a, end1 + 1);
        if (end2 < 0) throw UNKNOWN;
        const name = Buffer.from(b.buffer, b.byteOffset + end1 + 1, end2 - end1 - 1).toString('utf8');
        pos = end2 + 1;
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        pop();
        if (name.kind !== 'str') throw UNKNOWN;
        stack.push({ kind: 'global', name: name.text });
        break;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push(OTHER); break; // EMPTY_TUPLE
      case 0x85: pop(); stack.push(OTHER); break; // TUPLE1
      case 0x86: pop(); pop(); stack.push(OTHER); break; // TUPLE2
      case 0x87: pop(); pop(); pop(); stack.push(OTHER); break; // TUPLE3
      case 0x74: popMark(); stack.push(OTHER); break; // TUPLE
      case 0x5d: stack.push(OTHER); break; // EMPTY_LIST
      case 0x61: pop(); break; // APPEND
      case 0x65: popMark(); break; // APPENDS
      case 0x81: { // NEWOBJ
        pop();
        const cls = pop();
        const inst: Inst = { kind: 'inst', cls: cls.kind === 'global' ? cls.name : '', state: null };
        if (inst.cls === 'CodeId') codeIds.push(inst);
        stack.push(inst);
        break;
      }
      // REDUCE: the defaultdicts (their items follow, SETITEMS) and the two tokens
      case 0x52: pop(); pop(); stack.push({ kind: 'dict', items: [] }); break;
      case 0x7d: stack.push({ kind: 'dict', items: [] }); break; // EMPTY_DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(stack[stack.length - 1], [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack[stack.length - 1], items); break; } // SETITEMS
      case 0x62: { // BUILD
        const state = pop();
        const inst = stack[stack.length - 1];
        if (inst?.kind !== 'inst' || state.kind !== 'dict') throw UNKNOWN;
        inst.state = state;
        for (let i = 0; i < state.items.length; i += 2) {
          const k = state.items[i];
          if (k.kind !== 'str') throw UNKNOWN;
          keys.add(k.id);
          if (inst.cls === 'CodeId' && !CODE_ID_FIELDS.has(k.text)) throw UNKNOWN;
        }
        break;
      }
      case 0x4b: need(1); stack.push({ kind: 'int', value: b[pos++] }); break; // BININT1
      case 0x4d: need(2); stack.push({ kind: 'int', value: dv.getUint16(pos, true) }); pos += 2; break; // BININT2
      case 0x4a: need(4); stack.push({ kind: 'int', value: dv.getInt32(pos, true) }); pos += 4; break; // BININT
      case 0x8a: { need(1); const k = b[pos++]; stack.push({ kind: 'int', value: long(k) }); break; } // LONG1
      case 0x8b: { need(4); const k = dv.getUint32(pos, true); pos += 4; stack.push({ kind: 'int', value: long(k) }); break; } // LONG4
      case 0x4e: stack.push({ kind: 'int', value: null }); break; // NONE (a closure_hash of None)
      case 0x88: case 0x89: stack.push(OTHER); break; // NEWTRUE, NEWFALSE
      case 0x47: need(8); pos += 8; stack.push(OTHER); break; // BINFLOAT
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: { const t = pop(); stack.push(t, t); break; } // DUP
      default:
        throw UNKNOWN;
    }
  }
}

/** A BUILD state's fields by name. */
function fields(d: Dict): Map<string, Tok> {
  const out = new Map<string, Tok>();
  for (let i = 0; i < d.items.length; i += 2) out.set((d.items[i] as Str).text, d.items[i + 1]);
  return out;
}
