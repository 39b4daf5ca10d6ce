# A second workload the fixtures never saw (session 21), run as three processes of one job that
# share one PGO profile, each with its own TORCH_TRACE folder; after each process it keeps
# PyTorch's own answers (the profile it left, its render text, the automatic_dynamic records,
# the frames compiled).
#
#   python3 scripts/multirun-probe2.py OUTDIR local            # job probe4, the local profile file
#   python3 scripts/multirun-probe2.py OUTDIR remote HOST:PORT # job team/probe:5 tag v1, Redis
#
# Remote: TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO=1 and LOCAL_PGO=0; the value PyTorch set
# in Redis is kept after each run (value.json, key.txt). Standard library, torch (and redis).
# PROBE_BACKEND=inductor PROBE_DEVICE=cuda: the same, compiled by Inductor on the GPU (its traces
# then hold Inductor's entries too). test/fixtures/multirun/probe4.py is this script as it ran
# for the fixtures, before these two variables.
import json, os, shutil, subprocess, sys, tempfile


def child(run, out, mode):
    import torch
    import torch._dynamo.pgo as pgo
    from torch._dynamo.utils import counters

    if mode == "remote":
        torch.compiler.config.job_id = "team/probe:5"
        torch.compiler.config.cache_key_tag = "v1"
    else:
        torch.compiler.config.job_id = "probe4"
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

    def zero_dim(x, s):
        # a 0-dim tensor (size and stride ()), then a 1-dim one
        return x * s

    def expanded(x):
        # a stride 0 (expand), then a plain tensor
        return x.sum(0)

    def tup(t, **kw):
        # a tuple and **kwargs: L['t'][0], L['kw']['a']
        return t[0] + t[1].sum() * kw["a"]

    def neg(x, k):
        # negative ints, then big ones
        return x + k

    def flag(x, b):
        # a bool: Dynamo specializes it
        return x * 2 if b else x

    def resumed(x):
        y = x * 2
        torch._dynamo.graph_break()
        # the resume function's own code id
        return y.sum() + x.shape[0]

    def marked(x):
        return x.cos()

    def maker(n):
        w = torch.randn(n)

        def inner(x):
            # a closure's tensor
            return x + w.sum()

        return inner

    backend = os.environ.get("PROBE_BACKEND", "eager")
    torch.set_default_device(os.environ.get("PROBE_DEVICE", "cpu"))
    c = {f.__name__: torch.compile(f, backend=backend) for f in (zero_dim, expanded, tup, neg, flag, resumed, marked)}
    dyn = torch.compile(lambda x: x.relu(), backend=backend, dynamic=True)

    if run == 1:
        c["zero_dim"](torch.tensor(2.0), 3)
        c["expanded"](torch.randn(3).expand(4, 3))
        c["tup"]((torch.randn(2), torch.randn(2)), a=1)
        c["neg"](torch.randn(2), -3)
        c["neg"](torch.randn(2), -7)
        c["flag"](torch.randn(2), True)
        c["resumed"](torch.randn(4))
        x = torch.randn(5)
        torch._dynamo.mark_dynamic(x, 0)
        c["marked"](x)
        torch.compile(maker(3), backend=backend)(torch.randn(3))
        dyn(torch.randn(2, 3))
    elif run == 2:
        c["zero_dim"](torch.tensor(2.0), 4)
        c["expanded"](torch.randn(5).expand(4, 5))
        c["tup"]((torch.randn(3), torch.randn(3)), a=2)
        c["neg"](torch.randn(2), 2**40)
        c["flag"](torch.randn(2), False)
        c["resumed"](torch.randn(6))
        c["marked"](torch.randn(6))
        torch.compile(maker(4), backend=backend)(torch.randn(3))
        dyn(torch.randn(3, 3))
    else:
        c["zero_dim"](torch.tensor([2.0]), 4)
        c["expanded"](torch.randn(4, 5))
        c["tup"]((torch.randn(3), torch.randn(3, 1)), a=2)
        c["neg"](torch.randn(2), 2**40 + 1)
        c["resumed"](torch.randn(6, 2))
        x = torch.randn(7)
        torch._dynamo.mark_static(x, 0)
        c["marked"](x)
        dyn(torch.randn(3, 4))

    with open(os.path.join(out, "render.txt"), "w") as f:
        f.write(pgo.render_code_state(pgo.get_code_state()))
    with open(os.path.join(out, "records.json"), "w") as f:
        json.dump(records, f, indent=1)
    with open(os.path.join(out, "frames.json"), "w") as f:
        json.dump({k: dict(v) for k, v in counters.items() if k in ("stats", "frames", "recompiles")}, f)


def main():
    out = os.path.abspath(sys.argv[1])
    mode = sys.argv[2]
    cache = tempfile.mkdtemp(prefix="probe4-cache-")
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs("/srv/train", exist_ok=True)
    shutil.copy(os.path.join(here, "multirun-probe2.py"), "/srv/train/probe4.py")
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    if mode == "remote":
        host, port = sys.argv[3].split(":")
        env.update(TORCH_DYNAMO_AUTOMATIC_DYNAMIC_REMOTE_PGO="1", TORCH_DYNAMO_AUTOMATIC_DYNAMIC_LOCAL_PGO="0",
                   TORCHINDUCTOR_REDIS_HOST=host, TORCHINDUCTOR_REDIS_PORT=port)
    for run in (1, 2, 3):
        d = os.path.join(out, f"run{run}")
        os.makedirs(os.path.join(d, "trace"), exist_ok=True)
        env["TORCH_TRACE"] = os.path.join(d, "trace")
        p = subprocess.run([sys.executable, "/srv/train/probe4.py", "--child", str(run), d, mode], env=env, cwd="/srv/train",
                           capture_output=True, text=True)
        with open(os.path.join(d, "log.txt"), "w") as f:
            f.write(p.stdout + p.stderr)
        if p.returncode:
            print(f"run {run} failed:\n{p.stderr[-3000:]}")
            sys.exit(1)
        if mode == "remote":
            import redis
            r = redis.Redis(host=host, port=int(port))
            for k in r.keys("pt2:dynamo-pgo*"):
                with open(os.path.join(d, "key.txt"), "w") as f:
                    f.write(k.decode())
                with open(os.path.join(d, "value.json"), "wb") as f:
                    f.write(r.get(k))
        else:
            for name in os.listdir(os.path.join(cache, "dynamo")):
                if name.startswith("code_state_") and name.endswith(".pkl"):
                    shutil.copy(os.path.join(cache, "dynamo", name), os.path.join(d, name))
        print(f"run {run}:", open(os.path.join(d, "frames.json")).read())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main()
