import { LedgerError } from '../errors.ts';
import { DYNAMIC, InferStride, UNSET, type Atom, type ScalarValue, type SizeField, type StrideField } from '../model/atoms.ts';
import { codeKey, type CodeId } from '../model/code-id.ts';
import type { FrameStateSizeEntry } from '../model/entry.ts';
import { floatFromRepr } from '../model/float.ts';
import { toPyInt } from '../model/int.ts';
import { emptyProfile, type Profile } from '../model/profile.ts';

export class RenderTextError extends LedgerError {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`render text line ${line}: ${message}`);
    this.name = 'RenderTextError';
  }
}

const CODE = /^hash\((.*)\)(.*):(-?\d+):([^:]*):$/s;

/**
 * `hash(<file_hash>)<filename>` split at the right ')': a CRC32 hash holds none, so the first
 * one; but a file PyTorch could not read has its path as its hash (_hash_containing_file), and
 * a path may hold ')': then the split where hash and filename are one path.
 */
function hashAndFilename(body: string): [string, string] {
  const half = (body.length - 1) / 2;
  if (Number.isInteger(half) && body[half] === ')' && body.slice(0, half) === body.slice(half + 1)) return [body.slice(0, half), body.slice(half + 1)];
  const i = body.indexOf(')');
  return [body.slice(0, i), body.slice(i + 1)];
}
const ENTRY = /^ {2}(.+?): (tensor size=\[.*\] stride=\[.*\]|scalar .+|fully dynamic scalar or tensor|unusual FrameStateSizeEntry\(.*\))$/s;
const ADVICE = 'PGO detected a recompilation due to dynamic shapes.';

/**
 * `render_code_state()` text (as in TORCH_TRACE's put_/get_*_code_state artifacts) back to
 * a profile. The rendering is lossless for every entry PyTorch makes: tensors keep their
 * sizes, strides and S(d) strides, and anything else prints as the dataclass repr.
 */
