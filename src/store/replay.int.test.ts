import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshLedger } from '../../test/support/postgres.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { createInterner } from './intern.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { retractRun } from './retract.ts';

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
function lines(job: string, from: number, n: number): string {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) {
    const c = i % 23;
    const code = { filename: `/m${c % 5}.py`, firstlineno: 1 + c, name: `f${c}`, file_hash: 'h' };
    const source = ["L['x']", "L['y']", "L['n']"][Math.floor(i / 23) % 3];
    // dims changing now and then, a late change, scalars, times going back now and then
    const d0 = c % 7 === 0 ? [8, 16, 24][Math.floor(i / 97) % 3] : c === 5 && i > 700 ? 9 : 8;
    const time = new Date(T0 + (i % 50 === 0 ? -3_600_000 * (i % 7) : i * 1000)).toISOString();
    const run = i % 11 === 0 ? undefined : `r${Math.floor(i / 200)}`;
    const base = { job, ...(run ? { run } : {}), time, code, source };
    out.push(JSON.stringify(source === "L['n']" ? { ...base, kind: 'scalar', value: c % 4 === 0 ? i % 3 : 7 } : { ...base, kind: 'tensor', size: [d0, 4 + (c % 4)], stride: [4 + (c % 4), 1] }));
  }
  return out.join('\n') + '\n';
}

/** The log both suites replay: four observation files of two jobs, a trace and a pickle. */
async function seed(l: Ledger, dir: string): Promise<void> {
  for (let k = 0; k < 4; k++) {
    writeFileSync(join(dir, `a${k}.jsonl`), lines('a', k * 300, 300) + lines('b', k * 100, 100));
    await ingestFile(l, join(dir, `a${k}.jsonl`));
  }
  await ingestFile(l, 'test/fixtures/torch-2.11/traces/warm-local.log');
  await ingestFile(l, 'test/fixtures/torch-2.11/local/code_state_fixture_None_.pkl');
}

/** What replay leaves (its summary and `tables()`), or the error it throws, with one scan. */
function replayWith(l: Ledger, scan: 'rows' | 'packed', tables: () => string): string {
  process.env.PGO_LEDGER_REPLAY_SCAN = scan;
  try {
    return JSON.stringify(l.replay()) + tables();
  } catch (e) {
    return `error: ${(e as Error).message}`;
  } finally {
    delete process.env.PGO_LEDGER_REPLAY_SCAN;
  }
}

/** A log with positions far apart and gaps, events with no run, and a run row past the others. */
function gapsAndFarRuns(l: Ledger): void {
  const max = l.sql.get<{ m: number }>('select max(position) m from events')!.m;
  l.sql.run('delete from events where position > ? and position < ?', 100, 5000 + 100);
  l.sql.run('update events set position = position + 10000000000 where position > ?', max - 20);
  l.sql.run('update events set run_id = null where position % 13 = 0');
  l.sql.run("insert into runs(id, run) values (1000, 'far')");
  l.sql.run('update events set run_id = 1000 where position % 17 = 0');
}

function assertSame(rows: string, packed: string): void {
  assert.ok(rows === packed, `the scans differ from the ${[...rows].findIndex((c, i) => c !== packed[i])}th character: ${rows.slice(0, 300)} / ${packed.slice(0, 300)}`);
}

/**
 * Replay's packed scan on SQLite (each event's ids packed by SQL into one number, the events
 * met before only counted) against scanEvents's rows: the same stored views, checkpoints and
 * why-checkpoints, and the same error, on logs a writer leaves and on hostile rows.
 */
