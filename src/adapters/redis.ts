import { Redis } from 'ioredis';
import { profileAsWritten, profilePickle, type LayoutOptions } from './export-profile.ts';
import { writtenStrings } from './source-names.ts';
import { cacheKeyOfRemoteKey, encodeRemoteValue, profileOfRemoteValue, remoteKey } from '../codecs/remote-value.ts';
import { classify, fullMessage, inputError, isDatabaseFailure, LedgerError } from '../errors.ts';
import { parseCacheKey } from '../model/cache-key.ts';
import { joinProfiles } from '../model/join-profiles.ts';
import type { Profile } from '../model/profile.ts';
import { diffProfiles, type EntryChange } from '../store/diff.ts';
import type { Ledger } from '../store/ledger.ts';
import { appendSnapshotEvents, fileSnapshotEvents, snapshotNote } from './ingest-snapshot.ts';

export class RedisError extends LedgerError {
  constructor(message: string) {
    super(message);
    this.name = 'RedisError';
  }
}

export interface RedisOptions {
  /** Give up connecting (or on one command) after this long. */
  timeoutMs?: number;
}

/** Where a URL points, without its password (messages; watch's cursor names and origins, as pull writes them). */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '(the given URL)';
  }
}

/** A URL that is no Redis URL is bad usage, said before any connection is tried (watch would retry it forever). */
export function checkRedisUrl(url: string): void {
  if (!/^rediss?:\/\//.test(url)) throw new RedisError(`not a Redis URL (want redis:// or rediss://): ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
}

/**
 * Opens a connection to the Redis PyTorch's remote cache uses (redis:// or rediss://, with
 * a password in the URL if needed). No retry loops: a server that is down, refuses the
 * password or has not the URL's database is a clear error within the timeout (watch retries
 * it, with these words).
 */
export async function connectRedis(url: string, o: RedisOptions): Promise<Redis> {
  checkRedisUrl(url);
  const db = databaseIndex(url);
  const timeout = o.timeoutMs ?? 5000;
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout: timeout,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  let last: Error | null = null;
  r.on('error', (e: Error) => (last = e)); // reported through the promises below
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    r.disconnect();
    // ioredis reports why (a refused AUTH, ECONNREFUSED) on its error event, then rejects with
    // its own "Connection is closed.", which said after the why only trailed it (trial 18)
    const why = (last as Error | null)?.message;
    const own = (e as Error).message;
    const m = why && (/^Connection is closed\.?$/.test(own) || own === why) ? why : [why, own].filter(Boolean).join('; ');
    if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(m)) throw new RedisError(`Redis at ${redisWhere(url)} refused the credentials: ${m}`);
    // a server that took the connection and closed it (another protocol's: an HTTP port) leaves
    // ioredis's own words alone, which named no cause (trial s36b)
    if (/Protocol error, got/.test(m)) throw new RedisError(`cannot reach Redis at ${redisWhere(url)}: the server answered PING in another protocol, not Redis's (an HTTP port, say)`);
    if (/Stream isn't writeable|^Connection is closed\.?$|\bEPIPE\b|\bECONNRESET\b/.test(m)) throw new RedisError(`cannot reach Redis at ${redisWhere(url)}: the server closed the connection without answering PING as Redis does (no Redis server there, or one that drops this client${/EPIPE|ECONNRESET/.test(m) ? `; ${m}` : ''})`);
    throw new RedisError(`cannot reach Redis at ${redisWhere(url)}: ${m}`);
  }
  if (db !== 0) {
    // ioredis SELECTs the URL's database on connecting but only reports a refusal on its
    // error event, and then goes on in database 0: select again and wait for the answer.
    try {
      await r.select(db);
    } catch (e) {
      r.disconnect();
      throw new RedisError(`Redis at ${redisWhere(url)} has no database ${db}: ${(e as Error).message}`);
    }
  }
  return r;
}

/** The database a URL names (`redis://host/3`), 0 when none; a path that is no number is an error. */
export function databaseIndex(url: string): number {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch (e) {
    throw new RedisError(`not a valid Redis URL: ${(e as Error).message}`);
  }
  if (path === '' || path === '/') return 0;
  if (!/^\/\d{1,9}$/.test(path)) throw new RedisError(`Redis URL ${redisWhere(url)}: the path must be a database number (redis://host:port/3), not ${JSON.stringify(path)}`);
  return Number(path.slice(1));
}

async function withRedis<T>(url: string, o: RedisOptions, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = await connectRedis(url, o);
  try {
    return await fn(r);
  } catch (e) {
    if (e instanceof RedisError) throw e;
    throw new RedisError(`Redis at ${redisWhere(url)}: ${(e as Error).message}`);
  } finally {
    r.disconnect();
  }
}

