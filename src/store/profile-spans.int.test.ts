import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { undoProfileSpans } from '../../test/support/undo-migrations.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { scanEvents } from './log.ts';
import { prepareEvent } from './prepare-event.ts';
import { eventsOutsideSpans, SPAN_GAP, spansSelect } from './profile-spans.ts';
import { verifyLedger } from './verify.ts';

for (const dialect of DIALECTS) describe(`${dialect}: profile spans`, () => {
  const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
  const ev = (key: string, i: number, time = 1000 + i) => ({
    kind: 'shape.observed' as const, cacheKey: `${key}:None:`, payload: { code, source: "L['x']", shape: { kind: 'tensor' as const, size: [2 + (i % 3), 4], stride: [4, 1] }, automatic_dynamic: true }, run: `r${i % 2}`, time, idempotencyKey: `${key}${i}`,
  });
  /** Profile a nearly everywhere, b every SPAN_GAP + 8 events (a span each), c now and then; batches by COPY (300, on PostgreSQL) and by insert (small), keys taken again. */
  function fill(l: Ledger): void {
    const mixed = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k).map((i) => ev(i % (SPAN_GAP + 8) === 0 ? 'b' : i % 97 === 5 ? 'c' : 'a', i));
    l.append(mixed(0, 300));
    l.append(mixed(300, 10));
    l.append(Array.from({ length: 300 }, (_, k) => ev('c', 1000 + k)));
    l.append(mixed(310, 5));
    l.append(mixed(0, 300)); // all taken
    l.append([...mixed(315, 3), ev('a', 1), ev('b', 40), ...mixed(318, 3)]); // two taken among new ones
    l.append(mixed(321, 300));
  }
  const spans = (l: Ledger) => l.sql.allRaw('select profile_id, first_position, last_position from profile_spans order by 1, 2').map((r) => r.map(Number));
  const fromLog = (l: Ledger) => l.sql.allRaw(`select * from (${spansSelect('events')}) s order by 1, 2`).map((r) => r.map(Number));
  /** A profile's positions after `after` up to `until` as a scan reads them, and as the whole log holds them. */
  function reads(l: Ledger, pid: number, after: number, until: number): [number[], number[]] {
    const got: number[] = [];
    scanEvents(l.sql, { profileId: pid, afterPosition: after, untilPosition: until }, (e) => void got.push(e.position));
    const want = l.sql.allRaw('select position, profile_id from events where position > ? and position <= ? order by position', after, until).filter((r) => Number(r[1]) === pid).map((r) => Number(r[0]));
    return [got, want];
  }

  it('after interleaved appends of several profiles, every event lies in a span of its profile, the spans are the log\'s own (gaps of SPAN_GAP at most), and a profile\'s reads meet exactly its events in any window', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'mixed.db'));
    try {
      fill(l);
      assert.deepEqual(spans(l), fromLog(l));
      assert.deepEqual(eventsOutsideSpans(l.sql), []);
      const b = l.profileByKey('b:None:')!.id;
      // b's events lie SPAN_GAP + 8 apart: a span each
      assert.equal(spans(l).filter((s) => s[0] === b).length, Number(l.sql.get<{ n: number }>('select count(*) n from events where profile_id = ?', b)!.n));
      assert.ok(spans(l).filter((s) => s[0] === b).every((s) => s[1] === s[2]));
      const last = Number(l.sql.get<{ m: number }>('select max(position) m from events')!.m);
      for (const p of l.profiles()) {
        for (const [after, until] of [[0, last], [0, 1], [17, 41], [40, 41], [41, 300], [299, 330], [305, last], [last, last + 5]]) {
          const [got, want] = reads(l, p.id, after, until);
          assert.deepEqual(got, want, `${p.cacheKey} (${after}, ${until}]`);
        }
      }
      assert.deepEqual(verifyLedger(l).differences, []);
    } finally {
      await l.close();
    }
  });

  if (dialect === 'postgres') {
    it('pipelined batches (folded ahead, committed later) write the same spans', async () => {
      const l = await openLedger(ledgerAt(dialect, tempDir(), 'pipelined.db'));
      try {
        let done = 0;
        let lagged = 0;
        for (let b = 0; b < 6; b++) {
          l.appendPipelined(Array.from({ length: 300 }, (_, k) => prepareEvent(ev(b % 2 && k % 3 === 0 ? 'b' : 'a', b * 300 + k))), () => done++);
          if (done < b + 1) lagged++;
        }
        l.settle();
        assert.ok(lagged >= 3, `${lagged} batches pipelined`);
        assert.deepEqual(spans(l), fromLog(l));
        // b's events in the 2nd, 4th and 6th batches: a span each; a's one in all
        assert.equal(spans(l).length, 4);
      } finally {
        await l.close();
      }
    });
  }

  it('a batch that fails leaves no span of it (written in its transaction)', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'rollback.db'));
    try {
      l.append([ev('a', 0), ev('b', 1)]);
      const before = spans(l);
      if (dialect === 'sqlite') l.sql.exec("create trigger refuse before insert on events when new.time = 5 begin select raise(abort, 'refused'); end");
      else l.sql.exec("create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$; create trigger refuse before insert on events for each row when (new.time = 5) execute function refuse()");
      // by insert (a few rows) and by COPY (on PostgreSQL from 256): a new profile, and one continued, the last event refused
      for (const n of [3, 300]) {
        const batch = [...Array.from({ length: n - 1 }, (_, k) => ev(k % 2 ? 'a' : 'z', 10 + k)), ev('a', 9, 5)];
        assert.throws(() => {
          l.append(batch);
          if (dialect === 'postgres') l.settle();
        }, /refused/);
        assert.deepEqual(spans(l), before);
      }
    } finally {
      await l.close();
    }
  });

  it('the migration backfills the spans of a log made before it, the same as its appends made, and drops events_by_profile', async () => {
    const db = ledgerAt(dialect, tempDir(), 'old.db');
    let l = await openLedger(db);
    fill(l);
    const want = spans(l);
    // as the ledger was before the migration (its down, and its name and the later ones' not yet run: they change no schema, or run again)
    l.sql.exec(undoProfileSpans(dialect));
    l.sql.run("delete from kysely_migration where name >= '2026-11-29T09-24-profile-spans'");
    await l.close();
    l = await openLedger(db);
    try {
      assert.ok(want.length > 10);
      assert.deepEqual(spans(l), want);
      assert.deepEqual(verifyLedger(l).differences, []);
      const indexes = dialect === 'sqlite' ? "select name from sqlite_master where type = 'index' and name = 'events_by_profile'" : "select indexname from pg_indexes where indexname = 'events_by_profile'";
      assert.deepEqual(l.sql.allRaw(indexes), []);
    } finally {
      await l.close();
    }
  });

  it('verify names the events of a profile that lie in no span of it (its reads miss them); replay makes the spans again', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'damaged.db'));
    try {
      fill(l);
      const want = spans(l);
      const b = l.profileByKey('b:None:')!.id;
      l.sql.run('delete from profile_spans where profile_id = ? and first_position = 41', b);
      const d = verifyLedger(l).differences;
      assert.ok(d.includes('b:None:: 1 event in no span of the profile (profile_spans), the first at position 41: its reads miss them (run pgo-ledger replay)'), d.join('\n'));
      const [got, all] = reads(l, b, 0, 100);
      assert.deepEqual(all, [1, 41, 81]);
      assert.deepEqual(got, [1, 81]);
      l.replay();
      assert.deepEqual(spans(l), want);
      assert.deepEqual(verifyLedger(l).differences, []);
    } finally {
      await l.close();
    }
  });

  it('a span that begins or ends at no event of its profile (a damaged page reads as no rows): a read of it says the file is damaged, verify names the span; replay makes it again', async () => {
    const l = await openLedger(ledgerAt(dialect, tempDir(), 'ends.db'));
    try {
      fill(l);
      const want = spans(l);
      const c = l.profileByKey('c:None:')!.id;
      // c's first span ends at its event at position 6; position 7 is a's
      assert.deepEqual(want.find((s) => s[0] === c), [c, 6, 6]);
      l.sql.run('update profile_spans set last_position = 7 where profile_id = ? and first_position = 6', c);
      assert.throws(() => scanEvents(l.sql, { profileId: c }, () => {}), (e: Error) => e.name === 'DamageError' && /is damaged: the events of profile \d+ from position 6 to 7: an event a span of the profile begins or ends at \(profile_spans\) is not there/.test(e.message));
      // a window that cuts the span before its damaged end reads as before
      assert.equal(scanEvents(l.sql, { profileId: c, untilPosition: 6 }, () => {}), 1);
      const d = verifyLedger(l).differences;
      assert.ok(d.includes('c:None:: 1 span of the profile (profile_spans) begin or end at no event of it, the first from position 6 (run pgo-ledger replay)'), d.join('\n'));
      l.replay();
      assert.deepEqual(spans(l), want);
      assert.deepEqual(verifyLedger(l).differences, []);
    } finally {
      await l.close();
    }
  });
});