describe('replay: the packed scan against the rows', () => {
  const dir = tempDir();
  let db: string;
  let l: Ledger;
  const DERIVED = ['code_states', 'history', 'checkpoints', 'why_checkpoints', 'profile_runs'];
  const tables = () => JSON.stringify(DERIVED.map((t) => l.sql.allRaw(`select * from ${t} order by 1, 2, 3`)), (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x));
  /** What replay leaves (or the error it throws) with each scan. */
  const both = () => ({ rows: replayWith(l, 'rows', tables), packed: replayWith(l, 'packed', tables) });
  const same = () => {
    const { rows, packed } = both();
    assertSame(rows, packed);
    return rows;
  };

  before(async () => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '97';
    db = join(dir, 'r.db');
    l = await openLedger(db);
    await seed(l, dir);
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    await l.close();
  });

  /** The changes `body` makes to the ledger, undone after (a savepoint), whatever it throws. */
  const undone = (body: () => void) => {
    l.sql.run('savepoint undone');
    try {
      body();
    } finally {
      l.sql.run('rollback to undone');
      l.sql.run('release undone');
    }
  };

  /** Each event's time set to an SQL literal as it is (text, a blob, past 64 bits: hostile rows). */
  const timesAt = (at: [position: number, literal: string][]) => {
    for (const [position, literal] of at) l.sql.run(`update events set time = ${literal} where position = ?`, position);
  };

  it('issue 10.7: the same stored views, checkpoints and why-checkpoints as the rows give, with and without a retraction', () => {
    const first = same();
    assert.match(first, /"events":1\d{3}/);
    retractRun(l, 'r2', { job: 'a' });
    same();
  });

  it('issue 10.7: checkpoints every 1, 2, 97, 2.5 and -3 events (the hot path\'s due count against the remainder)', () => {
    for (const every of ['1', '2', '97', '2.5', '-3']) {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = every;
      try {
        const r = same();
        if (every === '2.5') assert.ok(l.sql.get<{ n: number }>('select count(*) n from checkpoints')!.n > 0, 'a fractional interval still writes checkpoints (every 5)');
        assert.ok(r.length > 0);
      } finally {
        process.env.PGO_LEDGER_CHECKPOINT_EVERY = '97';
      }
    }
  });

  it('issue 10.7: the connection\'s memory map setting is as it was after a replay (the scan maps the file), and after one that fails', () => {
    const mmap = () => l.sql.get<{ mmap_size: number }>('pragma mmap_size')!.mmap_size;
    l.sql.get('pragma mmap_size = 4096');
    try {
      l.replay();
      assert.equal(mmap(), 4096);
      undone(() => {
        l.sql.run("update events set run_id = 999999999 where position = 5");
        assert.throws(() => l.replay());
      });
      assert.equal(mmap(), 4096);
    } finally {
      l.sql.get('pragma mmap_size = 0');
    }
  });

  it('issue 10.7: times far from the others, a few of them and many (a page read spread)', () => {
    for (const every of [400, 19]) {
      undone(() => {
        l.sql.run('update events set time = time - 100000000000 where position % ? = 0', every);
        l.sql.run('update events set time = time + 0.5 where position = 77');
        same();
      });
    }
  });

  it('issue 10.7: a page read spread with times of text and of a blob (read as they are, each goes as a mark does): what the rows give', () => {
    undone(() => {
      l.sql.run('update events set time = time - 100000000000 where position % 19 = 0');
      timesAt([[78, "'x'"], [79, "x'00'"], [80, "'12'"]]);
      same();
    });
  });

  it('issue 10.7: times at the ends of 64 bits, huge, not numbers (the packed scan\'s time less its base, in integers, overflows): what the rows give', () => {
    undone(() => {
      timesAt([[60, '-9223372036854775808'], [61, '9223372036854775807'], [62, '1e300'], [63, '-1e300'], [64, "'x'"], [65, '4611686018427387904']]);
      same();
    });
  });

  it('issue 10.7: positions with gaps and far apart, runs missing, a run row past the others', () => {
    gapsAndFarRuns(l);
    same();
  });

  for (const [what, change] of [
    ['a code id past the codes table', 'update events set code_id = 5000 where position = (select min(position) + 40 from events)'],
    ['a code id of text', "update events set code_id = 'x' where position = (select min(position) + 41 from events)"],
    ['a body id not a whole number', 'update events set body_id = body_id + 0.5 where position = (select min(position) + 42 from events)'],
    ['a source id of null', 'update events set source_id = null where position = (select min(position) + 43 from events)'],
    ['a negative run id', 'update events set run_id = -3 where position = (select min(position) + 44 from events)'],
  ] as const) {
    it(`issue 10.7: ${what}: the same error`, () => {
      undone(() => {
        l.sql.run(change);
        const { rows, packed } = both();
        assert.match(rows, /^error: /);
        assert.equal(packed, rows);
      });
    });
  }
});

/**
 * The same on PostgreSQL, where the packed pages come by binary COPY through the worker (a
 * Float64Array, the next page read ahead) and times are doubles: hostile rows its column types
 * take, each change undone after (no savepoint outside a transaction there).
 */
