# PyTorch's own answers for the cases s15's audit could not settle by reading the source.
#
#   TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) python scripts/oracle-probe.py > oracle-probe.jsonl
#
# Standard library and torch only; CPU is enough (backend "eager" and a recording backend).
# One JSON line per case: {"case", "torch", "python", ...what PyTorch did}. Profiles are given as
# the oracle gives them ("dynamic", "unset", {"infer": d}; floats as {"float": repr}), with
# render_code_state()'s text and the pickle (base64) as put_code_state writes it
# (pickle.dumps: this Python's default protocol) and with protocol 4. A case that raised has
# "error". test/oracle-probe.unit.test.ts compares a copy of the output, put at
# test/fixtures/oracle-probe/probe.jsonl, with pgo-ledger (see that folder's README.md).
import base64, json, os, pickle, sys, tempfile, traceback

os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="pgo-probe-"))
import torch
import torch._dynamo
import torch._dynamo.pgo as pgo

RECORDS = []
_logger = pgo.CompileEventLogger


class _RecordingLogger:
    """pgo.CompileEventLogger, also keeping the automatic_dynamic records it is given."""

    def __getattr__(self, k):
        return getattr(_logger, k)

    def instant(self, name, metadata, *a, **kw):
        if name == "automatic_dynamic":
            RECORDS.append(dict(metadata))
        return _logger.instant(name, metadata, *a, **kw)


pgo.CompileEventLogger = _RecordingLogger()


def atom(a):
    if a is pgo.auto_dynamic:
        return "dynamic"
    if a is pgo.auto_unset:
        return "unset"
    if isinstance(a, pgo.InferStride):
        return {"infer": a.dim}
    if type(a) is bool:
        return {"bool": a}
    if type(a) is int:
        return a if abs(a) < 2**53 else str(a)
    if type(a) is float:
        return {"float": repr(a)}
    if a is None:
        return None
    return {"other": repr(a)}


def field(f):
    return [atom(x) for x in f] if isinstance(f, tuple) else atom(f)


def entry(e):
    out = {"scalar": atom(e.scalar), "size": field(e.size), "stride": field(e.stride)}
    for k in ("excluded_sizes", "excluded_scalar"):
        if hasattr(e, k):
            out[k] = field(getattr(e, k))
    return out


def state(cs):
    out = []
    for cid, st in cs.items():
        code = {k: getattr(cid, k) for k in ("filename", "firstlineno", "name", "file_hash", "closure_hash") if hasattr(cid, k)}
        out.append({"code": code, "entries": {s: entry(e) for s, e in st.automatic_dynamic.items()}})
    return out


def profile():
    cs = pgo.get_code_state()
    return {
        "state": state(cs),
        "render": pgo.render_code_state(cs),
        "pickle": base64.b64encode(pickle.dumps(cs)).decode(),
        "pickle_p4": base64.b64encode(pickle.dumps(cs, protocol=4)).decode(),
    }


class Recorder:
    """A backend that counts compiles and keeps each graph's input sizes and strides."""

    def __init__(self):
        self.frames = 0
        self.inputs = []

    def __call__(self, gm, example_inputs):
        self.frames += 1
        seen = []
        for n in gm.graph.nodes:
            if n.op != "placeholder":
                continue
            v = n.meta.get("example_value")
            if isinstance(v, torch.Tensor):
                seen.append({"name": n.name, "size": [str(s) for s in v.size()], "stride": [str(s) for s in v.stride()] if v.layout == torch.strided else None})
            elif v is not None:
                seen.append({"name": n.name, "value": str(v)})
        self.inputs.append(seen)
        return gm.forward


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def fresh(job):
    torch._dynamo.reset()
    RECORDS.clear()
    torch.compiler.config.job_id = f"probe-{job}"


def run_calls(fn, calls, backend=None):
    """Compile fn, call it on each argument tuple; the frame count after each call."""
    backend = backend or Recorder()
    c = torch.compile(fn, backend=backend)
    after = []
    for args in calls:
        c(*args)
        after.append(backend.frames)
    return backend, after


@case
def float_scalar():
    """specialize_float=False: wrap_symfloat records make_scalar(<float>): is the profile's scalar a float?"""
    fresh("float")
    old = torch._dynamo.config.specialize_float
    torch._dynamo.config.specialize_float = False
    try:
        def f(x, s):
            return x * s
        b, after = run_calls(f, [(torch.ones(3), 0.5), (torch.ones(3), 0.25), (torch.ones(3), 1e-05), (torch.ones(3), 2)])
    finally:
        torch._dynamo.config.specialize_float = old
    return {"specialize_float_default": old, "frames_after_each_call": after, "records": list(RECORDS), **profile()}


@case
def int_zero_one():
    """An int that turned dynamic: do 0 and 1 compile again (pgo-ledger: no, create_unspecified_symbol)?"""
    fresh("int01")
    def f(x, n):
        return x + n
    b, after = run_calls(f, [(torch.ones(3), 5), (torch.ones(3), 6), (torch.ones(3), 0), (torch.ones(3), 1), (torch.ones(3), 7)])
    return {"frames_after_each_call": after, "records": list(RECORDS), **profile()}


@case
def size_zero_one():
    """A size dim that turned dynamic: do 0 and 1 compile again (pgo-ledger: yes, 0/1 specialization)?"""
    fresh("size01")
    def f(x):
        return x * 2
    b, after = run_calls(f, [(torch.ones(5),), (torch.ones(6),), (torch.ones(0),), (torch.ones(1),), (torch.ones(7),)])
    return {"frames_after_each_call": after, "records": list(RECORDS), **profile()}


