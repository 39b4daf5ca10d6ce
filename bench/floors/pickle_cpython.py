# CPython's pickle on one file, timed in-process like pickle-node.mjs: one warm-up, then
# pickle.loads (and then pickle.dumps) repeated for at least MS milliseconds and 3 times.
# Per-operation CPU (time.process_time) and wall seconds. Needs standin/ on PYTHONPATH.
# Usage: python3 pickle_cpython.py FILE.pkl MS [keep|drop]
# keep (the default, judged): each result is held until the next operation has made its own
# (the old one is freed as the new one replaces it), as a caller holds the profile it loads.
# drop: each result is let go at once. pickle-node.mjs does the same in each mode.
import json, pickle, sys, time

b = open(sys.argv[1], 'rb').read()
ms = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
drop = len(sys.argv) > 3 and sys.argv[3] == 'drop'

def t(f):
    f()
    c0 = time.process_time(); t0 = time.perf_counter(); n = 0
    while n < 3 or (time.perf_counter() - t0) * 1000 < ms:
        f(); n += 1
    return {'cpu': (time.process_time() - c0) / n, 'wall': (time.perf_counter() - t0) / n, 'n': n}

kept = None
def loads():
    global kept
    kept = pickle.loads(b)
d = t((lambda: pickle.loads(b)) if drop else loads)
kept = None
o = pickle.loads(b)
proto = b[1] if b[:1] == b'\x80' else 2  # dump with the file's own protocol
def dumps():
    global kept
    kept = pickle.dumps(o, protocol=proto)
e = t((lambda: pickle.dumps(o, protocol=proto)) if drop else dumps)
print(json.dumps({'decode': d, 'encode': e, 'codes': len(o), 'roundTrip': pickle.dumps(o, protocol=proto) == b}))