/** Sets `pt2:dynamo-pgo::<key>:c1` to the JSON value PyTorch reads with remote PGO on. */
export async function publishProfile(url: string, cacheKey: string, profile: Profile, o: RedisOptions & LayoutOptions & { ttlSeconds?: number } = {}): Promise<string> {
  const key = remoteKey(cacheKey);
  const value = encodeRemoteValue(profilePickle(profile, 4, o));
  await withRedis(url, o, async (r) => {
    if (o.ttlSeconds !== undefined) await r.set(key, value, 'EX', o.ttlSeconds);
    else await r.set(key, value);
  });
  return key;
}

/**
 * How the caller names, in the refusal of a value that is no PGO profile, the write that
 * replaces it: the library's publishProfile by default, the command line's plain `publish`.
 */
export interface ReplaceWords {
  replace?: string;
}
const REPLACE_FIELD = 'publishProfile';

/**
 * A value at a PGO key decoded as PyTorch reads it: the remote value's JSON, then its pickle.
 * `pull` and the merge's read alike, so both say the same of a damaged value.
 */
function decodeEntry(value: Buffer): { pickle: Uint8Array; profile: Profile } {
  return profileOfRemoteValue(value.toString('utf8'));
}

/** What Redis holds at a key now, decoded (null: nothing). */
async function currentProfile(r: Redis, key: string, o: ReplaceWords): Promise<Profile | null> {
  let raw: Buffer | null;
  try {
    raw = await r.getBuffer(key);
  } catch (e) {
    // Redis's words name no key ("WRONGTYPE Operation against a key holding the wrong kind of value"): said with it (trial s29b)
    throw new Error(`${key}: ${(e as Error).message}`, { cause: e });
  }
  if (raw === null) return null;
  try {
    return decodeEntry(raw).profile;
  } catch (e) {
    // never joined with, nor silently replaced by a merge: the user decides, told why (as pull tells it)
    throw inputError(`${key} holds a value that is no PGO profile (${o.replace ?? REPLACE_FIELD} replaces it): ${fullMessage(e)}`, e);
  }
}

function refuseEmptyProfile(key: string, profile: Profile): void {
  // Issue 12.4: an empty profile where PyTorch reads would throw away what jobs learnt.
  if (!profile.codes.size) throw inputError(`the profile for ${key} has no code ids: nothing was written`);
}

export interface PublishPreview {
  key: string;
  /** Whether Redis holds a value at the key now. */
  exists: boolean;
  /** What would be written: the profile, or with `merge` its join with what Redis holds. */
  profile: Profile;
  /** From what Redis holds (nothing: every entry added) to what would be written, in `diff`'s terms. */
  changes: EntryChange[];
}

/**
 * `publish --dry-run`: what a publish would change at the key, reading Redis and writing
 * nothing.
 */
export async function previewPublish(url: string, cacheKey: string, profile: Profile, o: RedisOptions & LayoutOptions & ReplaceWords & { merge?: boolean } = {}): Promise<PublishPreview> {
  const key = remoteKey(cacheKey);
  profileAsWritten(profile, o); // what the publish would refuse (closures --torch 2.11 cannot hold), the preview refuses
  return withRedis(url, o, async (r) => {
    const current = await currentProfile(r, key, o);
    // as publish and publishMerged write it: in the layout asked for
    const next = profileAsWritten(o.merge && current ? joinProfiles(current, profile) : profile, o);
    return { key, exists: current !== null, profile: next, changes: diffProfiles(current ?? { codes: new Map() }, next) };
  });
}

export interface MergedPublish {
  key: string;
  /** How many read-join-write rounds it took (more than 1: another writer came between). */
  attempts: number;
  /** Code ids Redis held before the write that succeeded (0: the key was empty). */
  heldBefore: number;
  /** What was written. */
  profile: Profile;
}

export interface MergeOptions extends RedisOptions, LayoutOptions, ReplaceWords {
  ttlSeconds?: number;
  /** Rounds before giving up (default 10). */
  maxAttempts?: number;
  /** Called between the read and the write of each round (tests use it to write in between). */
  beforeWrite?: (attempt: number) => Promise<void>;
}

/**
 * `publish --merge`: the profile joined with what Redis holds, written by compare-and-set:
 * WATCH the key, GET it, join, then MULTI SET EXEC. EXEC writes nothing when the key changed
 * since WATCH (another job wrote), and the round starts again from a fresh read, so that
 * job's write is joined in, not lost. The value and TTL are as `publishProfile` writes them.
 */
