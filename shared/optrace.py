"""The op-level trace behind the forbidden-API checks.

A forbidden API is recognised by what reaches torch, not by the name the student's code
used for it: a ``TorchFunctionMode`` sees every torch-level function call (whatever alias,
container or helper module it came through: ``F.conv2d``, ``torch._C._VariableFunctions``,
``torch.ops.aten.conv2d``, ``nn.LSTM``'s ``_VF.lstm``...) and a ``TorchDispatchMode`` sees
every aten operator that reaches a kernel.  Inside the block nothing is blocked: the
calls are recorded, and the test fails when one of them is forbidden.

The trace runs in the student's process, so on its own it could be tampered with; the
grader pairs it with a static check of the submission's source on the trusted side
(``autograder/static_check.py``), which refuses the ways to reach it.
"""
from __future__ import annotations

from torch.overrides import TorchFunctionMode

from shared.apinames import op_names, python_names  # noqa: F401  (re-exported)
from torch.utils._python_dispatch import TorchDispatchMode

class _Functions(TorchFunctionMode):
    def __init__(self, names: set[str], hits: set[str]):
        super().__init__()
        self.names, self.hits = names, hits

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in self.names:
            module = getattr(func, "__module__", "") or "torch"
            self.hits.add(f"{module}.{name}")
        return func(*args, **(kwargs or {}))


class _Operators(TorchDispatchMode):
    def __init__(self, ops: set[str], hits: set[str]):
        super().__init__()
        self.ops, self.hits = ops, hits

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise torch wraps __torch_dispatch__ in torch._dynamo.disable, whose first call
        # imports torch._dynamo (~800 modules, 0.65 s) in every process that traces: the
        # zygote paid it at every batch's start.  Ops are recorded the same either way, under
        # torch.compile too (tests/test_optrace.py).
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = getattr(getattr(func, "overloadpacket", None), "__name__", "")
        if packet in self.ops:
            self.hits.add(f"aten::{packet}")
        return func(*args, **(kwargs or {}))


_WARM = False


def warm_up() -> None:
    """The first trace's one-time set-up (dispatch-mode machinery, the op-name tables): outside any timer."""
    global _WARM
    if not _WARM:
        import torch
        with OpTrace(("relu",), ("aten::relu",)):
            torch.zeros(1).add(1)
        _WARM = True


class OpTrace:
    """``with OpTrace(apis, ops) as trace: ...`` then ``trace.hits``: the forbidden calls seen."""

    def __init__(self, apis=(), ops=()):
        self.hits: set[str] = set()
        self._modes = [_Functions(python_names(apis), self.hits), _Operators(op_names(ops), self.hits)]

    def __enter__(self):
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc):
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
        return False
