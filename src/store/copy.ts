import { namingLedger } from '../errors.ts';
import type { CodeId } from '../model/code-id.ts';
import type { EventKind } from './events.ts';
import type { Ledger, PreparedEvent } from './ledger.ts';
import { cursorCount } from './cursors.ts';
import { defineLiveMerge, liveMerges, type LiveMerge } from './live-merges.ts';
import { dictionaries, type Body } from './log.ts';

export interface CopyResult {
  /** Events read from the source, in position order. */
  events: number;
  /** Of them, new to the target. */
  appended: number;
  /** Of them, in the target already (the same idempotency key and the same event). */
  duplicates: number;
  /** Import snapshots new to the target. */
  imports: number;
  /** The source's live merges, each now defined in the target too. */
  liveMerges: LiveMerge[];
  /** The source's watch cursors, which are not copied (see copyLedger). */
  watchCursorsLeft: number;
}

export interface CopyOptions {
  /** Events a transaction of the target (default 5000). */
  batch?: number;
  onProgress?: (events: number) => void;
}

const PAGE = 5000;

/**
 * Copies a ledger into another, either backend to either (issue 11.5). The source's events are
 * read in position order with every column and appended through the target's one append path,
 * so the target's views, history and checkpoints come from the one fold; times, runs, origins,
 * compile ids and retractions (events like any other) go as they are. Each event keeps its
 * idempotency key, so a second copy adds nothing. The import snapshots go first, by digest,
 * and each imported entry is pointed at its snapshot's id in the target.
 *
 * The live merges go too, once the events are in: defined before, they would join each
 * copied batch again, at the copy's time; after, the target already holds what they joined.
 * Watch's cursors stay: one names a file by its device and inode on the machine that watched
 * it, which in another ledger may be another file; without them a watch reads its inputs
 * again, and what the log holds already adds nothing. A table of them that is gone (the
 * damage `copy` repairs) is nothing to carry.
 */
export function copyLedger(from: Ledger, to: Ledger, o: CopyOptions = {}): CopyResult {
  const tables = new Set(from.sql.dialect.tables(from.sql));
  const out: CopyResult = {
    events: 0,
    appended: 0,
    duplicates: 0,
    imports: 0,
    liveMerges: tables.has('live_merges') ? liveMerges(from.sql) : [],
    watchCursorsLeft: tables.has('watch_cursors') ? cursorCount(from.sql) : 0,
  };
  const importIds = copyImports(from, to, out);
  const dict = dictionaries(from.sql);
  const batchSize = o.batch ?? PAGE;
  // An entry.imported body names its snapshot by id: rewritten once per body for the target.
  const jsons = new Map<number, string>();
  const jsonOf = (bodyId: number, b: Body): string => {
    let j = jsons.get(bodyId);
    if (j === undefined) {
      const stored = b.stored as Record<string, unknown>;
      const imp = b.kind === 'entry.imported' ? (stored.import_id as number | null) : null;
      j = JSON.stringify(imp === null ? stored : { ...stored, import_id: importIds.get(imp) ?? null });
      if (jsons.size > 100_000) jsons.clear();
      jsons.set(bodyId, j);
    }
    return j;
  };
  const q = `select e.position, p.cache_key, e.kind, e.code_id, e.source_id, e.body_id, e.time, e.run_id, e.origin_id, e.origin_line, e.compile_id, e.idempotency_key
             from events e join profiles p on p.id = e.profile_id where e.position > ? order by e.position limit ${PAGE}`;
  let after = 0;
  let batch: PreparedEvent[] = [];
  const flush = () => {
    if (!batch.length) return;
    const r = writing(to, () => to.appendPrepared(batch));
    out.appended += r.appended;
    out.duplicates += r.duplicates;
    batch = [];
    o.onProgress?.(out.events);
  };
  for (;;) {
    const rows = from.sql.allRaw(q, after);
    for (const r of rows) {
      const [, cacheKey, kind, codeId, sourceId, bodyId, time, runId, originId, originLine, compileId, key] = r as [
        number, string, EventKind, number | null, number | null, number, number, number | null, number | null, number | null, string | null, number,
      ];
      const b = dict.body(bodyId);
      batch.push({
        cacheKey,
        kind,
        code: codeId === null ? null : (dict.code(codeId) as CodeId),
        source: sourceId === null ? null : dict.source(sourceId),
        json: jsonOf(bodyId, b),
        shape: b.shape,
        entry: b.entry,
        automaticDynamic: b.automaticDynamic,
        quiet: b.quiet,
        record: b.record,
        format: b.format,
        guard: b.guard,
        time: Number(time),
        // The time is copied, so it is part of the event (a second copy matches it).
        keyedTime: true,
        keyedLine: true,
        run: runId === null ? null : dict.run(runId),
        origin: originId === null ? null : dict.origin(originId),
        originLine: originLine === null ? null : Number(originLine),
        compileId,
        idem: Number(key),
      });
      out.events++;
      if (batch.length >= batchSize) flush();
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1][0] as number;
  }
  flush();
  if (out.liveMerges.length) writing(to, () => to.sql.immediate(() => {
    for (const m of out.liveMerges) defineLiveMerge(to.sql, m.into, [m.pattern]);
  }));
  return out;
}

/**
 * A write to the target, whose failure names it: SQLite's words ("database or disk is full",
 * "disk I/O error") name no file, and a copy has two (trial 20: a copy past ulimit -f said only
 * "disk I/O error").
 */
function writing<T>(to: Ledger, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw namingLedger(to.path, e);
  }
}

/** The import snapshots (deflated bytes as they are), new ones by digest; source id -> target id. */
function copyImports(from: Ledger, to: Ledger, out: CopyResult): Map<number, number> {
  const ids = new Map<number, number>();
  let after = 0;
  for (;;) {
    const rows = from.sql.all<{ id: number; digest: string; format: string; origin: string; bytes: Uint8Array; recorded_at: number }>(
      'select id, digest, format, origin, bytes, recorded_at from imports where id > ? order by id limit 100',
      after,
    );
    if (!rows.length) return ids;
    writing(to, () => to.sql.immediate(() => {
      for (const r of rows) {
        out.imports += to.sql.run('insert into imports(digest, format, origin, bytes, recorded_at) values (?, ?, ?, ?, ?) on conflict do nothing', r.digest, r.format, r.origin, r.bytes, r.recorded_at).changes;
        ids.set(Number(r.id), Number(to.sql.get<{ id: number }>('select id from imports where digest = ?', r.digest)!.id));
      }
    }));
    after = Number(rows[rows.length - 1].id);
  }
}
