import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliTogether } from '../../test/support/cli.ts';
import { envDuring } from '../../test/support/env.ts';
import { storedTables } from '../../test/support/tables.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { lineContext, parseObservationLine } from '../adapters/observation-lines.ts';
import { appendAhead, appendBatch, foldAhead, internBatch, type AppendState } from './append.ts';
import { openDatabase } from './database.ts';
import { createInterner } from './intern.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { prepareEvent, type PreparedEvent } from './prepare-event.ts';
import { verifyLedger } from './verify.ts';
import { liveViews } from './views.ts';

/**
 * Issue 10.3: a batch folded ahead of the write lock (append.ts foldAhead, appendAhead) stores
 * exactly what the append under the lock stores: when another writer appended elsewhere in
 * between (the positions move, why's evidence with them), to the same profile (the fold is let
 * go), when the batch repeats events of the log (duplicates), and when nothing came between.
 */
const pad = 'p'.repeat(40);

/** A batch's lines: dims that grow and cycle (why's evidence in most batches), runs changing, a scalar, automatic dynamic off now and then. */
function line(i: number, batch: number, job = 'j0'): string {
  const code = i % 7;
  const source = i % 3;
  const grow = code === 2 ? 3 + batch : 3;
  const cycle = code === 3 ? [8, 16, 8, 32][batch % 4] : 8;
  const o: Record<string, unknown> = { job, run: `run-${Math.floor(batch / 3)}`, time: 1795600000 + batch * 1000 + i, code: { filename: `/srv/${pad}/m${code}.py`, firstlineno: 10 + code, name: `f${code}`, file_hash: 'ab' } };
  if (source === 2) Object.assign(o, { source: "L['n']", kind: 'scalar', value: code === 4 ? batch % 2 : 7 });
  else Object.assign(o, { source: `L['x${source}']`, kind: 'tensor', size: [cycle, grow], stride: [grow, 1] });
  if (code === 5 && batch % 4 === 1 && i < 14) Object.assign(o, { automatic_dynamic: false }, source === 2 ? { value: 99 } : { size: [99, grow] });
  return JSON.stringify(o);
}

function batchOf(b: number): PreparedEvent[] {
  const ctx = lineContext('in.jsonl', {});
  // batch 7 repeats the first 40 lines of batch 6 (duplicates: the insert skips them)
  const from = b === 7 ? -40 : 0;
  return Array.from({ length: 200 - from }, (_, k) => {
    const i = k + from;
    const [bb, ii] = i < 0 ? [6, i + 40] : [b, i];
    return prepareEvent(parseObservationLine(line(ii, bb), bb * 1000 + ii + 1, ctx));
  });
}

/** Another writer's event: to another profile (k odd) or to the batches' own (k even). */
function otherWriter(other: Ledger, k: number): void {
  const job = k % 2 ? 'j9' : 'j0';
  const text = JSON.stringify({ job, run: 'other', time: 1795600000 + k, code: { filename: `/srv/${pad}/m3.py`, firstlineno: 13, name: 'f3', file_hash: 'ab' }, source: "L['x0']", kind: 'tensor', size: [100 + k, 3], stride: [3, 1] });
  other.append([parseObservationLine(text, k + 1, lineContext('other.jsonl', {}))]);
}

async function appendState(path: string): Promise<{ st: AppendState; close: () => Promise<void> }> {
  const db = await openDatabase(path);
  const interner = createInterner(db.sql);
  const st: AppendState = { sql: db.sql, interner, live: liveViews(db.sql, interner), checkpointCounts: new Map(), carried: { gen: interner.generation, memos: new Map() }, after: { counters: new Map(), next: undefined } };
  return { st, close: db.close };
}

