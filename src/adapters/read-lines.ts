import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { constants as zlibConstants, createGunzip, createInflateRaw, gunzipSync, type Gunzip, type InflateRaw } from 'node:zlib';
import { inputError, inputName, LedgerError } from '../errors.ts';
import { InputError } from './observation-lines.ts';

export interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
  /** Bytes read so far (for progress). */
  bytes: number;
}

/** Longer than any line PyTorch or an observation writer makes; past it a line is refused. */
export const MAX_LINE_BYTES = 64 << 20;

const SPLIT_BYTES = 64 << 10;

/**
 * Streams the lines of a file (or stdin for '-') without loading it, in 1 MiB chunks: one
 * array of lines per chunk (an await per line cost as much as parsing the line). Linear in
 * the input (issue 9.7): the unfinished line's pieces are kept and joined once, and each
 * byte is searched for a newline once; a line past `maxLine` bytes fails as
 * `file:line: line too long`. A UTF-8 BOM at the start is dropped (issue 9.13).
 */
export async function* readLineChunks(path: string, maxLine = MAX_LINE_BYTES): AsyncGenerator<Line[]> {
  for await (const c of readTextChunks(path, maxLine)) yield c.texts.map((text, i) => ({ text, line: c.first + i, bytes: c.bytes }));
}

/** Lines of one chunk: texts[i] is line first + i; bytes read so far. */
export interface TextChunk {
  texts: string[];
  first: number;
  bytes: number;
}

/**
 * Where a reader goes on in a plain file whose lines before were read (watch: a file that only
 * grew): `offset` is just after a newline, `line` the number of the line that newline ended.
 */
export interface LinesFrom {
  offset: number;
  line: number;
}

/**
 * readLineChunks without an object per line (the observation and trace readers' loop); `end`: a
 * plain file's first bytes only (see openInput); `from`: a plain file's lines from there on,
 * numbered as they are in the file.
 */
export async function* readTextChunks(path: string, maxLine = MAX_LINE_BYTES, end?: number, from?: LinesFrom): AsyncGenerator<TextChunk> {
  const input = await openInput(path, true, end, from?.offset);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let line = from?.line ?? 0;
  let bytes = from?.offset ?? 0;
  // a BOM is dropped at the file's start only
  let first = !from?.offset;
  const tooLong = () => new InputError(path, line + 1, `line too long (over ${maxLine} bytes)`);
  const take = (last: Buffer, end: number): string => {
    const buf = pending.length ? Buffer.concat([...pending, last.subarray(0, end)]) : last.subarray(0, end);
    pending = [];
    pendingLength = 0;
    let from = 0;
    let stop = buf.length;
    if (stop > 0 && buf[stop - 1] === 13) stop--;
    if (first) {
      first = false;
      if (stop >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
    }
    return buf.toString('utf8', from, stop);
  };
  try {
    for await (let chunk of input.chunks) {
      bytes += chunk.length;
      let out: string[] = [];
      let firstLine = line + 1;
      const last = chunk.lastIndexOf(10);
      if (last >= 0 && pendingLength + last <= maxLine) {
        // No line here can be too long: decode every whole line at once and split it (a
        // Buffer and a decode per line cost more than the split). A newline byte is never
        // inside a UTF-8 sequence, so the text decodes as line by line. The line begun in the
        // chunk before is joined and decoded on its own, the chunk's other lines in place (joining
        // the whole chunk to it copied every byte of the file once more, into a fresh megabyte).
        const buf = chunk;
        const end = last;
        let from = 0;
        if (pending.length) {
          const nl = chunk.indexOf(10);
          line++;
          out.push(take(chunk, nl));
          from = nl + 1;
        } else if (first) {
          first = false;
          if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
        }
        // In pieces of about 64 KiB: a bigger string is a large object, freed only by a full GC.
        // Each piece's lines go to the reader before the next is decoded: a reader that waits
        // mid-chunk (the ingest worker, for its writer) then holds one piece's text, not the
        // chunk's, and a scavenge there moves little to the old generation.
        while (from <= end) {
          let stop = end;
          if (end - from > SPLIT_BYTES) {
            stop = buf.lastIndexOf(10, from + SPLIT_BYTES);
            if (stop < from) stop = buf.indexOf(10, from + SPLIT_BYTES);
            if (stop < 0 || stop > end) stop = end;
          }
          line += splitLines(buf, from, stop, out);
          from = stop + 1;
          if (from <= end) {
            yield { texts: out, first: firstLine, bytes };
            out = [];
            firstLine = line + 1;
          }
        }
        chunk = chunk.subarray(last + 1);
      } else {
        let nl = chunk.indexOf(10);
        while (nl >= 0) {
          if (pendingLength + nl > maxLine) throw tooLong();
          line++;
          out.push(take(chunk, nl));
          chunk = chunk.subarray(nl + 1);
          nl = chunk.indexOf(10);
        }
      }
      if (chunk.length) {
        // a copy: the chunk's memory is read into again
        pending.push(Buffer.from(chunk));
        pendingLength += chunk.length;
        if (pendingLength > maxLine) throw tooLong();
      }
      if (out.length) yield { texts: out, first: firstLine, bytes };
    }
  } finally {
    input.destroy?.();
  }
  if (pendingLength) yield { texts: [take(Buffer.alloc(0), 0)], first: line + 1, bytes };
}

/**
 * The lines of `buf` from `from` up to `stop` (a newline there, or the text's end), decoded at
 * once, each without its CR, onto `out`; how many. A function of its own: the line loop is the
 * hot part of the read, and a small function is cheap for TurboFan to compile, where the
 * async generator around it, resumed once a piece, took ~34 ms of compiling in every process
 * that read lines (--trace-opt), four times over for four writers.
 */
function splitLines(buf: Buffer, from: number, stop: number, out: string[]): number {
  const parts = buf.toString('utf8', from, stop).split('\n');
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i];
    out.push(t.charCodeAt(t.length - 1) === 13 ? t.slice(0, -1) : t);
  }
  return parts.length;
}

