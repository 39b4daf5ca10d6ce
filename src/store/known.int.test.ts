import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { LedgerError } from '../errors.ts';
import { describedShapes } from './described-shapes.ts';
import { historyAsOf } from './history.ts';
import { openLedger, type Ledger, type NewEvent } from './ledger.ts';
import { parseWindowLength } from './stats.ts';
import { explain } from './why.ts';

/**
 * The library checks what a read names as the command line does: an unknown profile id, run,
 * source or code is a LedgerError of kind input naming it (the command line's exit 2), where
 * the library used to answer [] or an empty profile.
 */
const code = { filename: '/srv/m.py', firstlineno: 3, name: 'forward', file_hash: 'abc' };
const obs = (i: number, d0: number): NewEvent => ({
  kind: 'shape.observed',
  cacheKey: 'k:None:',
  time: Date.UTC(2026, 10, 26, 9, 0, i),
  run: 'r1',
  idempotencyKey: `obs-${i}`,
  payload: { code, source: "L['x']", shape: { kind: 'tensor', size: [d0, 3], stride: [3, 1] }, automatic_dynamic: true },
});

/** Asserts `f` throws a LedgerError of kind input whose message matches `words`. */
function refuses(f: () => unknown, words: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LedgerError, String(e));
    assert.equal(e.kind, 'input');
    assert.match(e.message, words);
    return true;
  });
}

for (const dialect of DIALECTS)
  describe(`${dialect}: the library's reads refuse what the ledger does not hold`, () => {
    const open = async (): Promise<{ l: Ledger; pid: number }> => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'k.db'));
      l.append([obs(0, 8), obs(1, 8)]);
      return { l, pid: l.profileByKey('k:None:')!.id };
    };

    it('an unknown profile id: explain, historyAsOf, describedShapes and Ledger.fold/view/history', async () => {
      const { l, pid } = await open();
      try {
        const none = pid + 1000;
        const words = new RegExp(`no profile with id ${none} in `);
        refuses(() => explain(l, none), words);
        refuses(() => historyAsOf(l, none), words);
        refuses(() => historyAsOf(l, none, { untilPosition: 1 }), words);
        refuses(() => describedShapes(l, none), words);
        refuses(() => l.fold(none), words);
        refuses(() => l.fold(none, { untilPosition: 1 }), words);
        refuses(() => l.view(none), words);
        refuses(() => l.history(none), words);
        // the profile there, and nothing to tell: an empty answer, no error
        assert.deepEqual(explain(l, pid), []);
        assert.deepEqual(historyAsOf(l, pid), []);
      } finally {
        await l.close();
      }
    });

    it('an unknown run left out: explain, historyAsOf, describedShapes and Ledger.fold', async () => {
      const { l, pid } = await open();
      try {
        const window = { excludeRuns: ['r1', 'typo'] };
        // (the runs there listed: trial s24b, as --job, --code and --source list theirs)
        const words = /excludeRuns typo: no such run in .* \(runs there: r1(, \S+)*; runsByProfile\(ledger\.sql\) lists them by profile; historyAsOf gives each record's run\)$/;
        refuses(() => explain(l, pid, { window }), words);
        refuses(() => explain(l, pid, { source: "L['x']", window }), words);
        refuses(() => historyAsOf(l, pid, window), words);
        refuses(() => describedShapes(l, pid, window), words);
        refuses(() => l.fold(pid, window), words);
        // a run the ledger holds leaves its events out, as before
        assert.equal(l.fold(pid, { excludeRuns: ['r1'] }).profile.codes.size, 0);
      } finally {
        await l.close();
      }
    });

    it('a window point that is no log position or time (NaN, negative, 1.5, a string): explain, historyAsOf, describedShapes and Ledger.fold', async () => {
      // they answered an empty profile (NaN, -5, 1.5 as positions) or the whole log (NaN as a time)
      const { l, pid } = await open();
      try {
        for (const [window, words] of [
          [{ untilPosition: NaN }, /^untilPosition NaN: a log position is a whole number, 0 or more$/],
          [{ untilPosition: -5 }, /^untilPosition -5: a log position is a whole number, 0 or more$/],
          [{ untilPosition: 1.5 }, /^untilPosition 1\.5: a log position is a whole number, 0 or more$/],
          [{ untilPosition: '2' as unknown as number }, /^untilPosition "2": a log position is a whole number, 0 or more$/],
          [{ untilTime: NaN }, /^untilTime NaN: a time is ms since the epoch, a finite number$/],
          [{ untilTime: Infinity }, /^untilTime Infinity: a time is ms since the epoch, a finite number$/],
        ] as const) {
          refuses(() => explain(l, pid, { window }), words);
          refuses(() => historyAsOf(l, pid, window), words);
          refuses(() => describedShapes(l, pid, window), words);
          refuses(() => l.fold(pid, window), words);
        }
        // a whole number is a position, past the log's end too
        assert.equal(l.fold(pid, { untilPosition: 0 }).profile.codes.size, 0);
        assert.equal(l.fold(pid, { untilPosition: 2 ** 53 - 1 }).profile.codes.size, 1);
      } finally {
        await l.close();
      }
    });

    it('an unknown source, dim or code: explain says which (as why does, in its own words for the code: code, not --code)', async () => {
      const { l, pid } = await open();
      try {
        refuses(() => explain(l, pid, { source: "L['typo']" }), /^k:None: has no source L\['typo'\] \(its sources: L\['x'\]\)$/);
        refuses(() => explain(l, pid, { source: "L['x']", window: { untilPosition: 0 } }), /^k:None: has no source L\['x'\] as of 0 \(its sources: none\)$/);
        refuses(() => explain(l, pid, { source: "L['x']", window: { untilTime: Date.UTC(2026, 10, 26, 8) } }), /^k:None: has no source L\['x'\] as of 2026-11-26T08:00:00Z \(its sources: none\)$/);
        refuses(() => explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 5 } }), /^L\['x'\] of k:None: has no dim 5; its dims: 0, 1, stride 0, stride 1$/);
        refuses(() => explain(l, pid, { dim: { field: 'size', index: 5 } }), /^k:None: has no source with dim 5$/);
        // the library names its field (`code`), never the command line's flag (--code: why's and history's)
        refuses(() => explain(l, pid, { source: "L['x']", code: 'nope' }), /^no code id matches code nope \(there are: /);
        refuses(() => explain(l, pid, { source: "L['x']", code: ' ' }), /^code is empty: /);
        // likewise the library's window length (the command line's --window: stats.e2e)
        refuses(() => parseWindowLength('an hour'), /^window length an hour: want a whole number/);
        // 0 is a whole number: the words say the length must be above it (trial, session 18)
        refuses(() => parseWindowLength('0m'), /^window length 0m: want a whole number above 0 and s, m, h or d/);
        // what is there is told, static or not
        assert.equal(explain(l, pid, { source: "L['x']", dim: { field: 'size', index: 0 } })[0].current, '8');
      } finally {
        await l.close();
      }
    });
  });