describe('an append folded ahead of the write lock', () => {
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '300'); // checkpoints (why's state encoded ahead) every other batch

  it('stores every table as the append under the lock does: others appending between (elsewhere, to the same profile), duplicates, no one between', async () => {
    const dir = tempDir();
    const stored: Record<string, unknown[]>[] = [];
    const seen = { ahead: 0, moved: 0, movedEvidence: 0 };
    for (const ahead of [true, false]) {
      const path = join(dir, `${ahead}.db`);
      const { st, close } = await appendState(path);
      const other = await openLedger(path);
      try {
        for (let b = 0; b < 14; b++) {
          const events = batchOf(b);
          // what foldAhead computes before the lock, the other writer's append after it (the
          // append under the lock adds the batch's new dictionary rows first too, as foldAhead
          // does, so that both give them the same ids)
          const a = ahead && b > 0 ? foldAhead(st, events) : null;
          if (!ahead && b > 0) st.sql.immediate(() => internBatch(st, events));
          if (b % 3 !== 2 && b > 0) otherWriter(other, b);
          const r = st.sql.immediate(() => {
            st.checkpointCounts.clear(); // as Ledger.appendPrepared does where another writer committed
            return a ? appendAhead(st, events, a) : appendBatch(st, events);
          });
          assert.equal(r.appended, b === 7 ? 200 : events.length);
          if (a) {
            seen.ahead++;
            if (r.firstPosition !== a.base) {
              seen.moved++;
              if (a.ahead.accs.size) seen.movedEvidence++;
            }
          }
        }
      } finally {
        await close();
        await other.close();
      }
      stored.push(storedTables(path));
      const l = await openLedger(path, { readonly: true });
      try {
        assert.deepEqual(verifyLedger(l).differences, []);
      } finally {
        await l.close();
      }
    }
    const [got, want] = stored;
    assert.ok((want.why_checkpoints as unknown[]).length >= 5 && (want.history as unknown[]).length > 10);
    assert.deepEqual(got, want);
    // each way taken: folded ahead, moved, with why's evidence moved
    assert.ok(seen.ahead >= 12 && seen.moved >= 6 && seen.movedEvidence >= 2, JSON.stringify(seen));
  });
});

describe('two processes appending to the same profile at once, folding ahead', () => {
  envDuring('PGO_LEDGER_FOLD_AHEAD', '1');
  envDuring('PGO_LEDGER_CHECKPOINT_EVERY', '7000');

  it('store what one writer appending the same batches in the same order stores, and verify', async () => {
    const dir = tempDir();
    const files = [0, 1].map((w) => {
      const f = join(dir, `w${w}.jsonl`);
      // 3 batches of 10,000 lines each, one profile; the writers' dims differ (evidence in both)
      writeFileSync(f, Array.from({ length: 30_000 }, (_, i) => line(i, w * 5 + Math.floor(i / 5000))).join('\n') + '\n');
      return f;
    });
    // The writers must take turns on the profile (one appending while the other folded
    // ahead); the scheduler may let one finish first, so a run that did not interleave is
    // made again, a few times at most.
    let db = '';
    let chunks: { file: string; from: number; to: number }[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      db = join(dir, `both-${attempt}.db`);
      await (await openLedger(db)).close();
      const rs = await cliTogether(files.map((f) => ({ db, args: ['ingest', '--json', f] })), join(dir, `go-${attempt}`));
      for (const r of rs) assert.equal(r.status, 0, r.stderr);
      // the batches as they were committed: runs of one file's lines, in position order
      const l = await openLedger(db, { readonly: true });
      chunks = [];
      try {
        assert.deepEqual(verifyLedger(l).differences, []);
        for (const [origin, lineNo] of l.sql.allRaw('select o.origin, e.origin_line from events e join origins o on o.id = e.origin_id order by e.position') as [string, number][]) {
          const c = chunks[chunks.length - 1];
          if (c && c.file === origin && c.to === lineNo - 1 && lineNo % 10_000 !== 1) c.to = lineNo;
          else chunks.push({ file: origin, from: lineNo, to: lineNo });
        }
      } finally {
        await l.close();
      }
      if (new Set(chunks.slice(0, 3).map((c) => c.file)).size === 2) break;
    }
    // the writers took turns: the same profile appended to by both while the other folded ahead
    assert.ok(chunks.length === 6 && new Set(chunks.slice(0, 3).map((c) => c.file)).size === 2, JSON.stringify(chunks));
    // one writer, the same batches in the same order, under the lock
    process.env.PGO_LEDGER_FOLD_AHEAD = '0';
    const serial = join(dir, 'serial.db');
    const s = await openLedger(serial);
    try {
      const text = new Map(files.map((f) => [f, readFileSync(f, 'utf8').split('\n')]));
      // one context a file, as the ingest's (the keys' tag is its first line's)
      const ctxs = new Map(files.map((f) => [f, lineContext(f, {})]));
      for (const c of chunks) {
        const ctx = ctxs.get(c.file)!;
        const events: PreparedEvent[] = [];
        for (let n = c.from; n <= c.to; n++) events.push(prepareEvent(parseObservationLine(text.get(c.file)![n - 1], n, ctx)));
        s.appendPrepared(events);
      }
    } finally {
      await s.close();
      process.env.PGO_LEDGER_FOLD_AHEAD = '1';
    }
    assert.deepEqual(resolved(db), resolved(serial));
  });
});