describe('replay on PostgreSQL: the packed scan against the rows', () => {
  const dir = tempDir();
  let l: Ledger;
  // history's id is an identity, new on each replay: its rows in id order
  const DERIVED = ['code_states', 'checkpoints', 'why_checkpoints', 'profile_runs'];
  const tables = () =>
    JSON.stringify([
      ...DERIVED.map((t) => l.sql.allRaw(`select * from ${t} order by 1, 2, 3`)),
      l.sql.allRaw('select position, profile_id, code_seq, code_id, source, dim_changed, reason, cached, new, guard from history order by id'),
    ], (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x));
  const run = (scan: 'rows' | 'packed') => replayWith(l, scan, tables);
  const same = () => {
    const rows = run('rows');
    assertSame(rows, run('packed'));
    return rows;
  };
  /** The rows' columns as they were before `change`, put back after the comparison. */
  const changed = (columns: string, where: string, change: string, check: () => void) => {
    const saved = l.sql.allRaw(`select position, ${columns} from events where ${where}`);
    l.sql.run(change);
    try {
      check();
    } finally {
      const names = columns.split(', ');
      for (const r of saved) l.sql.run(`update events set ${names.map((c) => `${c} = ?`).join(', ')} where position = ?`, ...r.slice(1), r[0]);
    }
  };

  before(async () => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '97';
    l = await openLedger(freshLedger('postgres', dir));
    await seed(l, dir);
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    await l.close();
  });

  it('issue 11.7: the packed scan reads pages of numbers there too (Sql.pluck)', () => {
    const pluck = l.sql.pluck;
    assert.ok(pluck, 'PostgreSQL reads a column of numbers');
    let pages = 0;
    l.sql.pluck = (s, ...p) => (pages++, pluck.call(l.sql, s, ...p));
    try {
      run('packed');
    } finally {
      l.sql.pluck = pluck;
    }
    assert.ok(pages > 0, 'replay took the packed scan');
  });

  it('issue 11.7: the interner gives a code id the log\'s reader made its row, with no query (a round trip each)', () => {
    const interner = createInterner(l.sql);
    const rows = l.sql.allRaw('select id from codes order by id').map((r) => r[0] as number);
    const codes = rows.map((id) => interner.dict.code(id));
    const { get, run: write } = l.sql;
    let queries = 0;
    l.sql.get = ((...a: Parameters<typeof get>) => (queries++, get.apply(l.sql, a))) as typeof get;
    l.sql.run = (...a) => (queries++, write.apply(l.sql, a));
    try {
      assert.deepEqual(codes.map((c) => interner.codeId(c)), rows);
    } finally {
      l.sql.get = get;
      l.sql.run = write;
    }
    assert.equal(queries, 0);
    // a copy of one (not the reader's object) is looked up: the same row
    assert.equal(interner.codeId({ ...codes[0] }), rows[0]);
  });

  it('issue 11.7: the same stored views, checkpoints and why-checkpoints as the rows give, checkpoints every 97 and 1, and after a retraction', () => {
    assert.match(same(), /"events":1\d{3}/);
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '1';
    try {
      same();
    } finally {
      process.env.PGO_LEDGER_CHECKPOINT_EVERY = '97';
    }
    retractRun(l, 'r2', { job: 'a' });
    same();
  });

  it('issue 11.7: times far from the others, a fraction, not a number, infinite, huge: what the rows give', () => {
    changed('time', 'position % 19 = 0 or position between 60 and 64', 'update events set time = time - 100000000000 where position % 19 = 0', () => {
      same();
      l.sql.run("update events set time = 'NaN' where position = 60");
      l.sql.run("update events set time = 'Infinity' where position = 61");
      l.sql.run("update events set time = '-Infinity' where position = 62");
      l.sql.run('update events set time = 1e300 where position = 63');
      l.sql.run('update events set time = time + 0.5 where position = 64');
      same();
    });
  });

  it('issue 11.7: ids the packing cannot take (a code id past the codes table, a negative run id, no source): the same error', () => {
    const at = l.sql.get<{ m: number }>('select min(position) + 40 m from events')!.m;
    for (const change of [`update events set code_id = 5000 where position = ${at}`, `update events set run_id = -3 where position = ${at}`, `update events set source_id = null where position = ${at}`]) {
      changed('code_id, run_id, source_id', `position = ${at}`, change, () => {
        const rows = run('rows');
        assert.match(rows, /^error: /);
        assert.equal(run('packed'), rows);
      });
    }
  });

  it('issue 11.7: dictionary rows no event names (a damaged body and code id, as a rolled-back batch could leave) are never checked: the views as before', () => {
    const before = same();
    const body = l.sql.get<{ id: number }>("insert into bodies(kind, version, payload) values ('shape.observed', 1, decode('7b7b7b', 'hex')) returning id")!.id;
    const code = l.sql.get<{ id: number }>("insert into codes(filename, firstlineno, name, file_hash, closure_hash) values ('/bad.py', 1, 'f', 'h', 'x') returning id")!.id;
    try {
      assert.equal(same(), before);
    } finally {
      l.sql.run('delete from bodies where id = ?', body);
      l.sql.run('delete from codes where id = ?', code);
    }
  });

  it('issue 11.7: positions with gaps and far apart, runs missing, a run row past the others', () => {
    gapsAndFarRuns(l);
    same();
  });
});
