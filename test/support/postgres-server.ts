import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL server of Debian's `postgresql` package (scripts/test-deps.sh
 * installs it): initdb into a temp folder with a password, pg_ctl on a free loopback port,
 * durability off (a test server). initdb refuses root: as root it runs as `postgres`.
 */
export interface PgServer {
  /** The superuser's URL (database postgres). */
  adminUrl: string;
  stop(): void;
  /**
   * SIGSTOPs the postmaster, then its children (it forks no more once stopped): a server that
   * stops answering mid-session, its connections open and silent (a hung host, a partition).
   */
  pause(): void;
  /** SIGCONTs them (stop() needs it: a stopped postmaster takes pg_ctl's signal only then). */
  resume(): void;
}

/** The server binaries: the newest /usr/lib/postgresql/N/bin, else PATH. */
export function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', name))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0], 'bin', name);
  }
  return name;
}

function freePortSync(): number {
  // a child asks the kernel for a free port (this must stay synchronous)
  const out = execFileSync(process.execPath, ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  return Number(out.trim());
}

/** `ssl`: TLS on, with a self-signed certificate made by openssl (what a client that checks certificates refuses). */
export function startPgServer(o: { ssl?: boolean } = {}): PgServer {
  const dir = mkdtempSync(join(tmpdir(), 'pgo-ledger-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : pgBin(bin);
    const full = asRoot ? ['-u', 'postgres', '--', pgBin(bin), ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.error?.message ?? r.status}): ${r.stderr}${r.stdout}`);
  };
  const password = randomBytes(9).toString('base64url');
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'pwfile'), uid, gid);
  }
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'admin', `--pwfile=${join(dir, 'pwfile')}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  if (o.ssl) {
    const r = spawnSync('openssl', ['req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(data, 'server.key'), '-out', join(data, 'server.crt')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl req failed (${r.error?.message ?? r.status}): ${r.stderr}`);
    if (asRoot) for (const f of ['server.key', 'server.crt']) chownSync(join(data, f), Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    chmodSync(join(data, 'server.key'), 0o600);
  }
  const port = freePortSync();
  const opts = `${o.ssl ? '-c ssl=on ' : ''}-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', opts, 'start']);
  const postmaster = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = (pid: number) => {
    const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    return r.stdout.split('\n').filter(Boolean).map(Number);
  };
  let paused: number[] = [];
  const pause = () => {
    const pm = postmaster();
    process.kill(pm, 'SIGSTOP');
    paused = [pm, ...children(pm)];
    for (const pid of paused.slice(1)) process.kill(pid, 'SIGSTOP');
  };
  const resume = () => {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    paused = [];
  };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    resume();
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      /* gone already */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  // and should this process die without its exit hooks (killed), a watchdog stops the server
  // (SIGCONT first: a paused one takes pg_ctl's signal only then)
  const ctl = [...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), pgBin('pg_ctl'), '-D', data, '-m', 'immediate', 'stop'].map((a) => `'${a}'`).join(' ');
  spawn('bash', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; pm=$(head -1 '${data}/postmaster.pid' 2>/dev/null) && kill -CONT $pm $(pgrep -P $pm) 2>/dev/null; [ -d '${data}' ] && ${ctl}; rm -rf '${dir}'`], { detached: true, stdio: 'ignore' }).unref();
  return { adminUrl: `postgres://admin:${password}@127.0.0.1:${port}/postgres`, stop, pause, resume };
}