@case
def mark_dynamic():
    """mark_dynamic's make_size([unset.., dynamic, ..unset]) joined with |= (no record) into the tensor's entry."""
    fresh("mark")
    def f(x):
        return x * 2
    x = torch.ones(5, 6)
    torch._dynamo.mark_dynamic(x, 0)
    b = Recorder()
    c = torch.compile(f, backend=b)
    c(x)
    first = {"records": list(RECORDS), **profile()}
    RECORDS.clear()
    c(torch.ones(7, 6))
    y = torch.ones(8, 9)
    torch._dynamo.mark_dynamic(y, 1)
    c(y)
    return {"after_first": first, "frames": b.frames, "inputs": b.inputs, "records": list(RECORDS), **profile()}


@case
def tensor_int_flip():
    """A source that is a tensor in one call and an int in another (and the other way round)."""
    fresh("flip")
    def f(a):
        return a * 2
    def g(a):
        return a * 3
    b, after = run_calls(f, [(torch.ones(3, 4),), (5,)])
    b2, after2 = run_calls(g, [(5,), (torch.ones(3),)])
    return {"frames_after_each_call": [after, after2], "records": list(RECORDS), **profile()}


@case
def stride_with_dynamic_size():
    """is_stride_dynamic: a stride that wobbles while a size dim is dynamic is inferred, not symbolic."""
    fresh("stride")
    def f(x):
        return x.sum(0)
    def g(x):
        return x.sum(0)
    b, after = run_calls(f, [(torch.ones(3, 4),), (torch.ones(4, 5).t(),), (torch.ones(4, 6).t(),)])
    b2, after2 = run_calls(g, [(torch.ones(3, 4),), (torch.ones(4, 3).t(),), (torch.ones(3, 5)[:, :4],)])
    return {"frames_after_each_call": [after, after2], "inputs": [b.inputs, b2.inputs], "records": list(RECORDS), **profile()}


@case
def cache_key_tag_colon():
    """format_cache_key with a cache_key_tag holding ':' (and the local file name it makes)."""
    torch._dynamo.reset()
    old = torch.compiler.config.cache_key_tag
    torch.compiler.config.job_id = "job"
    torch.compiler.config.cache_key_tag = "exp:v2"
    try:
        key = pgo.get_cache_key()
        path = pgo.code_state_path(key) if key else None
    finally:
        torch.compiler.config.cache_key_tag = old
    return {"cache_key": key, "local_file": os.path.basename(path) if path else None}


@case
def missing_file_with_paren():
    """A code object whose file does not exist: file_hash is the path; the path holds ')'."""
    fresh("paren")
    ns = {}
    exec(compile("def h(x):\n    return x + 1\n", "/nonexistent (copy)/h).py", "exec"), ns)
    run_calls(ns["h"], [(torch.ones(3),), (torch.ones(4),)])
    return {"records": list(RECORDS), **profile()}


@case
def sparse_input():
    """record_automatic_dynamic gives a sparse tensor stride=() whatever its dims."""
    fresh("sparse")
    def f(x):
        return x * 2
    i = torch.tensor([[0, 1], [1, 2]])
    err = None
    try:
        run_calls(f, [(torch.sparse_coo_tensor(i, torch.ones(2), (3, 4)),), (torch.sparse_coo_tensor(i, torch.ones(2), (5, 4)),)])
    except Exception as e:  # Dynamo may refuse sparse inputs after recording them
        err = f"{type(e).__name__}: {e}"[:500]
    return {"compile_error": err, "records": list(RECORDS), **profile()}


@case
def unicode_source():
    """Non-ASCII source names (a dict key) through render and pickle."""
    fresh("unicode")
    def f(d):
        return d["ключ"] * 2 + d["😀"]
    run_calls(f, [({"ключ": torch.ones(3), "😀": 1},), ({"ключ": torch.ones(4), "😀": 2},)])
    return {"records": list(RECORDS), **profile()}


@case
def empty_and_rank_change():
    """A size-0 tensor, then a rank change: records and the final entry."""
    fresh("rank")
    def f(x):
        return x.sum()
    b, after = run_calls(f, [(torch.ones(0),), (torch.ones(3),), (torch.ones(2, 3),)])
    return {"frames_after_each_call": after, "records": list(RECORDS), **profile()}


N = 2


class Heads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = 2

    def forward(self, x):
        return x * self.heads


@case
def int_specialization_warm_start():
    """Ints of globals and nn modules (is_int_specialization_case): the profile says dynamic, but
    does a warm start with it (same job, local profile read back) still compile per value?"""
    global N
    def f(x):
        return x * N
    frames = {}
    for phase in ("cold", "warm"):
        torch._dynamo.reset()  # drops the in-memory profile; the local one is read back
        RECORDS.clear()
        torch.compiler.config.job_id = "probe-spec"
        bf, bm = Recorder(), Recorder()
        cf, m = torch.compile(f, backend=bf), Heads()
        cm = torch.compile(m, backend=bm)
        for v in (2, 3, 4):
            N = v
            m.heads = v
            cf(torch.ones(3))
            cm(torch.ones(3))
        frames[phase] = {"global": bf.frames, "module_attr": bm.frames}
    return {"frames": frames, "records": list(RECORDS), **profile()}


def main():
    head = {"torch": torch.__version__, "python": sys.version.split()[0], "pickle_default_protocol": pickle.DEFAULT_PROTOCOL}
    for fn in CASES:
        line = {"case": fn.__name__, "doc": fn.__doc__, **head}
        try:
            line.update(fn())
        except Exception:
            line["error"] = traceback.format_exc()[-2000:]
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
