# What PyTorch 2.11 writes in the profile, and logs, for dims made dynamic without differing
# values (session 21): TORCH_COMPILE_DYNAMIC_SOURCES, maybe_mark_dynamic, mark_unbacked and
# mark_dynamic, one function each, one process with TORCH_TRACE.
#
#   TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) TORCH_TRACE=OUT/trace \
#   TORCH_COMPILE_DYNAMIC_SOURCES="L['a']" python3 scripts/dynamic-sources-probe.py OUT
import json, os, sys
import torch
import torch._dynamo.pgo as pgo

torch.compiler.config.job_id = "probe6"
out = sys.argv[1]


def by_env(a):
    return a * 2


def maybe(b):
    return b + 1


def unbacked(c):
    return c.sum()


def marked(d):
    return d.cos()


cs = {f.__name__: torch.compile(f, backend="eager") for f in (by_env, maybe, unbacked, marked)}
cs["by_env"](torch.randn(4, 3))
b = torch.randn(5)
torch._dynamo.maybe_mark_dynamic(b, 0)
cs["maybe"](b)
c = torch.randn(6)
torch._dynamo.decorators.mark_unbacked(c, 0)
cs["unbacked"](c)
d = torch.randn(7, 2)
torch._dynamo.mark_dynamic(d, 1)
cs["marked"](d)
with open(os.path.join(out, "render.txt"), "w") as f:
    f.write(pgo.render_code_state(pgo.get_code_state()))
