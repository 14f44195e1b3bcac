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
from shared.strategies import generator, randint, randn
from shared.i18n import N_


SIZES = {
    "realistic": dict(b=8, length=64, e=256, heads=8),
    "many heads": dict(b=2, length=16, e=512, heads=256),
    "many sequences": dict(b=512, length=8, e=32, heads=2),
}
HINT = (N_("vectorize: compute all heads and all batch items at once; reshape (B, L, E) -> (B, H, L, E/H) with "
           "view + transpose and use batched matmuls, no Python loop over heads or batch items"))


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


# ---------------------------------------------------------------------- 2.4 transformer_encoder_layer
# Many short sequences (B=1024, L=4, E=16, H=2, F=32, causal keep-mask).  Through the grading
# path (isolated workers, CPU time, fastest of 7 rounds, two gradings at once on 2 cores):
# reference 2.9 ms; a loop over the sequences (one layer call per batch item, mutant
# encoder_batch_loop) 41x; examples/.../correct_alt.py (its own layer norm and MHA) 1.32x.
# In-process on one thread: reference 1.7 ms, sequence loop 56x, a differently written
# layer (separate q/k/v projections, einsum, hand-written layer norm) 1.65x.
# A loop over positions cannot be told apart here: attention costs O(L^2) while such a loop
# costs O(L) Python steps, so at any L where the reference takes milliseconds a position
# loop in the feed-forward part is only 1.5-5x slower (measured at L = 512 .. 1024); a loop
# over heads is multi_head_attention's speed check (task 2.1).
def _encoder_args(b, length, e, heads, ff, device):
    g = generator(7)

    def r(*shape, scale):
        return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(torch.float32).to(device)
    params = {"self_attn.in_proj_weight": r(3 * e, e, scale=e ** -0.5), "self_attn.in_proj_bias": r(3 * e, scale=0.1),
              "self_attn.out_proj.weight": r(e, e, scale=e ** -0.5), "self_attn.out_proj.bias": r(e, scale=0.1),
              "linear1.weight": r(ff, e, scale=e ** -0.5), "linear1.bias": r(ff, scale=0.1),
              "linear2.weight": r(e, ff, scale=ff ** -0.5), "linear2.bias": r(e, scale=0.1),
              "norm1.weight": 1 + r(e, scale=0.1), "norm1.bias": r(e, scale=0.1),
              "norm2.weight": 1 + r(e, scale=0.1), "norm2.bias": r(e, scale=0.1)}
    x = randn((b, length, e), 8, torch.float32, device)
    return x, params, heads, causal_mask_closed_form(length, length, device)


@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("performance", "vectorize")
@pytest.mark.parametrize("device", DEVICES)
def test_encoder_layer_speed(perf, device):
    """2.4 transformer_encoder_layer is vectorized over the sequences of the batch (within 3x of the reference)"""
    x, params, heads, mask = _encoder_args(b=1024, length=4, e=16, heads=2, ff=32, device=device)
    perf.check("transformer_encoder_layer", x, params, heads, mask=mask, rounds=7,
               hint=N_("vectorize: run the attention, the feed-forward network and the layer norms on the whole "
                       "(B, L, E) batch at once, no Python loop over the sequences, positions or heads"))


# ---------------------------------------------------------------------- 3.3 lm_loss
# Measured through the grading path (isolated workers, CPU time, fastest of 7 rounds, two
# gradings at once on the 2-core machine):
#   "long sequence"  (B=1, L=16384, V=128):  reference 2.8-3.0 ms; a loop over positions 133x
#   "many sequences" (B=8192, L=2, V=128):   reference 2.1-2.2 ms; a loop over sequences 91x
# A hand-written stable logsumexp (max, exp, sum, log; the lm_loss of
# examples/submissions/a3_attention/correct_alt.py) 0.84-1.07x.  In-process on one thread,
# advanced indexing instead of gather and other variants: 0.3-1.1x.  (V=128 gives
# logsumexp more work per byte than a wider vocabulary: the logits stay at 8 MB.)
LM_SIZES = {"long sequence": (1, 16384, 128), "many sequences": (8192, 2, 128)}


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("performance", "vectorize")
@pytest.mark.parametrize("size", list(LM_SIZES))
@pytest.mark.parametrize("device", DEVICES)
def test_lm_loss_speed(perf, device, size):
    """3.3 lm_loss is vectorized over the sequences and the positions (within 3x of the reference)"""
    b, length, vocab = LM_SIZES[size]
    logits = randn((b, length, vocab), 9, torch.float32, device, scale=2.0)
    tokens = randint((b, length), 10, 0, vocab, device)
    perf.check("lm_loss", logits, tokens, rounds=7,
               hint=N_("vectorize: compute logsumexp(z) - z[target] for all (batch, position) pairs at once "
                       "(reshape to (B*(L-1), V), torch.logsumexp and gather), no Python loop over sequences or "
                       "positions"))
