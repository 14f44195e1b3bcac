"""Hidden tests: speed of multi_head_attention (2.1) against the reference.

The sizes are chosen so that the reference takes a few milliseconds on one CPU thread
while the per-call overhead of a Python loop dominates a looped version:
* "many heads" (B=2, H=256, head size 2): a loop over heads is ~5-10x slower;
* "many sequences" (B=512, short sequences): a loop over batch items is ~20x slower;
* "realistic" (B=8, L=64, E=256, H=8): any reasonable vectorized version passes.
Differently written vectorized code (einsum, three separate projections) stays within
~1.3x of the reference on all three.
"""
import pytest
import torch

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import causal_mask_closed_form
from shared.devices import DEVICES
from shared.strategies import randn

pytestmark = pytest.mark.visibility("hidden")

SIZES = {
    "realistic": dict(b=8, length=64, e=256, heads=8),
    "many heads": dict(b=2, length=16, e=512, heads=256),
    "many sequences": dict(b=512, length=8, e=32, heads=2),
}
HINT = ("vectorize: compute all heads and all batch items at once; reshape (B, L, E) -> (B, H, L, E/H) "
        "with view + transpose and use batched matmuls, no Python loop over heads or batch items")


def _args(b, length, e, heads, device):
    x = randn((b, length, e), 1, torch.float32, device)
    w_in = randn((3 * e, e), 2, torch.float32, device, scale=e ** -0.5)
    b_in = randn((3 * e,), 3, torch.float32, device, scale=0.1)
    w_out = randn((e, e), 4, torch.float32, device, scale=e ** -0.5)
    b_out = randn((e,), 5, torch.float32, device, scale=0.1)
    mask = causal_mask_closed_form(length, length, device)
    return (x, x, x, heads, w_in, b_in, w_out, b_out, mask)


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("performance", "vectorize")
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("device", DEVICES)
def test_mha_speed(perf, device, size):
    """2.1 multi_head_attention is vectorized over heads and batch items (within 3x of the reference)"""
    perf.check("multi_head_attention", *_args(**SIZES[size], device=device), hint=HINT, rounds=7)