export function parseRenderText(text: string): Profile {
  const profile = emptyProfile();
  let state: Map<string, FrameStateSizeEntry> | undefined;
  /** A code id met again after a block with entries: its own block must stay empty. */
  let twice: { line: number; text: string } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (line === '') continue;
    if (line.startsWith(ADVICE)) break;
    const c = CODE.exec(line);
    if (c) {
      const [fileHash, filename] = hashAndFilename(`${c[1]})${c[2]}`);
      const id: CodeId = { filename, firstlineno: Number(c[3]), name: c[4], file_hash: fileHash };
      const key = codeKey(id);
      let slot = profile.codes.get(key);
      if (!slot) profile.codes.set(key, (slot = { id, state: { automaticDynamic: new Map() } }));
      // Only closure-distinct code ids (the layout after 2.11) render alike. An empty block joins
      // the other: log_frame_dynamic_whitelist looks each compiled frame up without its closure
      // (CodeId.make(f_code, None)), which leaves an empty CodeState beside a closure's own, and
      // it holds nothing. Two blocks with entries cannot be told apart: refused, not merged.
      state = slot.state.automaticDynamic;
      if (state.size) (twice = { line: n, text: line.slice(0, -1) }), (state = undefined);
      else twice = undefined;
      continue;
    }
    const e = ENTRY.exec(line);
    if (e) {
      if (twice) throw new RenderTextError(twice.line, `code id ${twice.text} appears twice: closures of one function (PyTorch after 2.11) render alike and cannot be told apart here; ingest the profile's pickle instead`);
      if (!state) throw new RenderTextError(n, 'an entry before any code id');
      try {
        state.set(e[1], parseEntry(e[2]));
      } catch (err) {
        throw new RenderTextError(n, (err as Error).message);
      }
      continue;
    }
    throw new RenderTextError(n, `neither a code id nor an entry: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return profile;
}

/** One rendered entry (FrameStateSizeEntry.render(), or its repr) back to an entry. */
export function parseEntry(t: string): FrameStateSizeEntry {
  if (t === 'fully dynamic scalar or tensor') return { scalar: DYNAMIC, size: DYNAMIC, stride: DYNAMIC };
  let m = /^scalar (.+)$/.exec(t);
  if (m) return { scalar: scalarOf(m[1]), size: DYNAMIC, stride: DYNAMIC };
  m = /^tensor size=\[(.*)\] stride=\[(.*)\]$/.exec(t);
  if (m) {
    return { scalar: DYNAMIC, size: list(m[1], renderedAtom, false) as SizeField, stride: list(m[2], renderedAtom, true) as StrideField };
  }
  // The layout after 2.11 prints excluded_sizes / excluded_scalar too.
  m = /^unusual FrameStateSizeEntry\(scalar=(.*), size=(.*), stride=(.*), excluded_sizes=(None|\([-\d, None]*\)), excluded_scalar=(None|-?\d+)\)$/.exec(t);
  if (m) {
    const e: FrameStateSizeEntry = { scalar: reprScalar(m[1]), size: reprField(m[2], false) as SizeField, stride: reprField(m[3], true) as StrideField };
    e.excluded_sizes = m[4] === 'None' ? null : excludedOf(m[4]);
    e.excluded_scalar = m[5] === 'None' ? null : int(m[5]);
    return e;
  }
  m = /^unusual FrameStateSizeEntry\(scalar=(.*), size=(.*), stride=(.*)\)$/.exec(t);
  if (m) return { scalar: reprScalar(m[1]), size: reprField(m[2], false) as SizeField, stride: reprField(m[3], true) as StrideField };
  throw new Error(`not a rendered entry: ${JSON.stringify(t)}`);
}

function scalarOf(s: string): ScalarValue {
  if (s === 'AutoUnset.token') return UNSET;
  if (s === 'AutoDynamic.token') return DYNAMIC;
  return floatFromRepr(s) ?? int(s); // a float with specialize_float=False
}

function int(s: string): ReturnType<typeof toPyInt> {
  if (!/^-?\d+$/.test(s)) throw new Error(`not an int: ${JSON.stringify(s)}`);
  return toPyInt(BigInt(s));
}

/** `[a, b, ...]` items as render_single prints them: ints, ?, S(d). */
function renderedAtom(s: string): Atom {
  if (s === '?') return DYNAMIC;
  const m = /^S\((\d+)\)$/.exec(s);
  if (m) return new InferStride(Number(m[1]));
  return int(s);
}

function list(body: string, atom: (s: string) => Atom, strides: boolean): Atom[] {
  if (body.trim() === '') return [];
  const out = body.split(', ').map(atom);
  return strides ? shareInferStrides(out) : out;
}

/** Within one tuple, equal InferStrides are one object (as stride inference makes them). */
function shareInferStrides(xs: Atom[]): Atom[] {
  const byDim = new Map<number, InferStride>();
  return xs.map((a) => {
    if (!(a instanceof InferStride)) return a;
    const s = byDim.get(a.dim);
    if (s) return s;
    byDim.set(a.dim, a);
    return a;
  });
}

/** Python reprs inside the dataclass repr: tokens, ints, InferStride(dim=d). */
function reprAtom(s: string, strides: boolean): Atom {
  s = s.trim();
  if (s === '<AutoDynamic.token: 0>') return DYNAMIC;
  if (s === '<AutoUnset.token: 0>') return UNSET;
  const m = /^InferStride\(dim=(\d+)\)$/.exec(s);
  if (m) {
    if (!strides) throw new Error('InferStride outside a stride');
    return new InferStride(Number(m[1]));
  }
  return int(s);
}

/** The scalar inside the dataclass repr: a token, an int or a float. */
function reprScalar(s: string): ScalarValue {
  return floatFromRepr(s.trim()) ?? (reprAtom(s, false) as ScalarValue);
}

function reprField(s: string, strides: boolean): Atom[] | Atom {
  s = s.trim();
  if (!s.startsWith('(')) return reprAtom(s, false);
  if (!s.endsWith(')')) throw new Error(`not a tuple: ${JSON.stringify(s)}`);
  const body = s.slice(1, -1).trim();
  if (body === '') return [];
  // A one-element tuple prints as (x,); the split leaves an empty last piece.
  const parts = body.split(',').map((p) => p.trim());
  if (parts[parts.length - 1] === '') parts.pop();
  const out = parts.map((p) => reprAtom(p, strides));
  return strides ? shareInferStrides(out) : out;
}

/** `(16, None, 4)`, `(3,)`, `()` as excluded_sizes. */
function excludedOf(s: string): (ReturnType<typeof toPyInt> | null)[] {
  const body = s.slice(1, -1).trim();
  if (body === '') return [];
  const parts = body.split(',').map((p) => p.trim());
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => (p === 'None' ? null : int(p)));
}
