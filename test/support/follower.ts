// A follower process (src/store/follow.int.test.ts, issue 11.3): follows a ledger with
// readAfter while writers append, folds each profile in the order followed, and once `done`
// exists and it has caught up, writes what it read to `out` as JSON.
import { existsSync, writeFileSync } from 'node:fs';
import { emptyStream, fold, type StreamView } from '../../src/store/fold.ts';
import { readAfter, START } from '../../src/store/follow.ts';
import { openLedger } from '../../src/store/ledger.ts';
import { viewRows } from '../../src/store/verify.ts';

const [db, done, out, limit = '5000'] = process.argv.slice(2);
const ledger = await openLedger(db, { readonly: true });
const positions: number[] = [];
const views = new Map<number, StreamView>();
const nap = new Int32Array(new SharedArrayBuffer(4));
let cursor = START;
let reads = 0;
let behind = 0; // events read after one of a higher position: commits out of position order
let top = 0;
let deadline = Infinity;
for (;;) {
  const batch = readAfter(ledger, cursor, Number(limit));
  reads++;
  for (const ev of batch.events) {
    positions.push(ev.position);
    if (ev.position < top) behind++;
    else top = ev.position;
    let v = views.get(ev.profileId);
    if (!v) views.set(ev.profileId, (v = emptyStream()));
    fold(v, ev);
  }
  cursor = batch.cursor;
  if (batch.events.length) continue;
  if (existsSync(done)) {
    // The writers are gone: caught up once nothing is left to read and every event was read
    // (another database's transaction on the same server may hold the horizon back a while);
    // an event skipped for good ends it after 60 s, for the test to name.
    deadline = Math.min(deadline, Date.now() + 60_000);
    const stored = Number(ledger.sql.get<{ n: number }>('select count(*) n from events')!.n);
    if (positions.length >= stored || Date.now() > deadline) break;
  }
  Atomics.wait(nap, 0, 0, 20);
}
const folded: Record<string, string[]> = {};
for (const [id, v] of views) folded[id] = viewRows(v);
writeFileSync(out, JSON.stringify({ positions, reads, behind, views: folded }));
await ledger.close();
