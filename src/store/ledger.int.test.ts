import { historyAsOf } from './history.ts';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { oracleCases } from '../../test/support/fixtures.ts';
import { caseLines } from '../../test/support/oracle-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { ingestObservations } from '../adapters/ingest-observations.ts';
import { InputError } from '../adapters/observation-lines.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import { codeKey } from '../model/code-id.ts';
import { joinProfiles } from '../model/join-profiles.ts';
import { renderProfile } from '../model/render.ts';
import { diffProfiles } from './diff.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';
import { verifyLedger } from './verify.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const cases = oracleCases();
  const runOf = (i: number) => (i % 3 === 2 ? 'r2' : 'r1');

  describe('the 600 oracle cases through the event store', () => {
    const dir = tempDir();
    let ledger: Ledger;
    before(async () => {
      writeFileSync(join(dir, 'all.jsonl'), cases.flatMap((c) => caseLines(c, { runs: runOf })).join('\n') + '\n');
      ledger = await openLedger(ledgerAt(dialect, dir, 'ledger.db'));
      const s = await ingestObservations(ledger, join(dir, 'all.jsonl'), { batchSize: 997, worker: true });
      assert.equal(s.appended, cases.reduce((n, c) => n + c.observations.length, 0));
    });

    it("each job's view renders, logs and pickles exactly as PyTorch", () => {
      for (const c of cases) {
        const p = ledger.profileByKey(`case-${c.id}:None:`)!;
        const view = ledger.view(p.id);
        // Marked unshared, so the pickle below is written without the identity memo of tuples.
        assert.equal(view.profile.unshared, true, `case ${c.id} view marked unshared`);
        assert.equal(renderProfile(view.profile), c.expected.render, `case ${c.id} render`);
        assert.equal(Buffer.from(pickleProfile(view.profile)).toString('base64'), c.expected.pickle_p4, `case ${c.id} pickle`);
        const want = c.expected.steps.flatMap((s) => s.logged.map(({ event: _e, ...r }) => r));
        const got = ledger.history(p.id).map((h) => ({ name: h.name, dim_changed: h.dim_changed, reason: h.reason, cached: h.cached, new: h.new }));
        assert.deepEqual(got, want, `case ${c.id} history`);
      }
    });

    it('ingesting the same file again adds nothing (parsed in-thread this time)', async () => {
      const s = await ingestObservations(ledger, join(dir, 'all.jsonl'), { worker: false });
      assert.equal(s.appended, 0);
      assert.equal(s.duplicates, s.lines);
    });

    it('a bad line found on the worker thread: file, line and field; nothing of its batch written', async () => {
      const bad = join(dir, 'bad.jsonl');
      const c3 = cases[3];
      writeFileSync(bad, [...caseLines(c3, { runs: () => 'rb' }).map((l) => l.replace(`"case-${c3.id}"`, '"bad-job"')), '{"job": "bad-job", "code": {"filename": "a.py", "firstlineno": 1, "name": "f"}, "source": 7, "kind": "scalar", "value": 1}'].join('\n'));
      await assert.rejects(ingestObservations(ledger, bad, { worker: true }), (e: unknown) => e instanceof InputError && e.line === c3.observations.length + 1 && /bad\.jsonl:\d+: field source: .*string/.test(e.message));
      assert.equal(ledger.profileByKey('bad-job:None:'), undefined);
      const skipped: string[] = [];
      const s = await ingestObservations(ledger, bad, { worker: true, skipInvalid: true, onSkip: (m) => skipped.push(m) });
      assert.equal(s.skipped, 1);
      assert.equal(skipped.length, 1);
      assert.equal(s.appended, c3.observations.length);
      assert.equal(ledger.profileByKey('bad-job:None:')!.eventCount, c3.observations.length);
    });

    it('verify passes; replay leaves every view unchanged', () => {
      assert.deepEqual(verifyLedger(ledger).differences, []);
      const before = cases.map((c) => renderProfile(ledger.view(ledger.profileByKey(`case-${c.id}:None:`)!.id).profile));
      const hist = cases.map((c) => JSON.stringify(ledger.history(ledger.profileByKey(`case-${c.id}:None:`)!.id)));
      ledger.replay();
      assert.deepEqual(cases.map((c) => renderProfile(ledger.view(ledger.profileByKey(`case-${c.id}:None:`)!.id).profile)), before);
      assert.deepEqual(cases.map((c) => JSON.stringify(ledger.history(ledger.profileByKey(`case-${c.id}:None:`)!.id))), hist);
      assert.deepEqual(verifyLedger(ledger).differences, []);
    });

    it('a fold --exclude-run equals a fresh store fed without that run; verify passes', async () => {
      const fresh = await openLedger(ledgerAt(dialect, dir, 'fresh.db'));
      writeFileSync(join(dir, 'no-r2.jsonl'), cases.flatMap((c) => caseLines(c, { runs: runOf }).filter((_, i) => runOf(i) !== 'r2')).join('\n') + '\n');
      await ingestObservations(fresh, join(dir, 'no-r2.jsonl'));
      for (const c of cases) {
        const a = ledger.profileByKey(`case-${c.id}:None:`)!;
        const b = fresh.profileByKey(`case-${c.id}:None:`);
        const got = renderProfile(ledger.fold(a.id, { excludeRuns: ['r2'] }).profile);
        assert.equal(got, b ? renderProfile(fresh.view(b.id).profile) : '', `case ${c.id}`);
        if (b) assert.deepEqual(historyAsOf(ledger, a.id, { excludeRuns: ['r2'] }).map((h) => [h.name, h.dim_changed, h.cached, h.new]), fresh.history(b.id).map((h) => [h.name, h.dim_changed, h.cached, h.new]));
      }
      assert.deepEqual(verifyLedger(ledger).differences, []);
      await fresh.close();
    });

    it('retracting a run makes the profile what a store that never saw it holds, and as-of still sees it', async () => {
      const c = cases.find((x) => x.observations.length >= 6 && x.automatic_dynamic_shapes)!;
      const p = ledger.profileByKey(`case-${c.id}:None:`)!;
      const lastBefore = p.lastPosition!;
      // an empty job names no job: refused, nothing appended (it was read as every job)
      const before = ledger.sql.get<{ n: number }>('select count(*) n from events')!.n;
      assert.throws(() => retractRun(ledger, 'r2', { job: '' }), (e: Error & { kind?: string }) => e.name === 'LedgerError' && e.kind === 'input' && /job is empty/.test(e.message));
      assert.equal(ledger.sql.get<{ n: number }>('select count(*) n from events')!.n, before);
      // an empty run names no run either (trial s34a: a run named blank, shown as none, retracted whole)
      writeFileSync(join(dir, 'blank.jsonl'), `${caseLines(c, { runs: runOf })[0]}\n`);
      await assert.rejects(ingestFile(ledger, join(dir, 'blank.jsonl'), { defaults: { run: '' } }), (e: Error & { kind?: string }) => e.kind === 'input' && /defaults\.run is empty/.test(e.message));
      assert.equal(ledger.sql.get<{ n: number }>('select count(*) n from events')!.n, before);
      assert.deepEqual(retractRun(ledger, 'r2', { job: `case-${c.id}` }), { retracted: [`case-${c.id}:None:`], already: [], carried: [], merged: [] });
      // tryout: a second retraction adds nothing
      const count = ledger.sql.get<{ n: number }>('select count(*) n from events')!.n;
      assert.deepEqual(retractRun(ledger, 'r2', { job: `case-${c.id}` }), { retracted: [], already: [`case-${c.id}:None:`], carried: [], merged: [] });
      assert.equal(ledger.sql.get<{ n: number }>('select count(*) n from events')!.n, count);
      const fresh = await openLedger(ledgerAt(dialect, dir, 'fresh2.db'));
      writeFileSync(join(dir, 'one.jsonl'), caseLines(c, { runs: runOf }).filter((_, i) => runOf(i) !== 'r2').join('\n') + '\n');
      await ingestObservations(fresh, join(dir, 'one.jsonl'));
      const f = fresh.profileByKey(`case-${c.id}:None:`)!;
      assert.equal(renderProfile(ledger.view(p.id).profile), renderProfile(fresh.view(f.id).profile));
      assert.equal(renderProfile(ledger.fold(p.id, { untilPosition: lastBefore }).profile), c.expected.render);
      assert.deepEqual(verifyLedger(ledger).differences, []);
      await fresh.close();
    });

    it('diff lists the entries and dims that changed between two points', () => {
      const c = cases.find((x) => x.expected.steps.some((s) => s.logged.some((l) => l.reason === 'size change')) && x.automatic_dynamic_shapes)!;
      const p = ledger.profileByKey(`case-${c.id}:None:`)!;
      const first = ledger.sql.get<{ p: number }>('select min(position) p from events where profile_id = ?', p.id)!.p;
      const changes = diffProfiles(ledger.fold(p.id, { untilPosition: first - 1 }).profile, ledger.fold(p.id, {}).profile);
      assert.ok(changes.length > 0);
      assert.ok(changes.every((ch) => ch.change === 'added'));
      const step = c.expected.steps.findIndex((s) => s.logged.some((l) => l.reason === 'size change'));
      const positions = ledger.sql.all<{ position: number }>('select position from events where profile_id = ? order by position', p.id).map((r) => r.position);
      const d = diffProfiles(ledger.fold(p.id, { untilPosition: positions[step - 1] }).profile, ledger.fold(p.id, { untilPosition: positions[step] }).profile);
      const rec = c.expected.steps[step].logged.find((l) => l.reason === 'size change')!;
      assert.ok(d.some((ch) => ch.source === rec.name && ch.dims.some((x) => x.dim === `size[${rec.dim_changed}]` && x.to === "?")), JSON.stringify(d));
    });
  });

  describe('session 22: retractRun names the snapshots with no run that carry a run', () => {
    it("carried lists a pickle ingested with no run later than the run (format, origin, position), not one older, nor one of a run", async () => {
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 'carried.db'));
      try {
        const code = { filename: '/srv/m.py', firstlineno: 3, name: 'f', file_hash: 'a' };
        const line = (run: string, n: number, t: string) => JSON.stringify({ job: 'cs', run, time: t, code, source: "L['x']", kind: 'tensor', size: [n, 4], stride: [4, 1] });
        writeFileSync(join(dir, 'obs.jsonl'), [line('r1', 8, '2026-11-26T10:00:00Z'), line('r2', 9, '2026-11-26T11:00:00Z')].join('\n'));
        await ingestObservations(l, join(dir, 'obs.jsonl'));
        // three profiles (an import is known by what it holds: each must differ): after r1, after r2, and with L['y'] too
        const p = l.profileByKey('cs:None:')!;
        const other = { filename: '/srv/m.py', firstlineno: 9, name: 'g', file_hash: 'a' };
        const afterR2 = l.view(p.id).profile;
        const profiles = [l.fold(p.id, { untilPosition: 1 }).profile, afterR2, joinProfiles(afterR2, { codes: new Map([[codeKey(other), { id: other, state: { automaticDynamic: new Map([["L['y']", afterR2.codes.values().next().value!.state.automaticDynamic.get("L['x']")!]]) } }]]) })];
        const snapshot = (name: string, i: number, time: string, run?: string) => {
          const file = join(dir, name);
          writeFileSync(file, pickleProfile(profiles[i]));
          utimesSync(file, new Date(time), new Date(time));
          return ingestFile(l, file, { defaults: { job: 'cs', run } });
        };
        await snapshot('older.pkl', 0, '2026-11-26T10:30:00Z');
        const at = l.profileByKey('cs:None:')!.lastPosition! + 1;
        await snapshot('later.pkl', 1, '2026-11-26T12:00:00Z');
        await snapshot('of-a-run.pkl', 2, '2026-11-26T12:30:00Z', 'r3');
        assert.equal(l.profileByKey('cs:None:')!.lastPosition, at + 2, 'each snapshot appended');
        assert.deepEqual(retractRun(l, 'r2'), { retracted: ['cs:None:'], already: [], carried: [{ cacheKey: 'cs:None:', runs: [], snapshots: [{ format: 'pickle', origin: join(dir, 'later.pkl'), position: at }] }], merged: [] });
        // r1 came before both snapshots with no run
        assert.deepEqual(retractRun(l, 'r1').carried[0].snapshots.map((x) => x.origin), [join(dir, 'older.pkl'), join(dir, 'later.pkl')]);
      } finally {
        await l.close();
      }
    });
  });

  describe('idempotency of line inputs', () => {
    it('the same file again adds nothing; a grown file adds its new lines; another run’s file alike (--run) adds all', async () => {
      const dir = tempDir();
      const l = await openLedger(ledgerAt(dialect, dir, 'i.db'));
      const line = (n: number) => JSON.stringify({ job: 'idem', code: { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'a' }, source: "L['x']", kind: 'scalar', value: n % 2 });
      writeFileSync(join(dir, 'run1.jsonl'), [0, 1, 2].map(line).join('\n'));
      assert.equal((await ingestObservations(l, join(dir, 'run1.jsonl'))).appended, 3);
      assert.equal((await ingestObservations(l, join(dir, 'run1.jsonl'))).appended, 0);
      writeFileSync(join(dir, 'run1.jsonl'), [0, 1, 2, 3, 4].map(line).join('\n'));
      const grown = await ingestObservations(l, join(dir, 'run1.jsonl'));
      assert.deepEqual([grown.appended, grown.duplicates], [2, 3]);
      writeFileSync(join(dir, 'run2.jsonl'), [0, 1, 2].map(line).join('\n'));
      assert.equal((await ingestObservations(l, join(dir, 'run2.jsonl'), { defaults: { run: 'r2' } })).appended, 3);
      assert.equal(l.profileByKey('idem:None:')!.eventCount, 8);
      await l.close();
    });
  });

  describe('issue 11.2: another connection appending to the same profile', () => {
    it('issue 11.2: each connection folds on from what the other wrote (its cached view is dropped when stale)', async () => {
      const db = ledgerAt(dialect, tempDir(), 'two.db');
      const a = await openLedger(db);
      const b = await openLedger(db);
      const code = { filename: 'a.py', firstlineno: 1, name: 'f', file_hash: 'h' };
      const ev = (i: number, size: number) => ({ kind: 'shape.observed' as const, cacheKey: 'two:None:', payload: { code, source: "L['x']", shape: { kind: 'tensor' as const, size: [size, 4], stride: [4, 1] }, automatic_dynamic: true }, run: null, time: i, idempotencyKey: `e${i}` });
      a.append([ev(1, 2)]);
      b.append([ev(2, 3)]); // dim 0 turns dynamic in b's fold
      a.append([ev(3, 3)]); // a must fold on from b's event, not from its own cached view
      b.append([ev(4, 5)]);
      const pid = a.profileByKey('two:None:')!.id;
      assert.equal(renderProfile(a.view(pid).profile), renderProfile(a.fold(pid, { untilPosition: Number.MAX_SAFE_INTEGER }).profile));
      assert.deepEqual(a.history(pid).map((h) => [h.dim_changed, h.cached, h.new]), [[0, '2', '3']]);
      assert.deepEqual(verifyLedger(a).differences, []);
      await a.close();
      await b.close();
    });

    it('two connections taking turns on two profiles (checkpoints due, a retraction and a replay between): every view, checkpoint and why-checkpoint as one connection makes them', async () => {
      const saved = process.env.PGO_LEDGER_CHECKPOINT_EVERY;
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '3';
      try {
        const dir = tempDir();
        const code = (k: number) => ({ filename: 'a.py', firstlineno: k, name: `f${k}`, file_hash: 'h' });
        const ev = (key: string, i: number, size: number, run: string) => ({
          kind: 'shape.observed' as const, cacheKey: key, payload: { code: code(i % 3), source: "L['x']", shape: { kind: 'tensor' as const, size: [size, 4], stride: [4, 1] }, automatic_dynamic: true }, run, time: i, idempotencyKey: `${key}${i}`,
        });
        // batch i: connection i % 2, profile one, two or both
        const batches = Array.from({ length: 16 }, (_, i) => [
          ...(i % 3 !== 1 ? [ev('one:None:', 2 * i, 2 + (i % 4), `r${i % 2}`), ev('one:None:', 2 * i + 1, 3, 'r2')] : []),
          ...(i % 3 !== 0 ? [ev('two:None:', 2 * i, 2 + (i % 5), `r${i % 2}`)] : []),
        ]);
        const twoDb = ledgerAt(dialect, dir, 'turns.db');
        const oneDb = ledgerAt(dialect, dir, 'alone.db');
        const [a, b, alone] = [await openLedger(twoDb), await openLedger(twoDb), await openLedger(oneDb)];
        for (const [i, batch] of batches.entries()) {
          const l = i % 2 ? b : a;
          l.append(batch);
          alone.append(batch);
          // a retraction at a fixed time (retractRun's is the clock's)
          if (i === 6) for (const x of [b, alone]) x.append([{ kind: 'run.retracted', cacheKey: 'two:None:', payload: { run: 'r1' }, run: 'r1', time: 99, idempotencyKey: 'retract r1' }]);
          if (i === 10) for (const x of [b, alone]) x.replay();
        }
        for (const l of [a, alone]) assert.deepEqual(verifyLedger(l).differences, []);
        const state = (l: Ledger) =>
          l.profiles().map((p) => ({
            key: p.cacheKey,
            view: renderProfile(l.view(p.id).profile),
            history: l.history(p.id).map((h) => [h.position, h.dim_changed, h.cached, h.new]),
            // PostgreSQL's sequences skip the ids another connection's conflicting inserts took:
            // there the states name other dictionary ids (verify checked them above).
            checkpoints: l.sql.allRaw(`select position, event_count, max_time${dialect === 'sqlite' ? ', state' : ''} from checkpoints where profile_id = ? order by position`, p.id),
            why: l.sql.allRaw(`select position${dialect === 'sqlite' ? ', state, counts' : ''} from why_checkpoints where profile_id = ? order by position`, p.id),
          }));
        assert.deepEqual(state(a), state(alone));
        for (const l of [a, b, alone]) await l.close();
      } finally {
        if (saved === undefined) delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
        else process.env.PGO_LEDGER_CHECKPOINT_EVERY = saved;
      }
    });
  });
});