/** Line by line (for inputs where the await per line does not matter). */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const chunk of readLineChunks(path)) yield* chunk;
}

export function sizeOf(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** More than any profile, bundle or remote value PyTorch writes; a whole-file read past it is refused. */
export const MAX_WHOLE_BYTES = 1 << 30;

/**
 * stdin is read once: the first bytes are peeked to tell its kind (issue 9.15), and the reader
 * that follows gets them back before the rest.
 */
let stdinIterator: AsyncIterator<Buffer> | undefined;
const stdinPeeked: Buffer[] = [];
const stdinNext = () => (stdinIterator ??= (process.stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]()).next();
async function* stdinChunks(): AsyncGenerator<Buffer> {
  while (stdinPeeked.length) yield stdinPeeked.shift()!;
  for (;;) {
    const r = await stdinNext();
    if (r.done) return;
    yield r.value;
  }
}

const isGzipHead = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The first `n` raw bytes (fewer at the end of the input). */
async function rawHead(path: string, n: number): Promise<Buffer> {
  if (path === '-') {
    let have = stdinPeeked.reduce((a, b) => a + b.length, 0);
    while (have < n) {
      const r = await stdinNext();
      if (r.done) break;
      stdinPeeked.push(r.value);
      have += r.value.length;
    }
    return Buffer.concat(stdinPeeked).subarray(0, n);
  }
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

const READ_BYTES = 1 << 20;
/** Read buffers no reader holds now: a fresh megabyte per read cost more than the read (page faults). */
const spareBuffers: Buffer[] = [];

/**
 * A plain file's bytes, read into one buffer over and over: each chunk is valid until the next
 * is asked for. Read synchronously: a promise per read cost more than the read, and the reader
 * waits for each chunk anyway (rawHead has already read the file's head the same way).
 */
async function* fileChunks(path: string, end = Infinity, start = 0): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  const buf = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
  try {
    for (let left = end - start, at = start; left > 0; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), at);
      at += n;
      if (n === 0) return;
      left -= n;
      yield buf.subarray(0, n);
    }
  } finally {
    spareBuffers.push(buf);
    closeSync(fd);
  }
}

/**
 * An input's bytes as a stream of chunks: a file, stdin ('-'), either gunzipped when it is a
 * gzip. With `reused`, a plain file's chunks share one buffer: the caller copies what it keeps
 * past the next chunk. `end`: a plain file is read only to there (watch: the complete lines of a
 * file still being written, whose growth past them is no part of this read); `start`: from there
 * on (a file that grew since its bytes before were read).
 */
