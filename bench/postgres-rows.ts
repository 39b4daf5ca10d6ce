import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgBin, startPgServer, type PgServer } from '../test/support/postgres-server.ts';
import { mixFile } from './generate.ts';
import { paired, row, type Row, type Sample } from './measure.ts';
import { appended, check, human, type Ctx } from './rows.ts';

/**
 * Issue 11.7's rows, on a local PostgreSQL server the group starts (test/support's helper:
 * initdb into a temp folder, pg_ctl on a free loopback port, durability off) and stops:
 * ingest beside a raw COPY of the same lines, 8 writers beside one, replay's events a second.
 * The server's own CPU is in no row's CPU (rusage sees the client only): compare wall. Each
 * row's notes give the server's CPU beside it (serverCpu), to tell where the time goes.
 */

/**
 * CPU seconds the server has used: the postmaster's own and its reaped children's (each
 * connection's backend exits with it), plus its living children's (checkpointer, writers,
 * autovacuum). Linux /proc only; NaN elsewhere.
 */
function serverCpu(dataDir: string): number {
  try {
    const pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const stat = (pid: number) => {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(')') + 2).split(' '); // from the 3rd field (the name may hold spaces)
    };
    const own = stat(pm); // fields from state (3rd): utime is the 14th field, i.e. index 11 here
    let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const child of readFileSync(`/proc/${pm}/task/${pm}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        const f = stat(Number(child));
        ticks += Number(f[11]) + Number(f[12]);
      } catch {
        /* exited meanwhile: counted in the reaped total next time */
      }
    }
    return ticks / 100; // USER_HZ
  } catch {
    return NaN;
  }
}

/** Runs fn, adding the server CPU it took to `into`. */
function withServerCpu<T>(dataDir: string, into: number[], fn: () => T): T {
  const before = serverCpu(dataDir);
  const out = fn();
  into.push(serverCpu(dataDir) - before);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuNote = (what: string, xs: number[]) => `server CPU ${what} ${xs.length ? median(xs).toFixed(2) : '-'} s (median)`;

/** The mix with a rank of the writer's own on every line: each writer feeds profiles of its own. */
function rankedMix(c: Ctx, n: number, rank: number): string {
  const src = mixFile(c.b.dir, 0, n);
  const path = src.replace(/\.jsonl$/, `-rank${rank}.jsonl`);
  if (existsSync(path)) return path;
  writeFileSync(`${path}.tmp`, readFileSync(src, 'utf8').replace(/("job":"[^"]*")/g, `$1,"rank":${rank}`));
  renameSync(`${path}.tmp`, path);
  return path;
}

export function postgresRows(c: Ctx): Row[] {
  const server: PgServer = startPgServer();
  try {
    return measure(c, server);
  } finally {
    server.stop();
  }
}

function measure(c: Ctx, server: PgServer): Row[] {
  const { b, sizes } = c;
  const admin = new URL(server.adminUrl);
  const psql = (db: string, cmd: string) => execFileSync(pgBin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', cmd], { encoding: 'utf8' });
  const urlOf = (name: string) => {
    const u = new URL(admin);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const made: string[] = [];
  /** A new empty database (pgo-ledger never creates one): its URL. */
  const fresh = () => {
    const name = `bench_${randomBytes(4).toString('hex')}`;
    psql(server.adminUrl, `create database ${name} template template0`);
    made.push(name);
    return urlOf(name);
  };
  const drop = () => {
    for (const name of made.splice(0)) psql(server.adminUrl, `drop database if exists ${name}`);
  };
  const migrate = (url: string) => {
    const [node, ...args] = b.cli(url, 'ingest', '-');
    execFileSync(node, args, { input: '' });
  };
  const rows: Row[] = [];
  const dataDir = execFileSync(pgBin('psql'), ['-X', '-A', '-t', '-d', server.adminUrl, '-c', 'show data_directory'], { encoding: 'utf8' }).trim();
  const srv = { ing: [] as number[], copy: [] as number[], eight: [] as number[], one: [] as number[], replay: [] as number[] };

  // (a) ingest beside COPY of the same lines into a one-column table
  const n = sizes.ingest[0];
  const file = mixFile(b.dir, 0, n);
  // COPY's text format reads each line as one value when it holds no tab or backslash (the mix has none).
  if (/[\t\\]/.test(readFileSync(file, 'utf8').slice(0, 1 << 20))) throw new Error(`${file}: a tab or backslash: COPY text would alter it`);
  c.log(`postgres ingest: ${human(n)} mix lines`);
  const out = join(b.dir, 'pg-ingest.out');
  let db = '';
  let events = 0;
  const copyDb = fresh();
  made.pop(); // kept over the rounds (the ingest side drops its own each round)
  const [ing, copy] = paired(
    sizes.rounds,
    [
      {
        setup: () => {
          drop();
          db = fresh();
        },
        run: () =>
          withServerCpu(dataDir, srv.ing, () => {
            const s = b.one(b.cli(db, 'ingest', '--json', file), out);
            events = appended(out);
            return s;
          }),
      },
      {
        setup: () => psql(copyDb, 'drop table if exists t; create table t(line text)'),
        run: () => withServerCpu(dataDir, srv.copy, () => b.one([pgBin('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', copyDb, '-c', `\\copy t(line) from '${file}'`])),
      },
    ],
    c.log,
  );
  const copied = Number(psql(copyDb, 'select count(*) from t').match(/\d+/)![0]);
  made.push(new URL(copyDb).pathname.slice(1));
  const ri = row(`pg-ingest-${human(n)}`, `ingest ${human(n)} mix lines into PostgreSQL`, 'psql \\copy into a text column', ing, copy);
  ri.goal = '<=3x time';
  check(ri, `wall ${ri.ratio!.wallPaired.toFixed(2)}x <= 3x`, ri.ratio!.wallPaired <= 3);
  ri.notes.push(`${events} events, ${copied} rows copied`, 'CPU: the clients only', cpuNote('ingest', srv.ing), cpuNote('copy', srv.copy));
  rows.push(ri);
  drop();

  // (b) 8 writers of their own ranks beside one process ingesting the 8 files
  const w = sizes.writerLines;
  const files = Array.from({ length: 8 }, (_, k) => rankedMix(c, w, k));
  c.log(`postgres writers: 8 files of ${human(w)} lines, one rank each`);
  const outs = files.map((_, k) => join(b.dir, `pg-writer-${k}.out`));
  let db8 = '';
  let db1 = '';
  let events8 = 0;
  let events1 = 0;
  const [eight, one] = paired(
    sizes.rounds,
    [
      {
        // migrated before timing: both sides measure appends, not the first open
        setup: () => {
          drop();
          db8 = fresh();
          migrate(db8);
        },
        run: () =>
          withServerCpu(dataDir, srv.eight, () => {
            const r = b.run(files.map((f, k) => ({ argv: b.cli(db8, 'ingest', '--json', f), stdout: outs[k] })));
            events8 = outs.reduce((s, o) => s + appended(o), 0);
            return { cpu: r.procs.reduce((s, p) => s + p.cpu, 0), wall: r.wall, rssMB: Math.max(...r.procs.map((p) => p.rssMB)) } as Sample;
          }),
      },
      {
        setup: () => {
          drop();
          db1 = fresh();
          migrate(db1);
        },
        run: () =>
          withServerCpu(dataDir, srv.one, () => {
            const s = b.one(b.cli(db1, 'ingest', '--json', ...files), outs[0] + '.all');
            events1 = appended(outs[0] + '.all');
            return s;
          }),
      },
    ],
    c.log,
  );
  drop();
  const rw = row('pg-writers-8', `8 writers (a rank each) x ${human(w)} lines, one PostgreSQL db`, '1 process, all 8 files', eight, one);
  rw.goal = '>=2x aggregate (wall <=0.5x)';
  check(rw, `wall ${rw.ratio!.wallPaired.toFixed(2)}x <= 0.5x`, rw.ratio!.wallPaired <= 0.5);
  rw.notes.push(`events ${events8} vs ${events1}`, cpuNote('8 writers', srv.eight), cpuNote('1 process', srv.one));
  if (events8 !== events1) check(rw, 'every line appended', false);
  rows.push(rw);

  // (c) replay from PostgreSQL: events a second
  const rl = sizes.readLines;
  const rdb = fresh();
  c.log(`postgres replay: building a ${human(rl)}-line database (not timed)`);
  b.one(b.cli(rdb, 'ingest', mixFile(b.dir, 0, rl)));
  // The housekeeping a bulk load leaves (vacuum and analyze of 1M new rows, their hint bits) is
  // the build's, not replay's: a ledger replayed in use was vacuumed long before. Left to
  // autovacuum, it fell in one or two timed rounds (server CPU 5.5 and 10.9 s, not ~0.6).
  psql(rdb, 'vacuum analyze');
  const replayOut = join(b.dir, 'pg-replay.out');
  let replayed = 0;
  const [rep] = paired(
    sizes.rounds,
    [
      {
        run: () =>
          withServerCpu(dataDir, srv.replay, () => {
            const s = b.one(b.cli(rdb, 'replay'), replayOut);
            replayed = Number(/replayed (\d+) events/.exec(readFileSync(replayOut, 'utf8'))?.[1] ?? NaN);
            return s;
          }),
      },
    ],
    c.log,
  );
  drop();
  const rr = row('pg-replay', `replay, ${human(rl)}-line PostgreSQL db`, '-', rep, null);
  rr.goal = '>=300k events/s (wall)';
  const rate = replayed / rr.a.wall.median;
  check(rr, `${(rate / 1e3).toFixed(0)}k events/wall-s >= 300k`, rate >= 300_000);
  rr.notes.push(`${replayed} events, ${(replayed / rr.a.wall.min / 1e3).toFixed(0)}k/wall-s best, ${(replayed / rr.a.cpu.median / 1e3).toFixed(0)}k/client-CPU-s`, cpuNote('replay', srv.replay));
  rows.push(rr);
  return rows;
}
