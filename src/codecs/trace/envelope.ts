import * as crypto from 'node:crypto';
import { isAscii, isUtf8 } from 'node:buffer';
import { boundedMap } from '../../bounded-map.ts';

/** One TORCH_TRACE log entry: the glog line, its JSON metadata and the payload lines under it. */
export interface TraceEntry {
  /** 1-based line of the glog line in the file. */
  line: number;
  level: string;
  /** glog's MMDD and time of day (the year is not in the log). */
  date: string;
  time: string;
  /** The entry's kind: the metadata's first key that is not envelope bookkeeping. */
  kind: string;
  /** The metadata; empty for an entry of a kind the reader does not parse (EntryReads.parses), whose metadata is not parsed. */
  meta: Record<string, unknown>;
  /** The payload lines, each without its tab, joined by newlines; null when there are none and has_payload is not given. */
  readonly payload: string | null;
  /**
   * The payload as logged, each line's tab included, when it was read from bytes (else null):
   * decoded once, without the copy that drops the tabs. A search for text without a tab or
   * newline finds in it what it finds in payload (a match lies within one line).
   */
  readonly payloadLogged: string | null;
  /** has_payload was given, the payload was checked (EntryReads.checks) and its MD5 did not match it. */
  payloadMismatch: boolean;
  /** Whether the payload holds an ASCII text with no tab or newline; from its bytes when read from bytes, undecoded. */
  payloadHas(ascii: string): boolean;
  /** Read from bytes: the payload's lines that hold an ASCII text (no tab or newline), decoded alone, joined by newlines; else null. */
  linesHolding(ascii: string): string | null;
  /** "0/1" style compile id from frame_id / frame_compile_id / attempt, when the envelope has them. */
  readonly compileId: string | null;
  /** The metadata's rank; null also where the metadata is not parsed: one that names no rank, or one after an entry that named one. */
  rank: number | null;
  /** The glog line's process id (PyTorch's trace handler writes the process, not the thread). */
  pid: number | null;
  /**
   * Which process of that id the entry is, from 0: logs concatenated may hold two processes of
   * one id (containers reuse ids), told apart where the second's string table starts again.
   */
  generation: number;
}

export type TraceProblem = { line: number; message: string };

/** MD5 in hex; Node's one-shot hash (20.12 on) where there is one: a Hash object per entry cost more than the digest. */
const md5Hex: (data: string | Uint8Array) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash: (a: string, d: string | Uint8Array, e: string) => string }).hash('md5', data, 'hex')
    : (data) => crypto.createHash('md5').update(data).digest('hex');

const GLOG = /^([VIWEC])(\d{4}) (\d\d:\d\d:\d\d\.\d+) +(\d+) ([^\]]*)\] (.*)$/;
/**
 * GLOG up to the metadata: on a line known to hold no line terminator (\r, \u2028, \u2029),
 * GLOG's `(.*)$` is all the rest of the line, so this gives GLOG's groups without scanning it.
 */
const GLOG_HEAD = /^([VIWEC])(\d{4}) (\d\d:\d\d:\d\d\.\d+) +(\d+) [^\]]*\] /;
const BOOKKEEPING = new Set(['frame_id', 'frame_compile_id', 'attempt', 'has_payload', 'rank', 'compiled_autograd_id', 'payload_filename']);

const TAB = 9;
const NL = 10;
const NL_TAB = Buffer.from('\n\t');
/** A buffer of at least n bytes, reused (md5's copy of a payload without its tabs). */
let scratch = Buffer.alloc(0);
function scratchFor(n: number): Buffer {
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, 2 * scratch.length, 1 << 16));
  return scratch;
}

/**
 * Payloads whose MD5 matched their has_payload, by it: as logged (bytes, tabs and all) or as
 * text. Up to 16 MB of them (a payload is kilobytes; `watch` holds it as long as it
 * runs), then it starts over.
 */
const checked = boundedMap<Buffer | string>(16 << 20);

