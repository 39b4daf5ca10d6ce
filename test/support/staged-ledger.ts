import type { Ledger } from '../../src/store/ledger.ts';

/**
 * The ledger as an ingest sees it: its SQLite says `writes` transactions committed before and
 * that the transactions from the `meetFrom`-th append on met another writer; the events each
 * append took (appendPrepared, or appendPipelined as SQLite runs it), and the answers of `writes` it was asked.
 */
export function staged(ledger: Ledger, writes: number, meetFrom = Infinity): { ledger: Ledger; sizes: number[] } {
  let n = 0;
  let met = 0;
  const sizes: number[] = [];
  const sql = Object.assign(Object.create(ledger.sql), { writersMet: () => met, writes: () => writes + n });
  return {
    sizes,
    ledger: Object.assign(Object.create(ledger), {
      sql,
      appendPrepared(events: Parameters<Ledger['appendPrepared']>[0]) {
        sizes.push(events.length);
        const r = ledger.appendPrepared(events);
        if (++n >= meetFrom) met++;
        return r;
      },
      // what an ingest calls (SQLite: appendPrepared, its result given at once)
      appendPipelined(events: Parameters<Ledger['appendPrepared']>[0], done: (r: ReturnType<Ledger['appendPrepared']>) => void) {
        done(this.appendPrepared(events));
      },
    }),
  };
}