describe('postgres: a first batch that fails leaves no profile a command sees', () => {
  it("the profile's row, committed first with the other dictionary rows, is listed by no command until its events land", async () => {
    const { freshLedger, psql } = await import('../../test/support/postgres.ts');
    const { ingestFile } = await import('../adapters/ingest-file.ts');
    const dir = tempDir();
    const url = freshLedger('postgres', dir);
    const name = new URL(url).pathname.slice(1);
    const l = await openLedger(url);
    try {
      // every insert into events refused, as a server that refuses the role or runs out of room would
      psql("create function no_events() returns trigger language plpgsql as $$ begin raise exception 'no room for events'; end $$", name);
      psql('create trigger no_events before insert on events for each statement execute function no_events()', name);
      const line = JSON.stringify({ job: 'half', run: 'r1', time: '2026-11-26T10:00:00Z', code: { filename: '/m.py', firstlineno: 1, name: 'f', file_hash: 'ab' }, source: "L['x']", kind: 'tensor', size: [2, 3], stride: [3, 1] });
      writeFileSync(join(dir, 'half.jsonl'), `${line}\n`);
      await assert.rejects(ingestFile(l, join(dir, 'half.jsonl')), /no room for events/);
      assert.deepEqual(psql("select event_count from profiles where cache_key = 'half:None:'", name), ['0'], 'the row the failed batch left');
      assert.deepEqual(l.profiles().map((p) => p.cacheKey), []);
      assert.equal(l.profileByKey('half:None:'), undefined);
      psql('drop trigger no_events on events', name);
      await ingestFile(l, join(dir, 'half.jsonl'));
      assert.deepEqual(l.profiles().map((p) => [p.cacheKey, p.eventCount]), [['half:None:', 1]]);
    } finally {
      await l.close();
    }
  });
});
