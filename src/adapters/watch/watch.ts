import { WATCH_FIELDS, type IngestWords } from '../ingest-words.ts';
import { resolve } from 'node:path';
import type { Ledger } from '../../store/ledger.ts';
import type { FollowContext } from './follow-context.ts';
import { followPaths, newFolderState } from './follow-folder.ts';
import { followRedis } from './follow-redis.ts';
import type { StatusSink } from './status.ts';

export interface WatchOptions {
  paths: string[];
  redis?: string;
  intervalMs: number;
  /** A log untouched this long is final (its last entry complete). */
  settleMs: number;
  /** How notes name the ways to say which profile an input is for (LineDefaults.words); default WATCH_FIELDS. */
  words?: IngestWords;
  once?: boolean;
  /** Aborted (SIGINT, SIGTERM): the input under way finishes its transaction, then watch returns. */
  signal: AbortSignal;
  status: StatusSink;
  now?: () => number;
}

/**
 * Follows trace folders, PGO files and the Redis remote cache until stopped (or one pass with
 * `once`): polls every `intervalMs` (keyspace notifications wake it early), each input's
 * events and cursor in one transaction. `failed`: the inputs of the last pass that could not
 * be taken, a Redis away counted as one (a cron job's `--once` must see them).
 */
export async function watch(ledger: Ledger, o: WatchOptions): Promise<{ passes: number; appended: number; failed: number }> {
  const now = o.now ?? Date.now;
  const said = new Set<string>();
  let failed = 0;
  const note = (m: string) => {
    // the same thing is said once, not every pass
    if (said.has(m) && !m.startsWith('watch: Redis')) return;
    said.add(m);
    o.status.note(m);
  };
  const ctx: FollowContext = {
    now,
    settleMs: o.settleMs,
    once: o.once,
    words: o.words ?? WATCH_FIELDS,
    note,
    reading: (input, appended) => o.status.reading?.(input, appended),
    fail: (m) => {
      failed++;
      note(m);
    },
  };
  let wakeUp: (() => void) | null = null;
  const wake = () => wakeUp?.();
  const redis = o.redis ? followRedis(o.redis, { intervalMs: o.intervalMs, notify: !o.once }, ctx, wake) : null;
  const folder = newFolderState();
  // one name per file, however the paths were written (./t and t, a folder and its subfolder)
  const paths = [...new Set(o.paths.map((p) => resolve(p)))];
  const stop = () => o.signal.aborted;
  let passes = 0;
  let total = 0;
  try {
    for (;;) {
      passes++;
      failed = 0;
      let appended = 0;
      const onInput = (r: Parameters<StatusSink['input']>[0]) => {
        appended += r.appended;
        o.status.input(r, now());
      };
      const f = await followPaths(ledger, folder, paths, ctx, stop, onInput);
      const r = redis && !stop() ? await redis.pass(ledger, stop, onInput, f.waiting) : null;
      total += appended;
      const t = now();
      o.status.pass({ pass: passes, time: t, files: f.inputs, keys: r ? r.keys : null, redisUp: r ? r.up : null, appended, failed, behindBytes: f.behindBytes, behindSeconds: f.oldestUnreadMs === null ? null : Math.max(0, (t - f.oldestUnreadMs) / 1000) });
      if (o.once || stop()) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          o.signal.removeEventListener('abort', done);
          wakeUp = null;
          resolve();
        };
        // a Redis that is away is tried at its backoff, not only at the next interval
        const retry = redis?.retryAt() ?? null;
        const timer = setTimeout(done, retry === null ? o.intervalMs : Math.max(10, Math.min(o.intervalMs, retry - now())));
        o.signal.addEventListener('abort', done);
        wakeUp = () => setTimeout(done, 50); // a burst of notifications is one pass
      });
      if (stop()) break;
    }
  } finally {
    redis?.close();
    o.status.done();
  }
  return { passes, appended: total, failed };
}
