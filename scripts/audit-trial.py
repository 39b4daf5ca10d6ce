#!/usr/bin/env python3
"""Property trial of the audit answers through the command line (session 18, s18-trial): seeded random
observation logs (ranks None and 0-4, tags, ints and ints past 2**53, mark_dynamic, automatic_dynamic
false, several runs, jobs and codes, retractions between ingests) and the real traces of
test/fixtures/torch-2.11/traces, checked against ledgers built from the events a window holds.
Not a test (it takes minutes a case); run after `npm run build`:

    python3 scripts/audit-trial.py sqlite 1,2,3          # every property on SQLite, seeds 1-3
    node scripts/with-postgres.mjs python3 scripts/audit-trial.py postgres 1   # the same on PostgreSQL
    node scripts/with-postgres.mjs python3 scripts/audit-trial.py cross 1,2    # SQLite vs PostgreSQL, copy both ways
    ... traces-sqlite N / traces-postgres N / traces-cross N: the fixture traces in a seeded order

Checkpoints are written every CP_EVERY events (default 3). Prints FAIL lines and a STATS summary."""
import json, os, random, re, shutil, subprocess, sys, sqlite3, hashlib, collections

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.environ.get('PGO_CLI', os.path.join(REPO, 'bin/pgo-ledger.cjs'))
ROOT = os.environ.get('TRIAL_DIR', '/tmp/pgo-audit-trial')
TRACES = os.path.join(REPO, 'test/fixtures/torch-2.11/traces')
PG = os.environ.get('PGO_LEDGER_TEST_PG')
ENV = dict(os.environ, PGO_LEDGER_CHECKPOINT_EVERY=os.environ.get('CP_EVERY', '3'))
STATS = collections.Counter()   # property -> cases checked
FAILS = []                      # (property, case, detail)
NCALLS = [0]


def cli(db, *args, stdin=None, check=False):
    NCALLS[0] += 1
    p = subprocess.run(['node', CLI, *args, '--db', db], capture_output=True, text=True, env=ENV, input=stdin)
    if check and p.returncode != 0:
        raise RuntimeError(f'{args} rc={p.returncode}: {p.stderr}')
    return p.returncode, p.stdout, p.stderr


