import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { cacheKeyOfRemoteKey, profileOfRemoteValue } from '../../codecs/remote-value.ts';
import { classify, fullMessage, isDatabaseFailure } from '../../errors.ts';
import { parseCacheKey } from '../../model/cache-key.ts';
import type { Ledger, WatchCursor } from '../../store/ledger.ts';
import { checkRedisUrl, connectRedis, databaseIndex, RedisError, redisWhere } from '../redis.ts';
import { appendSnapshotEvents, fileSnapshotEvents } from '../ingest-snapshot.ts';
import type { FollowContext, InputReport } from './follow-context.ts';

const PATTERN = 'pt2:dynamo-pgo::*';
const MAX_BACKOFF_MS = 30_000;

export interface RedisFollower {
  /**
   * One pass: every key a keyspace notification named since the last pass, and every
   * `pt2:dynamo-pgo::*` key (SCAN) once `intervalMs` has passed since the last scan. A value
   * whose hash differs from its cursor's is ingested as `pull` does, with its cursor in the
   * same transaction. A server that is away is tried again with backoff; never thrown.
   */
  pass(ledger: Ledger, stop: () => boolean, onInput: (r: InputReport) => void, waiting?: (key: string) => boolean): Promise<{ keys: number; up: boolean }>;
  /** While the server is away: when it is tried next (the loop wakes for it); else null. */
  retryAt(): number | null;
  close(): void;
}

