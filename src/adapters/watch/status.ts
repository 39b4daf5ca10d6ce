import type { InputReport } from './follow-context.ts';
import { leftOutJson, leftOutText } from '../left-out.ts';
import { counted } from '../../counted.ts';
import { skippedText } from '../skipped-text.ts';
import { toMillisecond } from '../../model/utc-time.ts';

/** What one pass did, and how far behind the writers watch is. */
export interface PassReport {
  pass: number;
  time: number;
  /** Files under the watched paths. */
  files: number;
  /** Redis keys known (null without --redis); redisUp false while the server is away. */
  keys: number | null;
  redisUp: boolean | null;
  appended: number;
  /** Inputs that could not be taken this pass (a Redis away counts one); each said as a note. */
  failed: number;
  /** Bytes written to logs but not read yet (partial last lines). */
  behindBytes: number;
  /** Seconds since the oldest write not read yet (null when nothing is behind). */
  behindSeconds: number | null;
}

export interface StatusSink {
  input(r: InputReport, time: number): void;
  /** FollowContext.reading: what an input still being read has appended so far (null: none is). */
  reading?(input: string | null, appended: number): void;
  pass(p: PassReport): void;
  note(message: string): void;
  done(): void;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * How watch reports: `json` one object a line on stdout (each input read, and
 * each pass that appended or is behind, else one a minute); on a terminal, one status line
 * on stderr rewritten in place; otherwise a text line per input on stdout.
 */
export function statusSink(o: { json: boolean; tty: boolean; out: (s: string) => void; err: (s: string) => void; once?: boolean }): StatusSink {
  let line = '';
  let lastPassLine = -Infinity;
  let total = 0;
  let last: { input: string; time: number } | null = null;
  const clear = () => {
    if (o.tty && line) o.err('\r\x1b[2K');
  };
  const draw = () => {
    if (o.tty && line) o.err(line);
  };
  return {
    input(r, time) {
      total += r.appended;
      if (r.appended) last = { input: r.input.split('/').pop()!, time };
      if (o.json) o.out(JSON.stringify({ report: 'input', time: iso(time), input: r.input, kind: r.kind, ...(r.from !== undefined ? { from: r.from, to: r.to } : {}), appended: r.appended, duplicates: r.duplicates, skipped: r.skipped ?? 0, records: r.records, ...leftOutJson(r.leftOut) }));
      else if (!o.tty && (r.appended || r.records || r.skipped)) o.out(`${r.input}: ${r.kind}${r.from !== undefined ? ` bytes ${r.from}..${r.to}` : ''}: ${counted(r.appended, 'event')} appended, ${r.duplicates} already in the log${skippedText(r.kind, r.skipped)}${r.records ? `, ${counted(r.records, 'recompile reason')}` : ''}${leftOutText(r.leftOut)}`);
      else if (o.tty && r.leftOut) {
        // the status line counts them as appended: say above it that no answer holds them
        clear();
        o.err(`${r.input}: ${counted(r.appended, 'event')} appended${leftOutText(r.leftOut)}\n`);
        draw();
      }
    },
    pass(p) {
      if (o.json) {
        if (o.once || p.appended || p.failed || p.behindBytes || p.time - lastPassLine >= 60_000) {
          lastPassLine = p.time;
          o.out(JSON.stringify({ report: 'pass', pass: p.pass, time: iso(p.time), files: p.files, keys: p.keys, redis_up: p.redisUp, appended: p.appended, failed: p.failed, behind: { bytes: p.behindBytes, seconds: toMillisecond(p.behindSeconds) } }));
        }
        return;
      }
      if (!o.tty) return;
      clear();
      const redis = p.keys === null ? '' : p.redisUp ? `, ${counted(p.keys, 'Redis key')}` : ', Redis away';
      const failing = p.failed ? `; ${p.failed} failed (said above)` : '';
      const behind = p.behindBytes ? `; behind ${counted(p.behindBytes, 'byte')}, ${p.behindSeconds?.toFixed(1)} s` : '; up to date';
      const lastly = last ? ` (last from ${last.input} at ${iso(last.time).slice(11, 19)})` : '';
      line = `watch ${iso(p.time).slice(11, 19)}: ${counted(p.files, 'file')}${redis}; ${counted(total, 'event')} appended${lastly}${failing}${behind}`;
      draw();
    },
    note(m) {
      clear();
      o.err(`${m}\n`);
      draw();
    },
    done() {
      if (o.tty && line) o.err('\n');
    },
  };
}