/** The tables an append writes, dictionary ids resolved to what they name (the writers added them in another order). */
function resolved(path: string): Record<string, unknown[]> {
  const t = storedTables(path);
  const byId = (rows: unknown[]) => new Map((rows as unknown[][]).map((r) => [r[0], JSON.stringify(r.slice(1))]));
  const [codes, bodies, runs, origins, sources, profiles] = [t.codes, t.bodies, t.runs, t.origins, t.sources, t.profiles].map(byId);
  const events = (t.events as unknown[][]).map((r) => [r[0], profiles.get(r[1]), r[2], codes.get(r[3]), sources.get(r[4]), bodies.get(r[5]), r[6], runs.get(r[7]), origins.get(r[8]), ...r.slice(9)]);
  return {
    events,
    history: (t.history as unknown[][]).map((r) => [r[1], profiles.get(r[2]), r[3], codes.get(r[4]), ...r.slice(5)]),
    code_states: (t.code_states as unknown[][]).map((r) => [profiles.get(r[0]), ...r.slice(1)]),
    profiles: t.profiles,
    profile_runs: (t.profile_runs as unknown[][]).map((r) => [profiles.get(r[0]), runs.get(r[1]), ...r.slice(2)]),
    checkpoints: (t.checkpoints as unknown[][]).map((r) => [profiles.get(r[0]), r[1], r[2], r[3]]),
  };
}

describe('a writer folding ahead whose batch names dictionary rows another writer added', () => {
  envDuring('PGO_LEDGER_FOLD_AHEAD', '1');

  // Two connections to one file, as two processes have (their own caches, SQLite's own lock):
  // the rows are read outside the lock, and no write transaction of their own is taken for them.
  it('reads their ids and takes the write lock once, for the append', async () => {
    const path = join(tempDir(), 'rows.db');
    const w = await openLedger(path);
    const other = await openLedger(path);
    try {
      // one context a writer (each its own keys), one input name (one origin row)
      const batch = (b: number, job: string, ctx = lineContext('in.jsonl', {})) => Array.from({ length: 200 }, (_, i) => prepareEvent(parseObservationLine(line(i, b, job), b * 1000 + i + 1, ctx)));
      w.appendPrepared(batch(0, 'j0'));
      // batch 5: a new run and grown and cycled dims (new bodies), all added by the other writer, to its own profile
      other.appendPrepared(batch(5, 'j9'));
      const writes = w.sql.writes!();
      const r = w.appendPrepared(batch(5, 'j0'));
      assert.equal(r.appended, 200);
      assert.equal(w.sql.writes!() - writes, 1);
      assert.deepEqual(verifyLedger(w).differences, []);
    } finally {
      await w.close();
      await other.close();
    }
  });
});
