# A third workload the fixtures never saw (session 22), run as three processes of one job that
# share one local PGO profile, each with its own TORCH_TRACE folder; after each process it keeps
# PyTorch's own answers (the profile it left, its render text, the automatic_dynamic records,
# the frames compiled), as multirun-probe2.py does.
#
#   python3 scripts/multirun-probe5.py OUTDIR
#
# The workload: an nn.Module's int attribute, parameter and buffer; a sliced (strided) input and
# one with a storage offset; channels_last; a list whose length changes; a namedtuple; a dtype
# and a requires_grad change alone; a default argument; a global int; a plain object's int
# attribute; a NumPy array; ints 0, 1 and 2; one code object under two torch.compile wrappers;
# a rank-5 tensor; a torch.Size. Standard library, torch and numpy.
import collections, json, os, shutil, subprocess, sys, tempfile

G_N = 3


def child(run, out):
    import numpy as np
    import torch
    import torch._dynamo.pgo as pgo
    from torch import nn
    from torch._dynamo.utils import counters

    global G_N
    torch.compiler.config.job_id = "probe5"
    records = []
    logger = pgo.CompileEventLogger

    class Recording:
        def __getattr__(self, k):
            return getattr(logger, k)

        def instant(self, name, metadata, *a, **kw):
            if name == "automatic_dynamic":
                records.append({k: str(v) for k, v in dict(metadata).items()})
            return logger.instant(name, metadata, *a, **kw)

    pgo.CompileEventLogger = Recording()

    class M(nn.Module):
        def __init__(self, n, b):
            super().__init__()
            self.n = n
            self.lin = nn.Linear(4, 4)
            self.register_buffer("buf", torch.zeros(b))

        def forward(self, x):
            return self.lin(x).sum() * self.n + self.buf.sum()

    P = collections.namedtuple("P", ["a", "k"])

    class Cfg:
        size = 3

    def strided(x):
        return x.sum()

    def offset(x):
        return x * 2

    def chlast(x):
        return x.mean()

    def varlen(xs):
        return sum(t.sum() for t in xs)

    def nt(p):
        return p.a * p.k

    def dt(x):
        return x + 1

    def grad(x):
        return x * 3

    def dflt(x, k=3):
        return x + k

    def gint(x):
        return x * G_N

    def cfg(x, c):
        return x * c.size

    def arr(a):
        return a * 2

    def small(x, k):
        return x + k

    def twice(x):
        return x.sin()

    def five(x):
        return x.sum(dim=4)

    def size(x, s):
        return x.reshape(s[1], s[0])

    c = {f.__name__: torch.compile(f, backend="eager") for f in (strided, offset, chlast, varlen, nt, dt, grad, dflt, gint, cfg, arr, small, five, size)}
    w1 = torch.compile(twice, backend="eager")
    w2 = torch.compile(twice, backend="eager")

    if run == 1:
        m = torch.compile(M(2, 3), backend="eager")
        m(torch.randn(2, 4))
        c["strided"](torch.randn(4, 6)[:, ::2])
        c["offset"](torch.randn(5)[1:])
        c["chlast"](torch.randn(2, 3, 4, 4).to(memory_format=torch.channels_last))
        c["varlen"]([torch.randn(2), torch.randn(2)])
        c["nt"](P(torch.randn(3), 2))
        c["dt"](torch.randn(3))
        c["grad"](torch.randn(3))
        c["dflt"](torch.randn(2))
        c["gint"](torch.randn(2))
        c["cfg"](torch.randn(2), Cfg())
        c["arr"](np.ones(3))
        c["small"](torch.randn(2), 0)
        w1(torch.randn(3))
        w2(torch.randn(4))
        c["five"](torch.randn(1, 2, 3, 2, 2))
        x = torch.randn(6)
        c["size"](x, torch.Size([2, 3]))
    elif run == 2:
        m = torch.compile(M(3, 6), backend="eager")
        m(torch.randn(5, 4))
        c["strided"](torch.randn(4, 8)[:, ::2])
        c["offset"](torch.randn(6)[2:])
        c["chlast"](torch.randn(2, 3, 4, 4))
        c["varlen"]([torch.randn(2), torch.randn(2), torch.randn(2)])
        c["nt"](P(torch.randn(4), 3))
        c["dt"](torch.randn(3, dtype=torch.float64))
        c["grad"](torch.randn(3, requires_grad=True))
        c["dflt"](torch.randn(2), 4)
        G_N = 4
        c["gint"](torch.randn(2))
        k = Cfg()
        k.size = 5
        c["cfg"](torch.randn(2), k)
        c["arr"](np.ones(5))
        c["small"](torch.randn(2), 1)
        w1(torch.randn(5))
        c["five"](torch.randn(1, 2, 3, 2, 3))
        x = torch.randn(12)
        c["size"](x, torch.Size([3, 4]))
    else:
        m = torch.compile(M(3, 6), backend="eager")
        m(torch.randn(5, 4))
        c["strided"](torch.randn(4, 4))
        c["offset"](torch.randn(5))
        c["chlast"](torch.randn(2, 3, 5, 5).to(memory_format=torch.channels_last))
        c["varlen"]([torch.randn(3)])
        c["nt"](P(torch.randn(4, 2), 3))
        c["dt"](torch.randn(4))
        c["dflt"](torch.randn(3), 4)
        c["arr"](np.ones((2, 2)))
        c["small"](torch.randn(2), 2)
        w2(torch.randn(5, 2))
        c["five"](torch.randn(2, 2, 3, 2, 3))

    with open(os.path.join(out, "render.txt"), "w") as f:
        f.write(pgo.render_code_state(pgo.get_code_state()))
    with open(os.path.join(out, "records.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(out, "frames.json"), "w") as f:
        json.dump({k: dict(v) for k, v in counters.items() if k in ("stats", "frames", "recompiles")}, f)


def main():
    out = os.path.abspath(sys.argv[1])
    cache = tempfile.mkdtemp(prefix="probe5-cache-")
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs("/srv/train", exist_ok=True)
    shutil.copy(os.path.join(here, "multirun-probe5.py"), "/srv/train/probe5.py")
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    for run in (1, 2, 3):
        d = os.path.join(out, f"run{run}")
        os.makedirs(os.path.join(d, "trace"), exist_ok=True)
        env["TORCH_TRACE"] = os.path.join(d, "trace")
        p = subprocess.run([sys.executable, "/srv/train/probe5.py", "--child", str(run), d], env=env, cwd="/srv/train",
                           capture_output=True, text=True)
        with open(os.path.join(d, "log.txt"), "w") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode:
            print(f"run {run} failed:\n{p.stderr[-3000:]}")
            sys.exit(1)
        for name in os.listdir(os.path.join(cache, "dynamo")):
            if name.startswith("code_state_") and name.endswith(".pkl"):
                shutil.copy(os.path.join(cache, "dynamo", name), os.path.join(d, name))
        print(f"run {run}:", open(os.path.join(d, "frames.json")).read())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
