# Runs one or more commands at once and prints, as one JSON line, each one's CPU time (user,
# sys), peak RSS and wall time from the kernel's own accounting (wait4), plus the wall time
# from the first start to the last exit. wait4's rusage covers the whole process: every
# thread (Node's workers) and any children it reaped. This wrapper's own start-up is outside
# every figure. Usage: rusage.py '<json spec>'; spec = {"procs": [{"argv": [...],
# "stdout": path|null, "stderr": path|null, "env": {..}|null}], "cwd": path|null}.
import json, os, sys, time

spec = json.loads(sys.argv[1])
if spec.get('cwd'):
    os.chdir(spec['cwd'])
procs = spec['procs']
started = {}
t_first = time.perf_counter()
for i, p in enumerate(procs):
    out = os.open(p.get('stdout') or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(p.get('stderr') or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    env = dict(os.environ, **(p.get('env') or {}))
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.execvpe(p['argv'][0], p['argv'], env)
        finally:
            os._exit(127)
    os.close(out)
    os.close(err)
    started[pid] = (i, t)
res = [None] * len(procs)
while started:
    pid, status, ru = os.wait4(-1, 0)
    t = time.perf_counter()
    if pid not in started:
        continue
    i, t0 = started.pop(pid)
    rc = os.waitstatus_to_exitcode(status)
    res[i] = {'rc': rc, 'user': ru.ru_utime, 'sys': ru.ru_stime, 'cpu': ru.ru_utime + ru.ru_stime, 'wall': t - t0, 'rssMB': ru.ru_maxrss / 1024}
print(json.dumps({'procs': res, 'wall': time.perf_counter() - t_first}))
