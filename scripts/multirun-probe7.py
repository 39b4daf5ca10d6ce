# A fourth workload (session 22): code ids that a later run compiles first, beside those it
# loaded from the profile it warm-started from, as three processes of job probe7 sharing one
# local profile (each with its own TORCH_TRACE folder), keeping PyTorch's answers after each run
# as multirun-probe5.py does. Run 1 compiles functions named like the profile's field names
# (scalar) and a plain one; run 2 loads them and first compiles a new function of the same file,
# one named size, one of a second file (helper7.py) and a graph break's resume function; run 3
# first compiles one named stride and another of helper7.py.
#
#   python3 scripts/multirun-probe7.py OUTDIR
import json, os, shutil, subprocess, sys, tempfile

HELPER = """
def twice(x):
    return x * 2


def thrice(x):
    return x * 3
"""


def child(run, out):
    import torch
    import torch._dynamo.pgo as pgo
    from torch._dynamo.utils import counters

    sys.path.insert(0, "/srv/train")
    import helper7

    torch.compiler.config.job_id = "probe7"
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

    def plain(x):
        return x + 1

    def scalar(x, k):
        return x * k

    def newer(x):
        return x - 1

    def size(x):
        return x.sum()

    def broken(x):
        y = x * 2
        torch._dynamo.graph_break()
        return y + x.shape[0]

    def stride(x):
        return x.t()

    c = {f.__name__: torch.compile(f, backend="eager") for f in (plain, scalar, newer, size, broken, stride, helper7.twice, helper7.thrice)}

    if run == 1:
        c["plain"](torch.randn(2))
        c["scalar"](torch.randn(2), 3)
        c["plain"](torch.randn(3))
    elif run == 2:
        c["plain"](torch.randn(4))
        c["scalar"](torch.randn(2), 4)
        c["newer"](torch.randn(2))
        c["size"](torch.randn(2))
        c["size"](torch.randn(3))
        c["twice"](torch.randn(2))
        c["broken"](torch.randn(3))
    else:
        c["plain"](torch.randn(5, 1))
        c["newer"](torch.randn(3))
        c["stride"](torch.randn(2, 3))
        c["thrice"](torch.randn(2))
        c["twice"](torch.randn(5))
        c["broken"](torch.randn(4))

    with open(os.path.join(out, "render.txt"), "w") as f:
        f.write(pgo.render_code_state(pgo.get_code_state()))
    with open(os.path.join(out, "records.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(out, "frames.json"), "w") as f:
        json.dump({k: dict(v) for k, v in counters.items() if k in ("stats", "frames", "recompiles")}, f)


def main():
    out = os.path.abspath(sys.argv[1])
    cache = tempfile.mkdtemp(prefix="probe7-cache-")
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs("/srv/train", exist_ok=True)
    shutil.copy(os.path.join(here, "multirun-probe7.py"), "/srv/train/probe7.py")
    with open("/srv/train/helper7.py", "w") as f:
        f.write(HELPER)
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    for run in (1, 2, 3):
        d = os.path.join(out, f"run{run}")
        os.makedirs(os.path.join(d, "trace"), exist_ok=True)
        env["TORCH_TRACE"] = os.path.join(d, "trace")
        p = subprocess.run([sys.executable, "/srv/train/probe7.py", "--child", str(run), d], env=env, cwd="/srv/train",
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
