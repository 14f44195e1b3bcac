"""The op-level trace behind the forbidden-API checks (shared/optrace.py): it sees an op
however the call reaches torch, under torch.compile too, and tracing does not import
torch._dynamo (the zygote would pay 0.65 s for it at every batch's start)."""
import subprocess
import sys

import torch

from autograder import ROOT
from shared.optrace import OpTrace

CONV = ("torch.nn.functional.conv2d",)
CONV_OP = ("aten::convolution",)


def _conv(x, w):
    return torch.ops.aten.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1).relu()


def test_trace_sees_a_convolution_reached_through_torch_ops():
    x, w = torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)
    with OpTrace(CONV, CONV_OP) as trace:
        _conv(x, w)
    assert trace.hits == {"aten::convolution"}


def test_trace_sees_a_convolution_inside_torch_compile():
    x, w = torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)
    for backend in ("eager", "aot_eager"):
        torch._dynamo.reset()
        with OpTrace(CONV, CONV_OP) as trace:
            out = torch.compile(_conv, backend=backend)(x, w)
        assert "aten::convolution" in trace.hits, backend
        torch.testing.assert_close(out, torch.nn.functional.conv2d(x, w).relu())


def test_tracing_does_not_import_dynamo():
    code = ("import sys, torch\n"
            "from shared.optrace import OpTrace, warm_up\n"
            "warm_up()\n"
            "with OpTrace(('torch.nn.functional.conv2d',), ('aten::convolution',)) as trace:\n"
            "    torch.nn.functional.conv2d(torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)).sum().item()\n"
            "print('aten::convolution' in trace.hits, 'torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]        # seen, and without torch._dynamo
