# A workload the fixtures never saw, run as three processes of one job that share a local
# PGO profile (each warm-starts from the one before), each with its own TORCH_TRACE folder.
# After each process it keeps PyTorch's own answers: the profile file it left, its
# render_code_state() text, the automatic_dynamic records it logged and the frames it compiled.
#
#   python3 scripts/multirun-probe.py OUTDIR        # writes OUTDIR/run{1,2,3}/...
#
# Standard library and torch only; CPU and the eager backend are enough.
# What pgo-ledger must do with it (test/fixtures/multirun/README.md): ingest run 1's trace,
# then 2's, then 3's; after each, `export --format pickle` is the profile file PyTorch left,
# byte for byte, and `show` its render text; `why` names the run whose record made a dim dynamic.
import json, os, shutil, subprocess, sys, tempfile

JOB = "probe3"


def child(run, out):
    import torch
    import torch._dynamo.pgo as pgo
    from torch._dynamo.utils import counters

    torch.compiler.config.job_id = JOB
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

    W = {"w": torch.randn(4, 4)}

    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 2
            self.register_buffer("buf", torch.zeros(3))

        def forward(self, x):
            return x * self.k + self.buf.sum()

    class Outer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def forward(self, x, *, scale=1.0):
            return self.inner(x).sum(-1) * scale

    def listdict(xs, d):
        # a list and a dict as inputs: sources L['xs'][0], L['d']['n']
        return xs[0] * d["n"] + xs[1].sum()

    def branchy(x, n):
        # an int used in control flow: guards on it once it is dynamic
        if n > 5:
            return x.sum() + n
        return x.mean() - n

    def glob(x):
        # a global tensor whose shape changes between runs
        return x @ W["w"]

    def perm(x):
        # the same sizes, other strides
        return x.contiguous().sum(0)

    def flip(x):
        # an int in runs 1-2, a tensor in run 3
        return x * 2

    outer = torch.compile(Outer(), backend="eager")
    c_ld = torch.compile(listdict, backend="eager")
    c_br = torch.compile(branchy, backend="eager")
    c_gl = torch.compile(glob, backend="eager")
    c_pm = torch.compile(perm, backend="eager")
    c_fl = torch.compile(flip, backend="eager")

    if run == 1:
        for b in (2, 2):
            outer(torch.randn(b, 5))
        c_ld([torch.randn(3, 2), torch.randn(7)], {"n": 3})
        c_ld([torch.randn(3, 2), torch.randn(7)], {"n": 4})
        c_br(torch.randn(6), 2)
        c_br(torch.randn(6), 3)
        c_gl(torch.randn(2, 4))
        c_pm(torch.randn(4, 6))
        c_fl(3)
    elif run == 2:
        outer.inner.k = 3
        outer(torch.randn(2, 5))
        outer(torch.randn(2, 9), scale=0.5)
        c_ld([torch.randn(1, 2), torch.randn(7)], {"n": 4})
        c_br(torch.randn(6), 7)
        c_br(torch.randn(8), 8)
        W["w"] = torch.randn(4, 6)
        c_gl(torch.randn(2, 4))
        c_pm(torch.randn(6, 4).t())
        c_fl(5)
    else:
        outer.inner.register_buffer("buf", torch.zeros(5))
        outer(torch.randn(3, 5, 2))
        c_ld([torch.randn(0, 2), torch.randn(7, 1)], {"n": 4})
        c_br(torch.randn(6, 2), 1)
        c_gl(torch.randn(3, 4))
        c_pm(torch.randn(4, 6, 2).permute(2, 0, 1))
        c_fl(torch.randn(3))

    with open(os.path.join(out, "render.txt"), "w") as f:
        f.write(pgo.render_code_state(pgo.get_code_state()))
    with open(os.path.join(out, "records.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(out, "frames.json"), "w") as f:
        json.dump({k: dict(v) for k, v in counters.items() if k in ("stats", "frames", "recompiles")}, f)


def main():
    out = os.path.abspath(sys.argv[1])
    cache = tempfile.mkdtemp(prefix="probe3-cache-")
    here = os.path.dirname(os.path.abspath(__file__))
    # the code ids name the script where it ran: copy it to a fixed path, as the fixtures did
    os.makedirs("/srv/train", exist_ok=True)
    shutil.copy(os.path.join(here, "multirun-probe.py"), "/srv/train/probe3.py")
    for run in (1, 2, 3):
        d = os.path.join(out, f"run{run}")
        os.makedirs(os.path.join(d, "trace"), exist_ok=True)
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, TORCH_TRACE=os.path.join(d, "trace"))
        p = subprocess.run([sys.executable, "/srv/train/probe3.py", "--child", str(run), d], env=env, cwd="/srv/train",
                           capture_output=True, text=True)
        with open(os.path.join(d, "log.txt"), "w") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode:
            print(f"run {run} failed:\n{p.stderr[-3000:]}")
            sys.exit(1)
        for name in os.listdir(os.path.join(cache, "dynamo")):
            if name.startswith("code_state_"):
                shutil.copy(os.path.join(cache, "dynamo", name), os.path.join(d, name))
        print(f"run {run}:", open(os.path.join(d, "frames.json")).read())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