/** `notify: false` (`watch --once`): one pass waits for nothing, so the server's keyspace notifications are left as they are. */
export function followRedis(url: string, o: { intervalMs: number; timeoutMs?: number; notify?: boolean }, ctx: FollowContext, wake: () => void): RedisFollower {
  checkRedisUrl(url);
  const where = redisWhere(url);
  const db = databaseIndex(url); // a path that is no database number is bad usage now, not a retry forever
  const timeout = o.timeoutMs ?? 5000;
  let main: Redis | null = null;
  let sub: Redis | null = null;
  let retryAt = 0;
  let backoff = 1000;
  let wasDown = false;
  let lastScan = -Infinity;
  const dirty = new Set<string>();
  const hashes = new Map<string, string>();
  /**
   * Values of profiles a log still being written holds records of (a compile's, until its
   * compilation_metrics: PyTorch sets the key before it logs them), each kept as read, in
   * order, and ingested once the records are in: taken first, the value, not PyTorch's record,
   * turned the dim dynamic (trial s26a). Kept in memory: a restart reads the key again.
   */
  const deferred = new Map<string, Buffer[]>();

  /** `what`: the failure in full, naming the server (`Redis at …: …`, `cannot reach Redis at …`). */
  const down = (what: string) => {
    main?.disconnect();
    sub?.disconnect();
    main = sub = null;
    retryAt = ctx.now() + backoff;
    // one pass (--once) tries no more: said so (it said "trying again in 1 s", then exited)
    ctx.fail(ctx.once ? `watch: ${what}; not tried again: --once makes one pass (exit 2 after it)` : `watch: ${what}; trying again in ${Math.round(backoff / 1000)} s (watch goes on with its files)`);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    wasDown = true;
  };
  const connect = async (): Promise<boolean> => {
    let r: Redis;
    try {
      // pull's connection, so watch says what pull says (refused credentials, no such database:
      // ioredis alone reports those on its error event, then goes on in database 0 or says only
      // "Connection is closed")
      r = await connectRedis(url, { timeoutMs: timeout });
    } catch (e) {
      if (!(e instanceof RedisError)) throw e;
      down(e.message);
      return false;
    }
    main = r;
    if (wasDown) ctx.note(`watch: Redis at ${where}: connected again`);
    wasDown = false;
    backoff = 1000;
    lastScan = -Infinity; // what changed while away is found by a scan
    if (o.notify !== false) await listen(r);
    return true;
  };
  /** Keyspace notifications narrow what a poll can miss; where CONFIG SET is refused, the poll alone. */
  const listen = async (r: Redis) => {
    try {
      const got = (await r.config('GET', 'notify-keyspace-events')) as string[];
      const flags = got[1] ?? '';
      const has = (c: string) => flags.includes(c) || (flags.includes('A') && '$gx'.includes(c));
      if (!flags.includes('K') || !has('$') || !has('g') || !has('x')) {
        await r.config('SET', 'notify-keyspace-events', [...new Set([...flags, 'K', '$', 'g', 'x'])].join(''));
      }
    } catch (e) {
      ctx.note(`watch: Redis at ${where}: keyspace notifications are off and could not be turned on (${(e as Error).message}): changes are found by the SCAN every ${o.intervalMs / 1000} s, and a key written twice between two scans is seen once`);
      return;
    }
    try {
      const s = r.duplicate({ enableOfflineQueue: true });
      s.on('error', () => {});
      s.on('pmessage', (_p: string, channel: string) => {
        dirty.add(channel.slice(channel.indexOf(':') + 1));
        wake();
      });
      await s.psubscribe(`__keyspace@${db}__:${PATTERN}`);
      sub = s;
    } catch (e) {
      ctx.note(`watch: Redis at ${where}: cannot subscribe to keyspace notifications (${(e as Error).message}): the SCAN alone finds changes`);
    }
  };

  const ingestKey = (ledger: Ledger, k: string, value: Buffer): InputReport | null => {
    const hash = createHash('sha256').update(value).digest('hex');
    if (hashes.get(k) === hash) return null;
    const input = `redis:${where}:${k}`;
    const c = ledger.cursor(input);
    const cursor: WatchCursor = { input, identity: k, offset: value.length, hash, complete: true, path: k, updatedAt: ctx.now() };
    if (c?.hash === hash) {
      hashes.set(k, hash);
      return null;
    }
    const origin = `${where}/${k}`;
    try {
      const cacheKey = cacheKeyOfRemoteKey(k);
      if (cacheKey === null) throw new Error('not a PGO entry key (want pt2:dynamo-pgo::<job>:<rank>:<tag>:c1)');
      parseCacheKey(cacheKey); // a malformed key
      const { pickle, profile } = profileOfRemoteValue(value.toString('utf8'));
      const r = ledger.sql.immediate(() => {
        const made = fileSnapshotEvents(ledger, profile, cacheKey, { format: 'redis', origin, bytes: pickle, run: null, time: ctx.now() });
        return { ...appendSnapshotEvents(ledger, made.events, (last) => ledger.appendWith(last, [cursor])), told: made.told };
      });
      hashes.set(k, hash);
      return { input: origin, kind: 'redis', appended: r.appended, duplicates: r.duplicates + r.told, records: r.records };
    } catch (e) {
      if (classify(e) === 'bug' || isDatabaseFailure(e)) throw e;
      ctx.fail(`${origin}: not ingested: ${fullMessage(e)}`);
      ledger.appendWith([], [cursor]); // said once; read again when the value changes
      hashes.set(k, hash);
      return null;
    }
  };

  return {
    async pass(ledger, stop, onInput, waiting) {
      if (main && main.status !== 'ready') down(`Redis at ${where}: lost the connection`);
      if (!main) {
        if (ctx.now() < retryAt) return { keys: 0, up: false };
        if (!(await connect())) return { keys: 0, up: false };
      }
      const r = main!;
      for (const [k, values] of deferred) {
        if (stop()) break;
        const key = cacheKeyOfRemoteKey(k);
        if (key !== null && waiting?.(key)) continue;
        deferred.delete(k);
        for (const v of values) {
          const rep = ingestKey(ledger, k, v);
          if (rep) onInput(rep);
        }
      }
      // A failed command is the server going away: said, and tried again with backoff.
      const ask = async <T>(fn: () => Promise<T>): Promise<T | null> => {
        try {
          return await fn();
        } catch (e) {
          down(`Redis at ${where}: lost the connection (${(e as Error).message})`);
          return null;
        }
      };
      let keys: string[];
      if (ctx.now() - lastScan >= o.intervalMs) {
        lastScan = ctx.now();
        dirty.clear();
        keys = [];
        let cursor = '0';
        do {
          const got = await ask(() => r.scan(cursor, 'MATCH', PATTERN, 'COUNT', 500));
          if (!got) return { keys: 0, up: false };
          keys.push(...got[1]);
          cursor = got[0];
        } while (cursor !== '0');
        keys.sort();
      } else {
        keys = [...dirty].sort();
        dirty.clear();
      }
      for (let i = 0; i < keys.length && !stop(); i += 100) {
        const batch = keys.slice(i, i + 100);
        const values = await ask(() => r.mgetBuffer(...batch));
        if (!values) return { keys: 0, up: false };
        for (let j = 0; j < batch.length && !stop(); j++) {
          const v = values[j];
          if (v === null) {
            hashes.delete(batch[j]);
            continue;
          }
          const key = cacheKeyOfRemoteKey(batch[j]);
          const queue = deferred.get(batch[j]);
          if (queue || (key !== null && waiting?.(key))) {
            if (!queue) ctx.note(`${where}/${batch[j]}: waits for the records of profile ${key} that a log still being written may hold (a compile's, until its compilation_metrics; a log watch has not read whole since it started, any profile's), as a one-shot ingest reads the logs before a pull; ingested once they are in`);
            const q = queue ?? [];
            if (!q.length || !q[q.length - 1].equals(v)) q.push(v);
            deferred.set(batch[j], q);
            continue;
          }
          const rep = ingestKey(ledger, batch[j], v);
          if (rep) onInput(rep);
        }
      }
      return { keys: hashes.size, up: true };
    },
    retryAt() {
      return main ? null : retryAt;
    },
    close() {
      main?.disconnect();
      sub?.disconnect();
    },
  };
}