export async function publishMerged(url: string, cacheKey: string, profile: Profile, o: MergeOptions = {}): Promise<MergedPublish> {
  const key = remoteKey(cacheKey);
  refuseEmptyProfile(key, profile);
  const max = o.maxAttempts ?? 10;
  // the join is a new profile: written with the source names the profile given would be
  const written = { ...o, ...(o.sourceNames !== undefined ? {} : writtenStrings(profile)) };
  return withRedis(url, o, async (r) => {
    for (let attempt = 1; attempt <= max; attempt++) {
      await r.watch(key);
      let value: string;
      let joined: Profile;
      let held: number;
      try {
        const current = await currentProfile(r, key, o);
        joined = profileAsWritten(current ? joinProfiles(current, profile) : profile, o);
        held = current?.codes.size ?? 0;
        value = encodeRemoteValue(profilePickle(joined, 4, written));
        await o.beforeWrite?.(attempt);
      } catch (e) {
        await r.unwatch().catch(() => {}); // the error at hand is the one to tell
        throw e;
      }
      const tx = r.multi();
      if (o.ttlSeconds !== undefined) tx.set(key, value, 'EX', o.ttlSeconds);
      else tx.set(key, value);
      const res = await tx.exec();
      if (res !== null) {
        const failed = res.find(([err]) => err);
        if (failed) throw new RedisError(`Redis refused to set ${key}: ${(failed[0] as Error).message}`);
        return { key, attempts: attempt, heldBefore: held, profile: joined };
      }
      // Another writer came between: wait a little (spread, so racing publishers part) and read again.
      await new Promise((res) => setTimeout(res, Math.floor(Math.random() * 20 * attempt)));
    }
    throw new RedisError(`${key} was changed by another writer during each of ${max} attempts to join and write it: nothing was written; try again`);
  });
}

export interface PullResult {
  keys: string[];
  appended: number;
  duplicates: number;
  records: number;
  missing: string[];
  /** Entries that could not be ingested, each with why; the others were ingested all the same. */
  bad: { key: string; message: string }[];
  /** What is said of an entry, as ingest says it of a file (a `--run` not used, …). */
  notes: string[];
}

/**
 * Ingests what jobs wrote to the remote cache: one cache key, or every
 * `pt2:dynamo-pgo::*` entry (SCAN, never KEYS, so a busy server is not blocked).
 */
export async function pullProfiles(ledger: Ledger, url: string, which: { cacheKey: string } | { all: true }, o: RedisOptions & { run?: string | null } = {}): Promise<PullResult> {
  const res: PullResult = { keys: [], appended: 0, duplicates: 0, records: 0, missing: [], bad: [], notes: [] };
  await withRedis(url, o, async (r) => {
    let keys: string[];
    if ('all' in which) {
      keys = [];
      let cursor = '0';
      do {
        const [next, batch] = await r.scan(cursor, 'MATCH', 'pt2:dynamo-pgo::*', 'COUNT', 500);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      keys.sort();
    } else keys = [remoteKey(which.cacheKey)];
    for (const k of keys) {
      try {
        await pullOne(k);
      } catch (e) {
        // One bad entry must not hide the others: name it and go on (the caller exits 2).
        // A broken connection, a ledger that can take nothing or a bug of ours stops the pull.
        if (classify(e) === 'bug' || r.status !== 'ready' || isDatabaseFailure(e)) throw e;
        res.bad.push({ key: k, message: fullMessage(e) });
      }
    }
    async function pullOne(k: string): Promise<void> {
      const cacheKey = cacheKeyOfRemoteKey(k);
      if (cacheKey === null) throw inputError('not a PGO entry key (want pt2:dynamo-pgo::<job>:<rank>:<tag>:c1)');
      try {
        parseCacheKey(cacheKey); // a malformed key (a mast: one is PyTorch's own: parseCacheKey)
      } catch (e) {
        throw inputError('bad cache key', e);
      }
      const value = await r.getBuffer(k);
      if (value === null) {
        res.missing.push(k);
        return;
      }
      const { pickle, profile } = decodeEntry(value);
      const origin = `${redisWhere(url)}/${k}`;
      // the snapshot and its events are one transaction: a failure leaves neither
      // (an entry the profile's traces held tells nothing: already in the log, fileSnapshotEvents)
      const a = ledger.sql.immediate(() => {
        const made = fileSnapshotEvents(ledger, profile, cacheKey, { format: 'redis', origin, bytes: pickle, run: o.run ?? null, time: Date.now() });
        return { ...appendSnapshotEvents(ledger, made.events), told: made.told, note: snapshotNote(k, made, o.run ?? null) };
      });
      // said once the append stood (trial s33b: pull said none of what ingest says)
      if (a.note) res.notes.push(a.note);
      res.keys.push(k);
      res.appended += a.appended;
      res.duplicates += a.duplicates + a.told;
      res.records += a.records;
    }
  });
  return res;
}
