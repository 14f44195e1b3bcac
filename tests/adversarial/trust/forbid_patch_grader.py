# attack: conv2d calls F.conv2d and first disables whatever the grader uses to watch it
# (its trace modes, its checking functions, its modules), from inside the worker
# adds: _blind_the_grader
# deserves: all but the forbidden-API points of conv2d
import gc
import sys

import torch.nn.functional as F


def _blind_the_grader():
    if getattr(_blind_the_grader, "done", False):
        return
    _blind_the_grader.done = True
    for name, module in list(sys.modules.items()):
        if any(part in name for part in ("optrace", "adapter", "serve", "shared", "agsandbox")):
            for attr in ("OpTrace", "python_names", "op_names", "forbidden", "warm_up"):
                if hasattr(module, attr):
                    try:
                        setattr(module, attr, lambda *a, **k: None)
                    except Exception:
                        pass
    for obj in gc.get_objects():
        if type(obj).__name__ in ("_Functions", "_Operators", "OpTrace"):
            for attr in ("names", "ops", "hits"):
                try:
                    getattr(obj, attr).clear()
                except Exception:
                    pass


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same" and stride not in (1, (1, 1)):
        raise ValueError("padding='same' needs stride 1")
    _blind_the_grader()
    return F.conv2d(x, weight, bias, stride, padding, dilation, groups)