class Entry implements TraceEntry {
  payloadMismatch = false;
  generation = 0;
  /** The payload's text, or undefined until it is decoded from bytes[from, to). */
  #text: string | null | undefined;
  /** bytes[from, to) decoded, or undefined until asked. */
  #logged: string | undefined;
  /** payloadHas's last question and answer. */
  #has: [string, boolean] | undefined;
  #bytes: Buffer | null = null;
  #from = 0;
  #to = 0;
  /** How many lines bytes[from, to) holds. */
  #lines = 0;
  constructor(
    readonly line: number,
    readonly level: string,
    readonly date: string,
    readonly time: string,
    readonly kind: string,
    readonly meta: Record<string, unknown>,
    readonly rank: number | null,
    readonly pid: number | null,
    text: string | null | undefined,
  ) {
    this.#text = text;
  }
  /** A payload read from bytes: decoded only when asked (most entries' payloads never are). */
  static fromBytes(e: Entry, bytes: Buffer, from: number, to: number, lines: number): Entry {
    e.#bytes = bytes;
    e.#from = from;
    e.#to = to;
    e.#lines = lines;
    return e;
  }
  /**
   * The payload's MD5 in hex. A payload of one line read from bytes is hashed from them, and
   * decoded only if a parser reads it; one of many lines is decoded whole and its tabs dropped
   * after (cheaper than a copy of its bytes without them, line by line), the text a parser reads.
   */
  md5(): string {
    const b = this.#bytes;
    if (b !== null && this.#lines === 1) return md5Hex(b.subarray(this.#from + 1, this.#to));
    // A compile's guards (read only where a line pins a value: never decoded whole): their
    // bytes without each line's tab, copied and hashed. The bytes are UTF-8 (pushBytes), so
    // these are the text's; other payloads are decoded for their parser anyway.
    if (b === null || this.#text !== undefined || this.kind !== 'dynamo_cpp_guards_str') return md5Hex(this.payload!);
    const v = b.subarray(this.#from + 1, this.#to);
    const out = scratchFor(v.length);
    let n = 0;
    let i = 0;
    for (let at = v.indexOf(NL_TAB, 0); at >= 0; at = v.indexOf(NL_TAB, i)) {
      n += v.copy(out, n, i, at + 1);
      i = at + 2;
    }
    n += v.copy(out, n, i, v.length);
    return md5Hex(out.subarray(0, n));
  }
  /**
   * Whether the payload's MD5 is `want` (has_payload). A payload met before with that hash is
   * compared, not hashed: the ranks of a job log the same guards and snapshots, and `watch`
   * reads a growing log again from its start (bytes compared at memory speed; MD5 was most
   * of the guards' cost).
   */
  matches(want: string): boolean {
    const raw = this.#bytes === null ? null : this.#bytes.subarray(this.#from, this.#to);
    const before = checked.get(want);
    if (before !== undefined && (raw !== null ? typeof before !== 'string' && before.equals(raw) : before === this.payload)) return true;
    if (this.md5() !== want) return false;
    const kept = raw !== null ? Buffer.from(raw) : this.payload!;
    checked.set(want, kept, kept.length);
    return true;
  }
  get payload(): string | null {
    // '\n\t' is only ever a line break and the next line's tab: no line holds a newline
    if (this.#text === undefined) this.#text = this.payloadLogged!.slice(1).replaceAll('\n\t', '\n');
    return this.#text;
  }
  payloadHas(ascii: string): boolean {
    // asked twice of an entry (is it checked, then by its parser): answered once
    if (this.#has !== undefined && this.#has[0] === ascii) return this.#has[1];
    let has: boolean;
    if (this.#bytes === null || this.#logged !== undefined) has = (this.#logged ?? this.payload ?? '').includes(ascii);
    else {
      // a view of the entry's bytes: a search of the whole buffer would run on past them
      has = this.#bytes.subarray(this.#from, this.#to).indexOf(ascii, 0, 'latin1') >= 0;
    }
    this.#has = [ascii, has];
    return has;
  }
  linesHolding(ascii: string): string | null {
    const b = this.#bytes;
    if (b === null) return null;
    const lines: string[] = [];
    // a view of the entry's bytes: a search of the whole buffer would run on past them
    const v = b.subarray(this.#from, this.#to);
    for (let at = v.indexOf(ascii, 0, 'latin1'); at >= 0; ) {
      const nl = v.indexOf(NL, at);
      const end = nl < 0 ? v.length : nl;
      lines.push(v.toString('utf8', v.lastIndexOf(NL, at) + 1, end));
      at = nl < 0 ? -1 : v.indexOf(ascii, end + 1, 'latin1');
    }
    return lines.join('\n');
  }
  get payloadLogged(): string | null {
    if (this.#bytes === null) return null;
    return (this.#logged ??= this.#bytes.toString('utf8', this.#from, this.#to));
  }
  /** Worked out when asked (by the few kinds that give facts), not for every entry. */
  get compileId(): string | null {
    const fid = this.meta.frame_id;
    const fcid = this.meta.frame_compile_id;
    const attempt = this.meta.attempt;
    return typeof fid === 'number' && typeof fcid === 'number' ? attemptId(`${fid}/${fcid}`, typeof attempt === 'number' ? attempt : 0) : null;
  }
}

/**
 * A compile attempt's id as PyTorch names it (TraceId): `0/0`, and `0/0_1` for a restarted
 * compile's attempt 1. Its own `compile_id` fields (compilation_metrics, a chromium event's
 * args) name the compile without the attempt.
 */
export function attemptId(compile: string, attempt: number): string {
  return attempt > 0 ? `${compile}_${attempt}` : compile;
}

/** The compile an attempt's id is of (`0/0_1` -> `0/0`): what its compile_id fields name. */
export function compileOfAttempt(id: string): string {
  return id.replace(/_\d+$/, '');
}

/** Valid UTF-8 with no line terminator but \n (U+2028, U+2029) and no byte order mark. */
function plainUtf8(buf: Buffer): boolean {
  return isUtf8(buf) && !buf.includes('\u2028') && !buf.includes('\u2029') && !(buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf);
}

export interface TraceAssembler {
  /** One line (without its newline). */
  push(text: string, line: number): void;
  /**
   * A whole log's bytes, lines from `firstLine` on; false, having read nothing, when they are
   * not plain enough to be read from bytes exactly as push reads their decoded lines (then push
   * them line by line): not UTF-8, a byte order mark, a carriage return or a U+2028/2029.
   */
  pushBytes(buf: Buffer, firstLine?: number): boolean;
  /** The log ends: the entry under way is complete. */
  end(): void;
}

/** What a reader of entries reads of them; by default, everything. */
export interface EntryReads {
  /**
   * Whether entries of a kind have their metadata parsed. Those of a kind that is not are
   * counted by the kind their line names first, their metadata never parsed (nor checked to
   * be JSON), where that kind is surely the one the parse would give (see unparsedKind).
   */
  parses(kind: string, text: string): boolean;
  /**
   * Whether an entry's payload is checked against has_payload: a reader that never looks at
   * some payloads need not hash them. Asked of an entry no parser has read yet; what it reads
   * of the payload (payloadLogged, payload) is decoded only as asked.
   */
  checks(e: TraceEntry): boolean;
}
const READS_ALL: EntryReads = { parses: () => true, checks: () => true };
/** The metadata of an entry whose metadata is not parsed. */
const UNPARSED: Record<string, unknown> = Object.freeze({});

/** `{"kind": ` at the start of a metadata: its first key, spelled without escapes. */
const FIRST_KEY = /^\{"([A-Za-z_][A-Za-z0-9_]*)": /;
/**
 * What makes the first key written not surely the first key of the parse, or the metadata
 * matter: a \u escape (a key can spell "rank" or an index so), a key that is an array index
 * (Object.keys lists those first), or, until an entry gave one, "rank" (a trace's rank is its
 * first entry's that names one). Each test on its own: V8 skips ahead to a pattern's first
 * character, and one alternation stopped at every quote.
 */
const ESCAPE = /\\u/;
const INDEX_KEY = /"(?:0|[1-9]\d*)"\s*:/;

/**
 * Whether a text holds `"rank"`, found from its `k"`s: a search for `"rank"` (or `rank"`)
 * stops at every quote (or r) of a line, of which guard and symbol lines hold thousands, and
 * took as long as the other two tests together.
 */
function holdsRank(s: string): boolean {
  for (let i = s.indexOf('k"'); i >= 0; i = s.indexOf('k"', i + 2)) if (i >= 4 && s.startsWith('"ran', i - 4)) return true;
  return false;
}

/**
 * The kind of a metadata that need not be parsed, or null: its first key is written plainly,
 * is no bookkeeping, names a kind the reader does not parse, and is the first key JSON.parse
 * would give, were the text JSON (it is not checked to be: that is the parse saved).
 */
function unparsedKind(rest: string, reads: EntryReads, ranked: boolean): string | null {
  const m = FIRST_KEY.exec(rest);
  if (m === null || BOOKKEEPING.has(m[1]) || reads.parses(m[1], rest) || ESCAPE.test(rest) || INDEX_KEY.test(rest) || (!ranked && holdsRank(rest))) return null;
  return m[1];
}

/**
 * Assembles entries from a stream of lines. A line that is not a glog line or a payload
 * line is reported as a problem and skipped: a trace cut mid-payload or with a garbled
 * line still yields every entry around it. The metadata of a line whose kind `reads` does
 * not parse is not parsed, once a first entry was (so that the first entry, which names
 * the process, is always one whose metadata is JSON).
 */
/** `{"str": ["…", 0]}`: a string-table entry, and the end of the first one's. */
const STRING_START = '{"str": [';
const FIRST_STRING_END = '", 0]}';

export function traceAssembler(onEntry: (e: TraceEntry) => void, onProblem: (p: TraceProblem) => void, reads: EntryReads = READS_ALL): TraceAssembler {
  const checks = reads.checks;
  /**
   * Whether an entry was assembled (its metadata parsed), and one with a rank: of the process
   * whose lines these are (a file that holds several processes' lines, concatenated, is read as
   * each process's own: its first entry parsed, its rank from its own entries).
   */
  let seen = false;
  let ranked = false;
  /** The process of this id whose lines these are (TraceEntry.generation), and whether its string table began. */
  let generation = 0;
  let interned = false;
  let pidNow: string | null = null;
  const others = new Map<string, { seen: boolean; ranked: boolean; generation: number; interned: boolean }>();
  const processOf = (pid: string) => {
    if (pid === pidNow) return;
    if (pidNow !== null) others.set(pidNow, { seen, ranked, generation, interned });
    const o = others.get(pid);
    seen = o?.seen ?? false;
    ranked = o?.ranked ?? false;
    generation = o?.generation ?? 0;
    interned = o?.interned ?? false;
    pidNow = pid;
  };
  let head: { line: number; level: string; date: string; time: string; pid: number; meta: Record<string, unknown>; kind: string; generation: number } | null = null;
  // The payload under way: lines pushed as text, or a range of bytes (pushBytes).
  let payload: string[] = [];
  let bytes: Buffer | null = null;
  let from = 0;
  let to = 0;
  let lines = 0;
  const flush = (truncated: boolean) => {
    if (!head) return;
    const h = head;
    head = null;
    const want = typeof h.meta.has_payload === 'string' ? h.meta.has_payload : null;
    const rank = typeof h.meta.rank === 'number' ? h.meta.rank : null;
    const pid = Number.isSafeInteger(h.pid) ? h.pid : null;
    let e: Entry;
    if (bytes !== null) {
      e = Entry.fromBytes(new Entry(h.line, h.level, h.date, h.time, h.kind, h.meta, rank, pid, undefined), bytes, from, to, lines);
      bytes = null;
    } else {
      const text = want !== null || payload.length ? payload.join('\n') : null;
      payload = [];
      e = new Entry(h.line, h.level, h.date, h.time, h.kind, h.meta, rank, pid, text);
    }
    let mismatch = false;
    if (want !== null && checks(e)) mismatch = !e.matches(want);
    if (mismatch) onProblem({ line: h.line, message: `${h.kind}: payload does not match has_payload (MD5)${truncated ? ': the log ends inside it' : ''}; entry skipped` });
    e.payloadMismatch = mismatch;
    e.generation = h.generation;
    onEntry(e);
  };
  /** A line that is not a payload line; `plain` when it is known to hold no line terminator. */
  const glogLine = (text: string, line: number, plain: boolean) => {
    flush(false);
    // A line that starts with a printable ASCII character is no blank one (trim cost 2 ms on
    // the bench's 11,940 glog lines, nearly all of which start with the level's letter).
    const c = text.charCodeAt(0);
    if (!(c > 32 && c < 127) && text.trim() === '') return;
    let m: RegExpExecArray | null;
    let rest: string;
    if (plain) {
      m = GLOG_HEAD.exec(text);
      rest = m ? text.slice(m[0].length) : '';
    } else {
      m = GLOG.exec(text);
      rest = m ? m[6] : '';
    }
    if (!m) {
      onProblem({ line, message: 'not a TORCH_TRACE (glog) line; skipped' });
      return;
    }
    processOf(m[4]);
    // A process's first interned string (torch._logging.structured's `{"str": [s, 0]}`: its
    // table is never cleared, torch._dynamo.reset() included) a second time for this id: another
    // process of the same id, its lines read as its own (its rank, its first entry parsed)
    if (rest.endsWith(FIRST_STRING_END) && rest.startsWith(STRING_START)) {
      if (interned) {
        generation++;
        seen = ranked = false;
      }
      interned = true;
    }
    const unparsed = seen ? unparsedKind(rest, reads, ranked) : null;
    if (unparsed !== null) {
      head = { line, level: m[1], date: m[2], time: m[3], pid: Number(m[4]), meta: UNPARSED, kind: unparsed, generation };
      return;
    }
    let meta: unknown;
    try {
      meta = JSON.parse(rest);
    } catch (e) {
      onProblem({ line, message: `metadata is not JSON (${(e as Error).message}); skipped` });
      return;
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      onProblem({ line, message: 'metadata is not a JSON object; skipped' });
      return;
    }
    let kind = '(none)';
    for (const k of Object.keys(meta)) {
      if (!BOOKKEEPING.has(k)) {
        kind = k;
        break;
      }
    }
    head = { line, level: m[1], date: m[2], time: m[3], pid: Number(m[4]), meta: meta as Record<string, unknown>, kind, generation };
    seen = true;
    if (typeof head.meta.rank === 'number') ranked = true;
  };
  return {
    push(text: string, line: number): void {
      if (text.startsWith('\t')) {
        if (head) payload.push(text.slice(1));
        else onProblem({ line, message: 'payload line outside any entry; skipped' });
        return;
      }
      glogLine(text, line, false);
    },
    pushBytes(buf: Buffer, firstLine = 1): boolean {
      // Valid UTF-8 decodes line by line as it does whole, and re-encodes to the same bytes
      // (so a payload's MD5 is that of its bytes); without \r, U+2028 and U+2029 no line
      // holds a line terminator and none loses a \r at its end.
      // ASCII (most logs) is all that in one pass: UTF-8 with no U+2028, U+2029 or mark.
      if (head !== null || payload.length || buf.includes(13) || !(isAscii(buf) || plainUtf8(buf))) return false;
      const n = buf.length;
      let line = firstLine;
      let i = 0;
      while (i < n) {
        let end: number;
        if (buf[i] === TAB && head) {
          // The entry's payload: every line from here that starts with a tab.
          const first = line;
          end = buf.indexOf(NL, i);
          while (end >= 0 && buf[end + 1] === TAB) {
            line++;
            end = buf.indexOf(NL, end + 1);
          }
          if (end < 0) end = n;
          bytes = buf;
          from = i;
          to = end;
          lines = line - first + 1;
        } else {
          end = buf.indexOf(NL, i);
          if (end < 0) end = n;
          if (buf[i] === TAB) onProblem({ line, message: 'payload line outside any entry; skipped' });
          else glogLine(buf.toString('utf8', i, end), line, true);
        }
        line++;
        i = end + 1;
      }
      return true;
    },
    end(): void {
      flush(true);
    },
  };
}