def psql(sql, db='postgres'):
    from urllib.parse import urlparse
    u = urlparse(PG)
    url = u._replace(path='/' + db).geturl()
    return subprocess.run(['psql', '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
                          capture_output=True, text=True, check=True).stdout


_dbn = [0]


def new_db(backend, name):
    if backend == 'sqlite':
        path = os.path.join(ROOT, name + '.db')
        for s in ('', '-wal', '-shm'):
            if os.path.exists(path + s):
                os.remove(path + s)
        return path
    _dbn[0] += 1
    dbname = f't{os.getpid()}_{_dbn[0]}'
    psql(f'create database {dbname} template template0')
    from urllib.parse import urlparse
    return urlparse(PG)._replace(path='/' + dbname).geturl()


def clone_db(db, name):
    if db.startswith('postgres'):
        src = db.rsplit('/', 1)[1]
        _dbn[0] += 1
        dbname = f't{os.getpid()}_{_dbn[0]}'
        psql(f'create database {dbname} template {src}')
        return db.rsplit('/', 1)[0] + '/' + dbname
    path = os.path.join(ROOT, name + '.db')
    for s in ('', '-wal', '-shm'):
        if os.path.exists(path + s):
            os.remove(path + s)
    src = sqlite3.connect(db)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close(); dst.close()
    return path


def sql(db, text):
    if db.startswith('postgres'):
        out = psql(text, db.rsplit('/', 1)[1])
        return [tuple(l.split('\t')) for l in out.split('\n') if l != '']
    c = sqlite3.connect(db)
    try:
        rows = c.execute(text).fetchall()
        c.commit()
        return [tuple('' if v is None else str(v) for v in r) for r in rows]
    finally:
        c.close()


def sql_exec(db, text):
    if db.startswith('postgres'):
        psql(text, db.rsplit('/', 1)[1])
    else:
        c = sqlite3.connect(db)
        c.executescript(text)
        c.commit()
        c.close()

# ---------------------------------------------------------------- random logs

def gen_case(seed):
    r = random.Random(seed)
    nprof = r.choice([1, 1, 2, 3])
    profs = []
    for i in range(nprof):
        job = r.choice(['j1', 'j2'])
        rank = r.choice([None, 0, 1, 2, 3, 4])
        tag = r.choice(['', '', 't'])
        if (job, rank, tag) not in profs:
            profs.append((job, rank, tag))
    codes = [{'filename': '/srv/m.py', 'firstlineno': 10, 'name': 'forward', 'file_hash': 'd02731e6'},
             {'filename': '/srv/m.py', 'firstlineno': 40, 'name': 'step'}]
    runs = ['r1', 'r2', 'r3', 'r4'][:r.choice([2, 3, 4])]
    base = 1795687200  # 2026-11-26T10:00:00Z
    n = r.randint(6, 36)
    lines = []
    tshape = {}
    for k in range(n):
        job, rank, tag = r.choice(profs)
        code = r.choice(codes[:r.choice([1, 2])])
        src = r.choice(["L['x']", "L['y']", "L['n']", "L['s']"])
        t = base + r.choice([0, 60, 60, 120, 180, 240, 300]) + (k * 30 if r.random() < 0.5 else 0)
        ev = {'job': job, 'rank': rank, 'tag': tag, 'run': r.choice(runs), 'code': code, 'source': src}
        if r.random() < 0.2:
            ev['time'] = t
        else:
            import datetime
            ev['time'] = datetime.datetime.utcfromtimestamp(t).strftime('%Y-%m-%dT%H:%M:%SZ')
        if src in ("L['x']", "L['y']"):
            key = (job, rank, tag, code['name'], src)
            nd = tshape.get(key) or r.choice([1, 2, 3])
            if r.random() < 0.07:
                nd = r.choice([1, 2, 3])
            tshape[key] = nd
            size = [r.choice([2, 4, 4, 8, 8, 8]) for _ in range(nd)]
            if r.random() < 0.8:
                stride = []
                acc = 1
                for d in reversed(size):
                    stride.insert(0, acc)
                    acc *= d
            else:
                stride = [r.choice([1, 2, 4, 8, 16]) for _ in range(nd)]
            ev.update(kind='tensor', size=size, stride=stride)
            if r.random() < 0.15:
                ev['mark_dynamic'] = r.sample(range(nd), r.randint(1, nd))
        elif src == "L['n']":
            ev.update(kind='scalar', value=r.choice([1, 2, 3, 3, 3, '9007199254740993']))
        else:
            ev.update(kind='size', size=[r.choice([2, 4, 4]) for _ in range(r.choice([1, 2]))])
        if r.random() < 0.06:
            ev['automatic_dynamic'] = False
        lines.append(json.dumps(ev))
    # ops: chunks of lines, with retractions between
    ops = []
    cuts = sorted(r.sample(range(1, n), min(n - 1, r.choice([0, 1, 2]))))
    prev = 0
    for c in cuts + [n]:
        ops.append(('ingest', lines[prev:c]))
        prev = c
        if r.random() < 0.4:
            ops.append(('retract', r.choice(runs)))
    return ops, profs


def prof_args(p):
    job, rank, tag = p
    a = ['--job', job, '--rank', 'None' if rank is None else str(rank)]
    if tag:
        a += ['--tag', tag]
    else:
        a += ['--tag', '']
    return a

# ---------------------------------------------------------------- building ledgers

class Built:
    def __init__(self, db):
        self.db = db
        self.events = []  # per event in position order: dict(pos, kind, key, run, time)


def build(backend, name, ops, casedir, keep=None, rewrite=True):
    """Applies ops to a new ledger. keep(op_index, line_index, line) -> bool blanks lines left out
    (so line numbers stay); a retraction is applied only where keep(op_index, None, None)."""
    db = new_db(backend, name)
    empty = os.path.join(casedir, 'empty.jsonl')
    open(empty, 'w').close()
    cli(db, 'ingest', empty, check=True)  # the ledger exists even where nothing is kept
    for oi, op in enumerate(ops):
        if op[0] == 'ingest':
            path = os.path.join(casedir, f'chunk{oi}.jsonl')
            ls = [l if keep is None or keep(oi, li, l) else '' for li, l in enumerate(op[1])]
            with open(path, 'w') as f:
                f.write('\n'.join(ls) + '\n')
            rc, out, err = cli(db, 'ingest', path)
            if rc != 0:
                raise RuntimeError(f'ingest failed {path}: {err}')
        elif op[0] == 'trace':
            if keep is None or keep(oi, None, None):
                cli(db, 'ingest', op[1], check=True)
        elif op[0] == 'retract':
            if keep is None or keep(oi, None, None):
                rc, out, err = cli(db, 'retract', '--run', op[1])
                if rc != 0 and 'has no events' not in err:
                    raise RuntimeError(f'retract: {err}')
    return db


def log_of(db):
    """(position, kind, origin, origin_line, run, time) of every event, in order."""
    return [(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in sql(db,
            'select e.position, e.kind, coalesce(o.origin, \'\'), coalesce(e.origin_line, -1), coalesce(ru.run, \'\'), e.time '
            'from events e left join origins o on o.id = e.origin_id left join runs ru on ru.id = e.run_id order by e.position')]


def profiles_of(db):
    rc, out, err = cli(db, 'jobs', '--json')
    ps = []
    for l in out.splitlines():
        j = json.loads(l)
        ps.append((j['job'], j['rank'], j['tag']))
    return ps

# ---------------------------------------------------------------- answers

POS_RE = re.compile(r'((?<!\()#|"position":)(\d+)')


def remap(text, m):
    if m is None:
        return text
    return POS_RE.sub(lambda mo: mo.group(1) + str(m.get(int(mo.group(2)), 'X' + mo.group(2))), text)


def answers(db, p, window=(), kinds=('show', 'showj', 'hist', 'histj', 'why', 'whyj')):
    a = {}
    pa = prof_args(p)
    for k in kinds:
        cmd = {'show': ['show'], 'showj': ['show', '--json'], 'hist': ['history'], 'histj': ['history', '--json'],
               'why': ['why'], 'whyj': ['why', '--json']}[k]
        rc, out, err = cli(db, *cmd, *pa, *window)
        err = re.sub(r'--db \S+', '', err)
        a[k] = (rc, out, err.strip())
    return a


def canon_err(e):
    # stderr may name the last position (a point past the end): keep only the first sentence's words
    return e


def norm_err(e):
    return e.replace(' in the window given (--as-of/--exclude-run)', '').replace(' (its runs retracted, or none brought one)', '')


def compare(prop, case, A, B, mapB=None, ignore_err=False):
    STATS[prop] += 1
    if B['show'][0] == 2 and 'no profile for job' in B['show'][2]:
        # the reference never saw the profile: the window must be empty
        STATS[prop + ':profile-absent-in-reference'] += 1
        ok = A['showj'][0] == 0 and json.loads(A['showj'][1])['codes'] == [] and A['whyj'][1].strip() == '[]' and A['histj'][1] == ''
        if not ok:
            FAILS.append((prop, case, [('absent', A)]))
            print(f'FAIL {prop} {case}: reference has no profile, window not empty: {A}', flush=True)
        return ok
    bad = []
    for k in A:
        ra, oa, ea = A[k]
        rb, ob, eb = B[k]
        ob = remap(ob, mapB); eb = remap(eb, mapB)
        if ra != rb or oa != ob or (not ignore_err and norm_err(ea) != norm_err(eb)):
            bad.append((k, (ra, oa[:1500], ea[:500]), (rb, ob[:1500], eb[:500])))
    if bad:
        FAILS.append((prop, case, bad[:2]))
        import difflib
        k, a, b = bad[0]
        dl = '\n'.join(list(difflib.unified_diff(a[1].splitlines(), b[1].splitlines(), lineterm='', n=0))[:12])
        print(f'FAIL {prop} {case}: {k} rc {a[0]}/{b[0]} err {a[2][:300]!r} / {b[2][:300]!r}\n{dl}', flush=True)
    return not bad


def position_map(ref_log, orig_log, key):
    """Maps ref positions to the original's, matching events by key (in order)."""
    pool = collections.defaultdict(list)
    for e in orig_log:
        pool[key(e)].append(e[0])
    m = {}
    for e in ref_log:
        lst = pool.get(key(e))
        if lst:
            m[e[0]] = lst.pop(0)
    return m


def ev_key(e):
    # origin file + line identify a line event; a retraction by its run text is not stored: by order
    return (e[1], e[2], e[3], e[5] if e[1] != 'run.retracted' else 0)

# ---------------------------------------------------------------- properties

KINDS = ('show', 'showj', 'histj', 'why', 'whyj')


def iso(ms):
    import datetime
    return datetime.datetime.utcfromtimestamp(ms / 1000).strftime('%Y-%m-%dT%H:%M:%S.') + f'{ms % 1000:03d}Z'


def report_html(db, p, window=()):
    out = os.path.join(ROOT, 'rep.html')
    rc, o, e = cli(db, 'report', *prof_args(p), *window, '-o', out)
    if rc != 0:
        return (rc, e)
    with open(out) as f:
        t = f.read()
    # a retraction is stamped with the wall clock (today): two builds of one log differ there only
    return (rc, re.sub(r'2026-11-29T[0-9:.]+Z', 'TODAY', re.sub(r'Generated \S+ by', 'Generated by', t)))


def full_answers(db, profs, log, r):
    """Every answer of a ledger: per profile show/history/why (text+json), diffs, report, exports, jobs."""
    A = {}
    rc, o, e = cli(db, 'jobs', '--json')
    A['jobs'] = (rc, re.sub(r'"time":"[^"]*"', '', o), e)
    pts = [str(x) for x in sorted({0, 1, len(log) // 2, len(log)})]
    for p in profs:
        for k, v in answers(db, p, kinds=('show', 'showj', 'hist', 'histj', 'why', 'whyj')).items():
            A[(p, k)] = v
        for a, b in [(pts[0], pts[-1]), (pts[1], pts[2])]:
            A[(p, 'diff', a, b)] = cli(db, 'diff', *prof_args(p), '--from', a, '--to', b, '--json')
        A[(p, 'report')] = report_html(db, p) + ('',)
        out = os.path.join(ROOT, 'exp.pkl')
        rc, o, e = cli(db, 'export', *prof_args(p), '--format', 'pickle', '-o', out)
        A[(p, 'export')] = (rc, hashlib.md5(open(out, 'rb').read()).hexdigest() if rc == 0 else '', e)
        if os.path.exists(out):
            os.remove(out)
    return A


def check_verify(case, name, d, said=None):
    """verify on ledger d passes (exit 0); a failure is recorded under name and printed."""
    rc, o, e = cli(d, 'verify')
    STATS['verify'] += 1
    if rc != 0:
        FAILS.append(('verify', case, [(name, o, e)]))
        print(f'FAIL verify {case} {said or name}: {o} {e}', flush=True)


def compare_full(prop, case, A, B):
    STATS[prop] += 1
    bad = [k for k in A if A.get(k) != B.get(k)]
    if bad:
        k = bad[0]
        FAILS.append((prop, case, [(k, str(A[k])[:1500], str(B.get(k))[:1500])]))
        base = os.path.join(ROOT, f'fail-{prop}-{len(FAILS)}')
        for suf, v in (('A', A[k]), ('B', B.get(k))):
            with open(base + '.' + suf, 'w') as f:
                f.write(v[1] if isinstance(v, tuple) and len(v) > 1 and isinstance(v[1], str) else str(v))
                if isinstance(v, tuple) and len(v) > 2:
                    f.write('\n--stderr/rc: ' + str(v[0]) + ' ' + str(v[2:]))
        print(f'FAIL {prop} {case}: {k}\n  A={str(A[k])[:1200]}\n  B={str(B.get(k))[:1200]}', flush=True)
    return not bad


def line_positions(log, casedir):
    """(op index, line index) -> position, from the log's origins."""
    m = {}
    for e in log:
        mo = re.search(r'chunk(\d+)\.jsonl$', e[2])
        if mo and e[3] != '-1':
            m[(int(mo.group(1)), int(e[3]) - 1)] = e
    return m


def dim_render(entry, field, index):
    if entry is None:
        return None
    v = entry.get(field)
    if index is not None:
        if not isinstance(v, list):
            return {'dynamic': '?'}.get(v, f'<{v}>')
        v = v[index]
    if v == 'dynamic':
        return '?'
    if isinstance(v, dict) and 'infer' in v:
        return f"S({v['infer']})"
    if isinstance(v, dict) and 'float' in v:
        return v['float']
    return str(v) if not isinstance(v, list) else json.dumps(v)


def find_entry(showj, code, source):
    try:
        j = json.loads(showj)
    except Exception:
        return None
    for c in j['codes']:
        if c['code'] == code:
            return c['entries'].get(source)
    return None


def check_why(case, db, p, window=()):
    rc, out, err = cli(db, 'why', '--json', *prof_args(p), *window)
    if rc != 0:
        return
    stories = json.loads(out)
    # every dim show says is dynamic has a story, and no other
    _, sj, _ = cli(db, 'show', '--json', *prof_args(p), *window)
    shown = set()
    try:
        for c in json.loads(sj)['codes']:
            ck = json.dumps(c['code'], sort_keys=True)
            for src, e in c['entries'].items():
                # PyTorch's make_tensor holds scalar=auto_dynamic, make_scalar size/stride=auto_dynamic:
                # only the fields of the entry's own kind count
                if isinstance(e.get('size'), list):
                    for fld in ('size', 'stride'):
                        v = e.get(fld)
                        if v == 'dynamic':
                            shown.add((ck, src, fld, None))
                        elif isinstance(v, list):
                            shown |= {(ck, src, fld, i) for i, x in enumerate(v) if x == 'dynamic'}
                elif e.get('scalar') == 'dynamic' and e.get('size') == 'dynamic':
                    shown.add((ck, src, '*', None))  # fully dynamic: any story of the source
                elif e.get('scalar') == 'dynamic':
                    shown.add((ck, src, 'scalar', None))
                elif e.get('size') == 'dynamic' and e.get('scalar') == 'unset':
                    shown.add((ck, src, 'size', None))  # a make_size entry whose number of dims changed
    except Exception as ex:
        print('NOTE show json', ex)
    told = {(json.dumps(st['code'], sort_keys=True), st['source'], st['dim']['field'], st['dim'].get('index')) for st in stories if st.get('dynamic')}
    STATS['why-covers-show-dynamic'] += 1
    whole = {(k[0], k[1]) for k in shown if k[2] == '*'}
    shown = {k for k in shown if k[2] != '*'}
    missing = {k for k in shown if k not in told} | {w for w in whole if w not in {(t[0], t[1]) for t in told}}
    extra = {t for t in told if t not in shown and (t[0], t[1]) not in whole}
    if missing or extra:
        shown, told = missing, extra
        STATS['why-covers-show-dynamic:mismatch'] += 1
        FAILS.append(('why-covers-show-dynamic', case, [(p, sorted(map(str, shown))[:6], sorted(map(str, told))[:6])]))
        print(f'FAIL why-covers-show-dynamic {case} {p}: shown, no story {sorted(map(str, shown))[:6]}; story, not shown {sorted(map(str, told))[:6]}', flush=True)
    for st in stories:
        if not st.get('dynamic'):
            continue
        bd = st.get('became_dynamic')
        STATS['why-names-event:dims'] += 1
        if bd is None:
            STATS['why-names-event:no-became_dynamic'] += 1
            print(f'NOTE why {case} {p} {st["source"]} {st["dim"]}: no became_dynamic ({st.get("via")}, logged={st.get("logged")})', flush=True)
            continue
        pos = bd['position']
        f, i = st['dim']['field'], st['dim'].get('index')
        _, at, _ = cli(db, 'show', '--json', *prof_args(p), '--as-of', str(pos), *[w for w in window if w != '--as-of'][:0])
        # runs retracted in the window are left out of the fold the story was told from
        excl = []
        for rr in sql(db, "select distinct body from events_readable where kind = 'run.retracted'"):
            excl += ['--exclude-run', json.loads(rr[0])['run']]
        _, bef, _ = cli(db, 'show', '--json', *prof_args(p), '--as-of', str(pos - 1), *excl)
        _, at, _ = cli(db, 'show', '--json', *prof_args(p), '--as-of', str(pos), *excl)
        ea = find_entry(at, st['code'], st['source'])
        eb = find_entry(bef, st['code'], st['source'])
        va = dim_render(ea, f, i)
        vb = dim_render(eb, f, i)
        ok = True
        if i is None and f != 'scalar':
            STATS['why-names-event:whole-tuple'] += 1
            ok = ea is not None and ea.get(f) == 'dynamic' and (eb is None or eb.get(f) != 'dynamic')
        else:
            ok = va == '?' and vb != '?' and (vb == bd.get('before') or (vb is None and bd.get('before') in (None, 'unset', 'absent')))
        # window: only check when no exclude-run (a window's as-of is plain positions)
        STATS['why-names-event:checked'] += 1
        if not ok:
            FAILS.append(('why-names-event', case, [(p, st['source'], st['dim'], bd, va, vb)]))
            print(f'FAIL why-names-event {case} {p} {st["source"]} {st["dim"]}: at #{pos}: {va}, at #{pos-1}: {vb}, before={bd.get("before")!r}', flush=True)


def run_case(backend, seed, ops=None, kind='random'):
    case = f'{kind}-{backend}-{seed}'
    r = random.Random(seed * 7 + 1)
    casedir = os.path.join(ROOT, case)
    shutil.rmtree(casedir, ignore_errors=True)
    os.makedirs(casedir)
    if ops is None:
        ops, _ = gen_case(seed)
    # build, noting each op's positions
    db = new_db(backend, case)
    op_pos = []
    for oi, op in enumerate(ops):
        before = len(log_of(db)) if oi else 0
        if op[0] == 'ingest':
            path = os.path.join(casedir, f'chunk{oi}.jsonl')
            with open(path, 'w') as f:
                f.write('\n'.join(op[1]) + '\n')
            cli(db, 'ingest', path, check=True)
        elif op[0] == 'trace':
            cli(db, 'ingest', op[1], check=True)
        else:
            rc, o, e = cli(db, 'retract', '--run', op[1])
            if rc != 0 and 'has no events' not in e:
                raise RuntimeError(e)
        lg = log_of(db)
        op_pos.append([e[0] for e in lg[before:]])
    log = log_of(db)
    profs = profiles_of(db)
    lp = line_positions(log, casedir)
    print(f'-- {case}: {len(ops)} ops, {len(log)} events, {len(profs)} profiles, runs {sorted({e[4] for e in log} - {""})}, '
          f'retractions {sum(1 for e in log if e[1] == "run.retracted")}', flush=True)
    pos_of = {e[0]: e for e in log}
    trace_ops = [oi for oi, op in enumerate(ops) if op[0] == 'trace']

    def keep_prefix(N):
        def keep(oi, li, l):
            if li is None:
                return all(x <= N for x in op_pos[oi]) if ops[oi][0] == 'retract' or not op_pos[oi] else all(x <= N for x in op_pos[oi])
            e = lp.get((oi, li))
            return e is not None and e[0] <= N
        return keep

    # P1: --as-of POSITION == a ledger of the first N events
    cands = [0]
    for oi, ps in enumerate(op_pos):
        if ops[oi][0] in ('retract', 'trace'):
            if ps:
                cands.append(max(ps))  # whole ops only
            if ps and ops[oi][0] == 'retract':
                cands.append(min(ps) - 1)
        else:
            cands.extend(ps)
    cands = sorted(set(cands))
    for N in sorted(set(r.sample(cands, min(3, len(cands))) + [max(cands)])):
        ref = build(backend, case + f'-asof{N}', ops, casedir, keep=keep_prefix(N))
        m = position_map(log_of(ref), log, ev_key)
        for p in profs:
            A = answers(db, p, ('--as-of', str(N)), KINDS)
            B = answers(ref, p, (), KINDS)
            compare('as-of-position', f'{case} N={N} {p}', A, B, m, ignore_err=(N >= len(log)))
        drop(ref)
    # P1b: --as-of TIME == a ledger of the events up to that time (retractions are stamped now)
    times = sorted({int(e[5]) for e in log if e[1] != 'run.retracted'})
    for T in sorted(set(r.sample(times, min(2, len(times))))):
        if trace_ops:
            # a trace is one run: keep whole traces only (events of a trace over T: skip this T)
            split = any(min(int(pos_of[x][5]) for x in op_pos[oi]) <= T < max(int(pos_of[x][5]) for x in op_pos[oi]) for oi in trace_ops)
            if split:
                continue
        keep = lambda oi, li, l: (li is None and ops[oi][0] == 'trace' and all(int(pos_of[x][5]) <= T for x in op_pos[oi])) or \
            (li is not None and lp.get((oi, li)) is not None and int(lp[(oi, li)][5]) <= T)
        ref = build(backend, case + f'-time{T}', ops, casedir, keep=keep)
        m = position_map(log_of(ref), log, ev_key)
        for p in profs:
            compare('as-of-time', f'{case} T={iso(T)} {p}', answers(db, p, ('--as-of', iso(T)), KINDS), answers(ref, p, (), KINDS), m)
        drop(ref)
    # P2: --exclude-run R == a ledger without R; retract R (stored) == the same; --as-of before it == before
    runs = sorted({e[4] for e in log} - {''})
    retracted = {op[1] for op in ops if op[0] == 'retract'}
    for R in r.sample(runs, min(2, len(runs))):
        def keep(oi, li, l):
            if li is None:
                if ops[oi][0] == 'trace':
                    return not any(pos_of[x][4] == R for x in op_pos[oi])
                return ops[oi][1] != R
            e = lp.get((oi, li))
            return e is not None and e[4] != R
        ref = build(backend, case + f'-no{R}', ops, casedir, keep=keep)
        m = position_map(log_of(ref), log, ev_key)
        Bs = {}
        for p in profs:
            Bs[p] = B = answers(ref, p, (), KINDS)
            A = answers(db, p, ('--exclude-run', R), KINDS)
            compare('exclude-run', f'{case} R={R} {p}', A, B, m)
        if R not in retracted:
            cl = clone_db(db, case + f'-ret{R}')
            live = {p: answers(db, p, (), KINDS) for p in profs}
            cli(cl, 'retract', '--run', R, check=True)
            for p in profs:
                compare('retract', f'{case} R={R} {p}', answers(cl, p, (), KINDS), Bs[p], m)
                compare('retract-as-of-before', f'{case} R={R} {p}', answers(cl, p, ('--as-of', str(len(log) and log[-1][0])), KINDS), live[p])
            drop(cl)
        drop(ref)
    # P3: deleting every checkpoint changes no answer; verify before/after and after replay
    ncp = sql(db, 'select (select count(*) from checkpoints), (select count(*) from why_checkpoints)')[0]
    STATS['checkpoints-present'] += int(ncp[0]) > 0
    A = full_answers(db, profs, log, r)
    for p in profs:
        for N in r.sample(cands, min(2, len(cands))):
            A[(p, 'asof', N)] = answers(db, p, ('--as-of', str(N)), KINDS)
    cl = clone_db(db, case + '-nocp')
    sql_exec(cl, 'delete from checkpoints; delete from why_checkpoints;')
    for name, d in (('before', db), ('after-delete', cl)):
        check_verify(case, name, d)
    B = full_answers(cl, profs, log, r)
    for k in list(A):
        if k[1] == 'asof':
            B[k] = answers(cl, k[0], ('--as-of', str(k[2])), KINDS)
    compare_full('no-checkpoints', f'{case} ({ncp[0]} checkpoints, {ncp[1]} why)', A, B)
    cli(cl, 'replay', check=True)
    check_verify(case, 'after-replay', cl, 'after replay')
    B2 = full_answers(cl, profs, log, r)
    for k in list(A):
        if k[1] == 'asof':
            B2[k] = answers(cl, k[0], ('--as-of', str(k[2])), KINDS)
    compare_full('after-replay', case, A, B2)
    drop(cl)
    # P4: why names the event that made each dim dynamic; its before is show --as-of one earlier
    for p in profs:
        check_why(case, db, p)
    # P5: export then ingest gives the same show
    for p in profs:
        for fmt, ext in (('pickle', 'pkl'), ('remote-json', 'json')):
            out = os.path.join(casedir, f'exp.{ext}')
            rc, o, e = cli(db, 'export', *prof_args(p), '--format', fmt, '-o', out)
            if rc != 0:
                STATS[f'export-refused'] += 1
                print(f'NOTE export {case} {p} {fmt}: rc={rc} {e.strip()[:200]}', flush=True)
                continue
            nd = new_db(backend, case + '-exp')
            rc, o, e = cli(nd, 'ingest', out, *prof_args(p))
            compare('export-ingest-show', f'{case} {p} {fmt}', {'show': cli(db, 'show', *prof_args(p))},
                    {'show': cli(nd, 'show', *prof_args(p))})
            drop(nd)
    # P6: diff A B is empty iff show --as-of A == show --as-of B
    for p in profs:
        for _ in range(3):
            a, b = sorted(r.sample(cands, 2)) if len(cands) > 1 else (cands[0], cands[0])
            rc, d, e = cli(db, 'diff', *prof_args(p), '--from', str(a), '--to', str(b))
            _, sa, _ = cli(db, 'show', *prof_args(p), '--as-of', str(a))
            _, sb, _ = cli(db, 'show', *prof_args(p), '--as-of', str(b))
            _, ja, _ = cli(db, 'show', '--json', *prof_args(p), '--as-of', str(a))
            _, jb, _ = cli(db, 'show', '--json', *prof_args(p), '--as-of', str(b))
            STATS['diff-iff-show'] += 1
            d = '' if d.strip() == 'no change' else d
            if rc != 0 or ((d.strip() == '') != (sa == sb)):
                FAILS.append(('diff-iff-show', case, [(p, a, b, rc, d[:800], e[:300], sa[:600], sb[:600])]))
                print(f'FAIL diff-iff-show {case} {p} {a}..{b}: rc={rc} diff={d[:600]!r} {e[:200]}\n show a={sa[:600]!r}\n show b={sb[:600]!r}', flush=True)
            if (d.strip() == '') != (ja == jb):
                STATS['diff-vs-show-json-differs'] += 1
                print(f'NOTE diff vs show --json {case} {p} {a}..{b}: diff empty={d.strip()==""}, json equal={ja==jb}', flush=True)
    return db, profs, log, A


def drop(db):
    if db.startswith('postgres'):
        psql(f'drop database {db.rsplit("/", 1)[1]}')
    else:
        for s in ('', '-wal', '-shm'):
            if os.path.exists(db + s):
                os.remove(db + s)


def cross(seed, ops=None, kind='random'):
    """The same ops into SQLite and PostgreSQL; copy each way; every answer the same."""
    case = f'{kind}-cross-{seed}'
    casedir = os.path.join(ROOT, case)
    shutil.rmtree(casedir, ignore_errors=True)
    os.makedirs(casedir)
    if ops is None:
        ops, _ = gen_case(seed)
    s = build('sqlite', case + '-s', ops, casedir)
    pg = build('postgres', case + '-p', ops, casedir)
    log = log_of(s)
    profs = profiles_of(s)
    r = random.Random(seed)
    A = full_answers(s, profs, log, r)
    compare_full('sqlite-vs-postgres', case, A, full_answers(pg, profs, log_of(pg), r))
    sp = new_db('postgres', case + '-sp')
    cli(s, 'copy', '--to', sp, check=True)
    ps = new_db('sqlite', case + '-ps')
    cli(pg, 'copy', '--to', ps, check=True)
    for name, d in (('copy-sqlite-to-pg', sp), ('copy-pg-to-sqlite', ps)):
        check_verify(case, name, d)
        compare_full(name, case, A, full_answers(d, profs, log_of(d), r))
    for d in (s, pg, sp, ps):
        drop(d)


def trace_ops(seed):
    r = random.Random(seed)
    files = sorted(os.listdir(TRACES))
    r.shuffle(files)
    ops = [('trace', os.path.join(TRACES, f)) for f in files[:r.randint(2, 4)]]
    if r.random() < 0.6:
        k = r.randint(1, len(ops))
        ops.insert(k, ('retract', trace_run(r.choice(ops[:k])[1])))
    return ops


_runs = {}


def trace_run(path):
    if path not in _runs:
        d = new_db('sqlite', 'tracerun')
        cli(d, 'ingest', path, check=True)
        _runs[path] = json.loads(cli(d, 'jobs', '--json')[1].splitlines()[0])['runs'][0]
        drop(d)
    return _runs[path]


if __name__ == '__main__':
    os.makedirs(ROOT, exist_ok=True)
    what = sys.argv[1]
    seeds = [int(x) for x in sys.argv[2].split(',')] if len(sys.argv) > 2 else [1]
    import signal
    def dump(*_):
        print('STATS', json.dumps(dict(STATS)), 'calls', NCALLS[0], flush=True)
        print('FAILS', len(FAILS), [f[:2] for f in FAILS], flush=True)
        os._exit(0)
    signal.signal(signal.SIGTERM, dump)
    for sd in seeds:
        print('CASE-DONE-STATS', json.dumps(dict(STATS)), flush=True)
        try:
            if what in ('sqlite', 'postgres'):
                run_case(what, sd)
            elif what == 'cross':
                cross(sd)
            elif what.startswith('traces-'):
                b = what.split('-', 1)[1]
                if b == 'cross':
                    cross(sd, trace_ops(sd), 'trace')
                else:
                    run_case(b, sd, trace_ops(sd), 'trace')
        except Exception as ex:
            FAILS.append(('crash', f'{what}-{sd}', [repr(ex)[:1000]]))
            print(f'CRASH {what} {sd}: {ex!r}'[:2000], flush=True)
    print('STATS', json.dumps(dict(STATS)), 'calls', NCALLS[0])
    print('FAILS', len(FAILS))
    for f in FAILS:
        print(' ', f[0], f[1])
