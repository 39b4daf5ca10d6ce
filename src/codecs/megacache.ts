import { LedgerError } from '../errors.ts';
import { crc32 } from '../model/file-hash.ts';

/** One artifact of a `save_cache_artifacts()` bundle; content kept as opaque bytes. */
export interface CacheArtifact {
  type: string;
  key: string;
  content: Uint8Array;
}

export interface MegaCache {
  version: bigint;
  /** In bundle order: artifact types in order, each type's artifacts in order. */
  artifacts: CacheArtifact[];
}

export class MegaCacheError extends LedgerError {
  readonly offset: number;
  readonly detail: string;
  constructor(message: string, offset: number) {
    super(`mega-cache: ${message} (at byte ${offset})`);
    this.name = 'MegaCacheError';
    this.offset = offset;
    this.detail = message;
  }
}

const td = new TextDecoder('utf-8', { fatal: true });
const te = new TextEncoder();

/**
 * Reads a mega-cache bundle: 4-byte big-endian CRC32 of the rest, u64 version, then per
 * artifact type a string (the type), a u64 count, and per artifact a string key and the
 * content bytes. A string is bytes holding the base64 of its UTF-8; bytes are a u64 length
 * and the raw bytes. The checksum is verified first.
 */
export function decodeMegaCache(b: Uint8Array): MegaCache {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 12) throw new MegaCacheError(`too short for a header: ${b.length} bytes`, 0);
  const want = dv.getUint32(0, false);
  const got = crc32(b.subarray(4));
  if (want !== got) {
    const mismatch = `checksum mismatch: header says ${hex(want)}, content has ${hex(got)}`;
    // A bundle cut short (a copy that stopped, a full disk) fails its checksum too: say where it ends.
    try {
      walk(b, dv);
    } catch (e) {
      if (e instanceof MegaCacheError && e.detail.startsWith('truncated')) throw new MegaCacheError(`cut off: ${e.detail}; ${mismatch}`, e.offset);
    }
    throw new MegaCacheError(mismatch, 0);
  }
  return walk(b, dv);
}

/** The bundle's fields after the checksum, each checked against the bytes left. */
function walk(b: Uint8Array, dv: DataView): MegaCache {
  let pos = 4;
  const u64 = (what: string): bigint => {
    if (pos + 8 > b.length) throw new MegaCacheError(`truncated: ${what} needs 8 bytes, ${b.length - pos} left`, pos);
    const v = dv.getBigUint64(pos, false);
    pos += 8;
    return v;
  };
  const bytes = (what: string): Uint8Array => {
    const at = pos;
    const len = u64(`${what} length`);
    if (len > BigInt(b.length - pos)) throw new MegaCacheError(`truncated: ${what} of ${len} bytes, ${b.length - pos} left`, at);
    const out = b.slice(pos, pos + Number(len));
    pos += Number(len);
    return out;
  };
  const str = (what: string): string => {
    const at = pos;
    const raw = bytes(what);
    let b64 = '';
    for (let i = 0; i < raw.length; i++) b64 += String.fromCharCode(raw[i]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new MegaCacheError(`${what} is not base64`, at);
    try {
      return td.decode(Buffer.from(b64, 'base64'));
    } catch {
      throw new MegaCacheError(`${what} is not UTF-8`, at);
    }
  };
  const version = u64('version');
  const artifacts: CacheArtifact[] = [];
  while (pos < b.length) {
    const type = str('artifact type');
    const countAt = pos;
    const count = u64(`count of ${type} artifacts`);
    if (count > BigInt(b.length - pos)) throw new MegaCacheError(`${count} ${type} artifacts cannot fit`, countAt);
    for (let i = 0n; i < count; i++) {
      const key = str(`${type} artifact ${i} key`);
      const content = bytes(`${type} artifact ${i} (${key}) content`);
      artifacts.push({ type, key, content });
    }
  }
  return { version, artifacts };
}

/** Writes a bundle exactly as PyTorch does; artifacts of one type are grouped, types in first-seen order. */
export function encodeMegaCache(m: MegaCache): Uint8Array {
  const groups = new Map<string, CacheArtifact[]>();
  for (const a of m.artifacts) {
    const g = groups.get(a.type);
    if (g) g.push(a);
    else groups.set(a.type, [a]);
  }
  const parts: Uint8Array[] = [new Uint8Array(4), u64(m.version)];
  const str = (s: string) => {
    const enc = te.encode(Buffer.from(te.encode(s)).toString('base64'));
    parts.push(u64(BigInt(enc.length)), enc);
  };
  for (const [type, arts] of groups) {
    str(type);
    parts.push(u64(BigInt(arts.length)));
    for (const a of arts) {
      str(a.key);
      parts.push(u64(BigInt(a.content.length)), a.content);
    }
  }
  const out = Buffer.concat(parts);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, crc32(out.subarray(4)), false);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, false);
  return b;
}
function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