export async function openInput(path: string, reused = false, end?: number, start = 0): Promise<{ chunks: AsyncIterable<Buffer>; destroy?: () => void }> {
  const gz = isGzipHead(await rawHead(path, 2));
  // a gzip's bytes are read from its start: no place in it names a line
  if (start > 0 && (gz || path === '-')) throw new LedgerError(`${path} read from byte ${start}: only a plain file is`, { kind: 'bug' });
  if (path === '-') {
    if (!gz) return { chunks: stdinChunks() };
    if (crc32) {
      const chunks = gunzipMembers(stdinChunks());
      return { chunks, destroy: () => void chunks.return(undefined) };
    }
    const gunzip = createGunzip();
    void (async () => {
      try {
        for await (const c of stdinChunks()) if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
        gunzip.end();
      } catch (e) {
        gunzip.destroy(e as Error);
      }
    })();
    return { chunks: inflated(gunzip), destroy: () => gunzip.destroy() };
  }
  if (!gz && reused) {
    const chunks = fileChunks(path, end, start);
    return { chunks, destroy: () => void chunks.return(undefined) };
  }
  if (!gz && end !== undefined && end <= start) return { chunks: (async function* () {})() };
  const file = createReadStream(path, { highWaterMark: READ_BYTES, start, ...(!gz && end !== undefined ? { end: end - 1 } : {}) });
  if (!gz) return { chunks: file, destroy: () => file.destroy() };
  if (crc32) {
    const chunks = gunzipMembers(file);
    return { chunks, destroy: () => (file.destroy(), void chunks.return(undefined)) };
  }
  const gunzip = file.pipe(createGunzip({ chunkSize: 1 << 20 }));
  file.on('error', (e) => gunzip.destroy(e));
  return { chunks: inflated(gunzip), destroy: () => (file.destroy(), gunzip.destroy()) };
}

/**
 * A gunzip's chunks, its failure said as a gzip's, with where it stopped: zlib's own words
 * ("unexpected end of file", "incorrect header check") name neither the format nor the place.
 */
