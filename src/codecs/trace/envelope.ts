import * as crypto from 'node:crypto';

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
  meta: Record<string, unknown>;
  payload: string | null;
  /** has_payload was given and the payload's MD5 did not match it. */
  payloadMismatch: boolean;
  /** "0/1" style compile id from frame_id / frame_compile_id / attempt, when the envelope has them. */
  compileId: string | null;
  rank: number | null;
  /** The glog line's process id (PyTorch's trace handler writes the process, not the thread). */
  pid: number | null;
}

export type TraceProblem = { line: number; message: string };

/** MD5 in hex; Node's one-shot hash (20.12 on) where there is one: a Hash object per entry cost more than the digest. */
const md5Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash: (a: string, d: string, e: string) => string }).hash('md5', text, 'hex')
    : (text) => crypto.createHash('md5').update(text).digest('hex');

const GLOG = /^([VIWEC])(\d{4}) (\d\d:\d\d:\d\d\.\d+) +(\d+) ([^\]]*)\] (.*)$/;
const BOOKKEEPING = new Set(['frame_id', 'frame_compile_id', 'attempt', 'has_payload', 'rank', 'compiled_autograd_id', 'payload_filename']);

/**
 * Assembles entries from a stream of lines. A line that is not a glog line or a payload
 * line is reported as a problem and skipped: a trace cut mid-payload or with a garbled
 * line still yields every entry around it.
 */
export function traceAssembler(onEntry: (e: TraceEntry) => void, onProblem: (p: TraceProblem) => void) {
  let head: { line: number; level: string; date: string; time: string; pid: number; meta: Record<string, unknown>; kind: string } | null = null;
  let payload: string[] = [];
  const flush = (truncated: boolean) => {
    if (!head) return;
    const h = head;
    head = null;
    const want = typeof h.meta.has_payload === 'string' ? h.meta.has_payload : null;
    const text = want !== null || payload.length ? payload.join('\n') : null;
    payload = [];
    let mismatch = false;
    if (want !== null && text !== null) {
      mismatch = md5Hex(text) !== want;
      if (mismatch) onProblem({ line: h.line, message: `${h.kind}: payload does not match has_payload (MD5)${truncated ? ': the log ends inside it' : ''}; entry skipped` });
    }
    const fid = h.meta.frame_id;
    const fcid = h.meta.frame_compile_id;
    const attempt = h.meta.attempt;
    const compileId =
      typeof fid === 'number' && typeof fcid === 'number' ? `${fid}/${fcid}${typeof attempt === 'number' && attempt > 0 ? `_${attempt}` : ''}` : null;
    onEntry({ line: h.line, level: h.level, date: h.date, time: h.time, kind: h.kind, meta: h.meta, payload: text, payloadMismatch: mismatch, compileId, rank: typeof h.meta.rank === 'number' ? h.meta.rank : null, pid: Number.isSafeInteger(h.pid) ? h.pid : null });
  };
  return {
    push(text: string, line: number): void {
      if (text.startsWith('\t')) {
        if (head) payload.push(text.slice(1));
        else onProblem({ line, message: 'payload line outside any entry; skipped' });
        return;
      }
      flush(false);
      if (text.trim() === '') return;
      const m = GLOG.exec(text);
      if (!m) {
        onProblem({ line, message: 'not a TORCH_TRACE (glog) line; skipped' });
        return;
      }
      let meta: unknown;
      try {
        meta = JSON.parse(m[6]);
      } catch (e) {
        onProblem({ line, message: `metadata is not JSON (${(e as Error).message}); skipped` });
        return;
      }
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
        onProblem({ line, message: 'metadata is not a JSON object; skipped' });
        return;
      }
      const kind = Object.keys(meta).find((k) => !BOOKKEEPING.has(k)) ?? '(none)';
      head = { line, level: m[1], date: m[2], time: m[3], pid: Number(m[4]), meta: meta as Record<string, unknown>, kind };
    },
    end(): void {
      flush(true);
    },
  };
}