async function* inflated(gunzip: Gunzip): AsyncGenerator<Buffer> {
  let out = 0;
  try {
    for await (const c of gunzip) {
      out += (c as Buffer).length;
      yield c as Buffer;
    }
  } catch (e) {
    // bytesWritten counts the chunks handed to zlib before the failing one: all of a cut file
    throw (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? gzipFailure(e, gunzip.bytesWritten, out) : e;
  }
}

/**
 * zlib's failure of a gzip in words, with where it stopped (`compressed`) and how much came
 * out before it: zlib's own ("unexpected end of file", "incorrect header check") name neither
 * the format nor the place. What follows a stream's trailer is read as a next member: gunzip(1)
 * calls it "trailing garbage".
 */
function gzipFailure(e: unknown, compressed: number, inflatedBytes: number, input = ''): Error {
  const why = (e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? `cut off after compressed byte ${compressed}` : `damaged past compressed byte ${compressed} (or not gzip data after the end of its stream)`;
  return inputError(`${input}gzip: ${(e as Error).message}: ${why}, ${inflatedBytes} bytes inflated before it`, e);
}

/** Past this many inflated bytes, a gzip that inflates more than BOMB_RATIO times its compressed size is refused. */
const BOMB_BYTES = 64 << 20;
const BOMB_RATIO = 250;

/** zlib's CRC-32 (Node 20.15 and later); without it a gzip is inflated by zlib's gunzip whole. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * A gzip's members inflated one after another, as gunzip(1) reads them: each member's header is
 * read here and its deflate data inflated raw, so where a member ends is known to the byte.
 * zlib's gunzip read bytes after a member as a next one and failed there, and what it had
 * inflated of the member's tail in that same step was lost: a small gzip with bytes after its
 * end gave no line, a big one all but its last megabyte's. Here every whole member's bytes come
 * out first; then bytes after the last member that are no gzip member fail as gzip -t fails
 * them, naming the byte they start at (zero bytes to the end are padding, as zlib and gzip take
 * them). A member's CRC-32 and length are checked as gunzip checks them.
 */
async function* gunzipMembers(raw: AsyncIterable<Buffer> | Iterable<Buffer>, input = ''): AsyncGenerator<Buffer> {
  const crc = crc32!;
  const source = Symbol.asyncIterator in raw ? raw[Symbol.asyncIterator]() : raw[Symbol.iterator]();
  let pending: Buffer = Buffer.alloc(0); // read, not yet taken
  let at = 0; // compressed bytes before `pending`
  let inflatedBytes = 0;
  let eof = false;
  const more = async (): Promise<boolean> => {
    const r = eof ? undefined : await source.next();
    if (!r || r.done) return !(eof = true);
    pending = pending.length ? Buffer.concat([pending, r.value]) : r.value;
    return true;
  };
  const take = (n: number) => {
    pending = pending.subarray(n);
    at += n;
  };
  const fail = (what: string, cause?: unknown) => {
    const e = inputError(`${input}gzip: ${what}, ${inflatedBytes} bytes inflated before it`, cause);
    gzipFailed.add(e);
    return e;
  };
  // a member whose check fails, or whose deflate data is damaged, vouches for none of what it
  // inflated to (a flipped bit may change the bytes before the decoder stumbles)
  const damagedData = (what: string, cause?: unknown, why = 'a failed check vouches for none of what it inflated to') => {
    const e = fail(what, cause);
    untrustedGzip.set(e, why);
    return e;
  };
  const garbage = () => fail(`not gzip data after the end of its last member (gunzip's trailing garbage), from compressed byte ${at}`);
  try {
    for (let member = 1; ; member++) {
      if (member > 1) {
        while (!pending.length && (await more()));
        if (!pending.length) return;
        if (pending[0] === 0) {
          for (;;) {
            const i = pending.findIndex((b) => b !== 0);
            if (i >= 0) {
              take(i);
              throw garbage();
            }
            take(pending.length);
            if (!(await more())) return;
          }
        }
      }
      let header = memberHeader(pending);
      while (header === 'short' && (await more())) header = memberHeader(pending);
      if (header === 'short') throw fail(`unexpected end of file: cut off after compressed byte ${at + pending.length}`);
      if (header === 'not gzip') throw member > 1 ? garbage() : fail(`not gzip data at compressed byte ${at}`);
      take(header);
      const inflater = createInflateRaw({ chunkSize: 1 << 20 });
      let check = 0;
      let length = 0;
      try {
        for (let given = 0; ; ) {
          if (!pending.length && !(await more())) throw fail(`unexpected end of file: cut off after compressed byte ${at}`);
          for await (const out of inflateStep(inflater, pending)) {
            check = crc(out, check);
            length += out.length;
            inflatedBytes += out.length;
            // a gzip bomb (2 MB of deflate that inflates to 2 GB of newlines held ingest for
            // minutes and watch's memory: trial s27b); logs and profiles inflate ~10-30 times
            if (inflatedBytes > BOMB_BYTES && inflatedBytes > BOMB_RATIO * (at + pending.length)) throw damagedData(`inflates to more than ${BOMB_RATIO} times its compressed size (${inflatedBytes} bytes from at most ${at + pending.length} compressed): a gzip bomb, or nothing a log or profile holds; refused`, undefined, 'a gzip bomb is hostile input, whatever came before it (watch takes nothing of it either)');
            yield out;
          }
          const used = inflater.bytesWritten - given;
          given = inflater.bytesWritten;
          const all = used === pending.length;
          take(used);
          if (!all) break; // its deflate data ended within what it was given
        }
      } catch (e) {
        throw (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? damagedData(`${(e as Error).message}: damaged past compressed byte ${at}`, e) : e;
      } finally {
        inflater.destroy();
      }
      while (pending.length < 8 && (await more()));
      if (pending.length < 8) throw fail(`unexpected end of file: cut off after compressed byte ${at + pending.length}`);
      if (pending.readUInt32LE(0) !== check || pending.readUInt32LE(4) !== length % 2 ** 32) throw damagedData(`incorrect data check: member ${member}'s CRC-32 or length at compressed byte ${at} is not that of what it inflated to`);
      take(8);
    }
  } finally {
    await source.return?.();
  }
}

/**
 * The failures of a gzip whose content cannot be trusted, and why: a member's CRC-32 or length
 * not that of what it inflated to, damaged deflate data, a gzip bomb. A cut gzip is not among
 * them: what it inflated to is what was written (as a log cut uncompressed).
 */
export const untrustedGzip = new WeakMap<object, string>();
/** Every failure of a gzip read (cut, trailing garbage, and the untrusted ones above). */
export const gzipFailed = new WeakSet<object>();

/** The length of the gzip member header `b` starts with; 'short' when `b` ends inside it. */
function memberHeader(b: Buffer): number | 'short' | 'not gzip' {
  if ((b.length > 0 && b[0] !== 0x1f) || (b.length > 1 && b[1] !== 0x8b) || (b.length > 2 && b[2] !== 8) || (b.length > 3 && b[3] & 0xe0)) return 'not gzip';
  if (b.length < 10) return 'short';
  const flags = b[3];
  let n = 10;
  if (flags & 4) {
    if (b.length < n + 2) return 'short';
    n += 2 + b.readUInt16LE(n);
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const z = b.indexOf(0, n);
    if (z < 0) return 'short';
    n = z + 1;
  }
  if (flags & 2) {
    if (b.length < n + 2) return 'short';
    if (b.readUInt16LE(n) !== (crc32!(b.subarray(0, n)) & 0xffff)) return 'not gzip';
    n += 2;
  }
  return n <= b.length ? n : 'short';
}

/** Gives `chunk` to the inflater and yields what comes out, until it has taken what it will of it. */
async function* inflateStep(inflater: InflateRaw, chunk: Buffer): AsyncGenerator<Buffer> {
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const rouse = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onError = (e: Error) => {
    failure = e;
    rouse();
  };
  inflater.on('readable', rouse);
  inflater.on('error', onError);
  inflater.write(chunk, () => {
    done = true;
    rouse();
  });
  try {
    for (;;) {
      let out: Buffer | null;
      while ((out = inflater.read() as Buffer | null) !== null) yield out;
      if (failure) throw failure;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    inflater.off('readable', rouse);
    inflater.off('error', onError);
  }
}

/** The first `n` bytes of what an input holds (gunzipped when it is a gzip), to tell its kind: 4 KiB holds a JSON line whole (kindOfHead reads its fields). */
export async function inputHead(path: string, n = 4096): Promise<{ head: Buffer; gzip: boolean; gzipError?: string }> {
  const raw = await rawHead(path, 4096);
  if (!isGzipHead(raw)) return { head: raw.subarray(0, n), gzip: false };
  let head: Buffer;
  try {
    // A sync flush inflates what a cut-off gzip holds so far: the head of the whole.
    head = gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, n);
  } catch (e) {
    head = inflatedBefore(raw).bytes.subarray(0, n);
    // bytes that are no gzip after a whole one: the reader says it with where it stopped
    if (!head.length) return { head, gzip: true, gzipError: (e as Error).message };
  }
  if (head.length > 0) return { head, gzip: true };
  // Nothing inflated: an empty gzip, or one cut off or damaged before its first bytes. Only the
  // full inflate tells them apart, so the cut one is said as such, not as an empty file.
  try {
    gunzipSync(raw);
    return { head, gzip: true };
  } catch (e) {
    return { head, gzip: true, gzipError: (e as Error).message };
  }
}

/**
 * What the longest prefix of `raw` that inflates without an error gives: a small gzip with
 * bytes after its end fails whole in gunzipSync (they are read as a next member), though its
 * first member is whole. A prefix that inflates still does for any shorter one, so halving finds it.
 */
function inflatedBefore(raw: Buffer): { bytes: Buffer; end: number } {
  let good = { bytes: Buffer.alloc(0), end: 0 };
  for (let lo = 0, hi = raw.length - 1; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    try {
      good = { bytes: gunzipSync(raw.subarray(0, mid), { finishFlush: zlibConstants.Z_SYNC_FLUSH }), end: mid };
      lo = mid + 1;
    } catch {
      hi = mid - 1;
    }
  }
  return good;
}

/** A whole input (a pickle, a bundle, a remote value), gunzipped when it is a gzip; at most MAX_WHOLE_BYTES. */
export async function readInput(path: string, max = MAX_WHOLE_BYTES): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  const raw = path === '-' ? stdinChunks() : createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const c of raw as AsyncIterable<Buffer>) {
    parts.push(c);
    if ((have += c.length) > max) throw inputError(`${inputName(path)}: larger than ${max} bytes`);
  }
  const bytes = Buffer.concat(parts);
  if (!isGzipHead(bytes)) return bytes;
  if (crc32) {
    // as the streaming reader reads it: a whole member's bytes before any failure after it
    const name = `${inputName(path)}: `;
    const out: Buffer[] = [];
    let n = 0;
    for await (const c of gunzipMembers([bytes], name)) {
      if ((n += c.length) > max) throw inputError(`${name}gzip: inflates to more than ${max} bytes`);
      out.push(c);
    }
    return Buffer.concat(out);
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: max });
  } catch (e) {
    const name = `${inputName(path)}: `;
    const code = (e as NodeJS.ErrnoException).code;
    if (!code?.startsWith('Z_')) throw inputError(`${name}gzip: ${(e as Error).message}`, e);
    // said as the streaming reader says it (inflated): a cut file at its end, damage past what inflates
    const good = inflatedBefore(bytes);
    throw gzipFailure(e, code === 'Z_BUF_ERROR' ? bytes.length : good.end, good.bytes.length, name);
  }
}
