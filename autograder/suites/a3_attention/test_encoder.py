"""Hidden tests, part 2 (continued): layer norm (2.3) and the Transformer encoder layer (2.4).

Expected values come from torch (F.layer_norm, nn.TransformerEncoderLayer in eval mode,
and their autograd gradients); fully masked rows, where torch gives NaN, are compared
with the reference."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import (LayerCase, keep_mask, layer_cases, layer_input, layer_params,
                                                       torch_encoder_layer)
from shared.compare import assert_close, assert_true
from shared.strategies import float_dtypes, randn, seeds
from shared.i18n import N_


LN_HINT = (N_("layer norm: over the trailing normalized_shape dims of each sample take mean and the BIASED "
              "variance (divide by N, not N - 1), then y = (x - mean) / sqrt(var + eps) * weight + bias"))
LN_EPS_HINT = (N_("eps goes inside the square root, (x - mean) / sqrt(var + eps), and the variance is the biased "
                  "one (divide by N); with a large eps both matter"))
LN_SHAPE_HINT = (N_("normalized_shape lists ALL the trailing dims that are normalised together (an int means one "
                    "dim): with normalized_shape = (H, W) the mean and variance run over both dims at once"))
LN_STABLE_HINT = (N_("compute the variance from the centered values, mean((x - mean)^2): mean(x^2) - mean^2 "
                     "cancels catastrophically in float32 when |mean| >> std (numerically stable two-pass variance)"))
LN_APIS = ("torch.nn.functional.layer_norm", "torch.nn.LayerNorm.forward", "torch.layer_norm")

TEL_HINT = (N_("encoder layer: post-norm (norm_first=False) x = LN1(x + SA(x)), then x = LN2(x + FF(x)); pre-norm "
               "(norm_first=True) x = x + SA(LN1(x)), then x = x + FF(LN2(x)); SA = multi_head_attention(x, x, "
               "x)[0] with self_attn.* weights, FF = linear2(relu(linear1(x))), LN1/LN2 = layer norm with "
               "norm1.*/norm2.* and eps; no dropout"))
TEL_NORM_HINT = {
    False: (N_("norm_first=False is post-norm: the layer norm comes AFTER each residual sum, x = LN1(x + SA(x)); x "
               "= LN2(x + FF(x))")),
    True: (N_("norm_first=True is pre-norm: normalise the sublayer's INPUT and add the sublayer's output to the "
              "un-normalised residual, x = x + SA(LN1(x)); x = x + FF(LN2(x))")),
}
TEL_MASK_HINT = (N_("mask: here True/1 = may attend (torch's src_mask is its negation); pass it to the "
                    "self-attention of every head; (L, L) is shared by the batch, (B, L, L) is per sequence"))
TEL_APIS = ("torch.nn.TransformerEncoderLayer.forward", "torch.nn.MultiheadAttention.forward",
            "torch.nn.functional.multi_head_attention_forward",
            "torch.nn.functional.scaled_dot_product_attention")


def _keep_arg(keep: torch.Tensor) -> torch.Tensor:
    """The keep-mask as the student receives it: 0/1 int64 (this assignment's convention allows
    bool or 0/1).  Not bool: when grading, the student's calls of multi_head_attention go to the
    reference through a call-back (task 2.4 declares it in ``calls``), and the grader refuses
    bool tensors in call-backs."""
    return keep.to(torch.int64)


def _torch_layer(layer, x, keep=None):
    """The torch layer with this assignment's keep-mask converted to its convention."""
    src_mask = None
    if keep is not None:
        src_mask = ~keep.bool()                               # torch: True = NOT allowed
        if src_mask.dim() == 3:                               # torch wants (B * H, L, L)
            src_mask = src_mask.repeat_interleave(layer.self_attn.num_heads, dim=0)
    with torch.no_grad():
        return layer(x, src_mask=src_mask)


# ---------------------------------------------------------------------- 2.3 layer_norm
@st.composite
def ln_cases(draw):
    lead = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)))
    return lead, norm


@pytest.mark.task("2.3")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=15)
@given(case=ln_cases(), seed=seeds, dtype=float_dtypes, affine=st.booleans(), as_int=st.booleans())
def test_layer_norm_matches_torch(student, case, seed, dtype, affine, as_int):
    """2.3 layer_norm equals F.layer_norm (random shapes, with and without weight / bias)"""
    lead, norm = case
    x = randn(lead + norm, seed, dtype, scale=2.0)
    weight = randn(norm, seed + 1, dtype) if affine else None
    bias = randn(norm, seed + 2, dtype) if affine else None
    shape_arg = norm[0] if (as_int and len(norm) == 1) else norm
    expected = F.layer_norm(x, norm, weight, bias)
    got = student.layer_norm(x, shape_arg, weight, bias)
    assert_close(got, expected, name=N_("layer_norm output"), hint=LN_SHAPE_HINT if len(norm) > 1 else LN_HINT)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "eps", "torch")
@pytest.mark.parametrize("eps", [1e-5, 0.1, 1.0])
def test_layer_norm_eps_and_biased_variance(student, eps):
    """2.3 layer_norm uses the biased variance and eps inside the square root"""
    x = randn((6, 4), 31, torch.float64, scale=0.7)          # short rows: N vs N - 1 matters
    expected = F.layer_norm(x, (4,), eps=eps)
    assert_close(student.layer_norm(x, (4,), eps=eps), expected, name=N_("layer_norm output (eps={eps:g})").format(
        eps=eps),
                 hint=LN_EPS_HINT)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "normalized_shape", "torch")
@pytest.mark.parametrize("norm", [(3, 5), (2, 3, 4)], ids=["2 dims", "3 dims"])
def test_layer_norm_several_dims(student, norm):
    """2.3 layer_norm normalises over all the dims of normalized_shape together"""
    x = randn((2,) + norm, 33, torch.float64)
    x = x + randn((2,) + norm[:1] + (1,) * (len(norm) - 1), 34, torch.float64, scale=3.0)   # per-row offsets
    weight, bias = randn(norm, 35), randn(norm, 36)
    assert_close(student.layer_norm(x, norm, weight, bias), F.layer_norm(x, norm, weight, bias),
                 name=N_("layer_norm output (normalized_shape={norm})").format(norm=norm), hint=LN_SHAPE_HINT)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("stability", "float32")
@pytest.mark.parametrize("offset", [100.0, 1000.0])
def test_layer_norm_large_offset_float32(student, offset):
    """2.3 layer_norm stays accurate in float32 when the mean is large (x = offset + noise)"""
    x64 = offset + randn((8, 16, 32), 37, torch.float64, scale=3.0)
    x = x64.to(torch.float32)
    weight, bias = randn((32,), 38, torch.float32), randn((32,), 39, torch.float32)
    # the float64 result of the same float32 inputs; the input rounding itself (|x| ~ 1e3 carries
    # ~6e-5 absolute error, i.e. ~2e-5 after dividing by the std of 3) and float32 accumulation of
    # the mean move a careful float32 result by up to ~7e-5 (measured: reference 6.4e-5, F.layer_norm
    # 5.3e-5), hence loosen=10 (1e-4 + 1e-3 |y|); mean(x^2) - mean^2 is off by 5e-3 (offset 100) to
    # 4e-2 (offset 1000)
    expected = F.layer_norm(x.double(), (32,), weight.double(), bias.double()).float()
    assert_close(student.layer_norm(x, 32, weight, bias), expected, name=N_("layer_norm output (offset {offset:g})").format(
        offset=offset),
                 hint=LN_STABLE_HINT, loosen=10)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("autograd", "torch")
@settings(max_examples=6)
@given(case=ln_cases(), seed=seeds)
def test_layer_norm_gradients(student, case, seed):
    """2.3 layer_norm gradients (input, weight, bias) equal F.layer_norm's"""
    lead, norm = case
    def leaves():
        return (randn(lead + norm, seed, torch.float64, requires_grad=True),
                randn(norm, seed + 1, torch.float64, requires_grad=True),
                randn(norm, seed + 2, torch.float64, requires_grad=True))
    tx, tw, tb = leaves()
    grad_out = randn(lead + norm, seed + 3, torch.float64)
    (F.layer_norm(tx, norm, tw, tb) * grad_out).sum().backward()
    sx, sw, sb = leaves()
    (student.layer_norm(sx, norm, sw, sb) * grad_out).sum().backward()
    for name, mine, ref in (("x", sx, tx), ("weight", sw, tw), ("bias", sb, tb)):
        assert_true(mine.grad is not None, N_("no gradient reached {name}: keep the computation differentiable.").format(
            name=name),
                    N_("use torch operations only (no .detach(), .item() or .numpy()) between the inputs and the "
                       "output"))
        assert_close(mine.grad, ref.grad, name=N_("gradient of {name}").format(name=name), hint=LN_HINT)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_layer_norm_without_torch_layer_norm(student):
    """2.3 layer_norm works without F.layer_norm / nn.LayerNorm / torch.layer_norm"""
    x = randn((4, 6, 8), 41)
    with student.forbid("layer_norm", *LN_APIS):
        got = student.layer_norm(x, (8,))
    # only the forbidden calls are judged here: a wrong value is charged by the tests above
    assert_true(isinstance(got, torch.Tensor), N_("your layer_norm did not return a tensor."), LN_HINT)


# ---------------------------------------------------------------------- 2.4 transformer_encoder_layer
@pytest.mark.task("2.4")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "torch")
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@settings(max_examples=10)
@given(case=layer_cases())
def test_encoder_layer_matches_torch(student, case, norm_first):
    """2.4 transformer_encoder_layer equals nn.TransformerEncoderLayer in eval mode (no mask)"""
    layer = torch_encoder_layer(case, norm_first)
    x = layer_input(case)
    expected = _torch_layer(layer, x)
    got = student.transformer_encoder_layer(x, layer_params(layer), case.heads, norm_first=norm_first)
    assert_close(got, expected, name=N_("encoder layer output"), hint=TEL_NORM_HINT[norm_first] + "; " + TEL_HINT)


@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "mask", "torch")
@pytest.mark.parametrize("mask_shape", ["(L, L)", "(B, L, L)"])
@settings(max_examples=8)
@given(case=layer_cases(), mseed=seeds, norm_first=st.booleans())
def test_encoder_layer_mask_matches_torch(student, case, mask_shape, mseed, norm_first):
    """2.4 transformer_encoder_layer with a keep-mask equals torch's layer with src_mask = ~mask"""
    layer = torch_encoder_layer(case, norm_first)
    x = layer_input(case)
    shape = (case.length, case.length) if mask_shape == "(L, L)" else (case.b, case.length, case.length)
    keep = keep_mask(shape, mseed, p_keep=0.5, every_row=True)     # torch gives NaN on fully masked rows
    expected = _torch_layer(layer, x, keep)
    got = student.transformer_encoder_layer(x, layer_params(layer), case.heads, mask=_keep_arg(keep),
                                            norm_first=norm_first)
    assert_close(got, expected, name=N_("masked encoder layer output"), hint=TEL_MASK_HINT + "; " + TEL_HINT)


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "eps", "torch")
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_encoder_layer_eps(student, norm_first):
    """2.4 transformer_encoder_layer passes eps to both layer norms"""
    case = LayerCase(b=2, length=5, heads=2, head_dim=2, ff=6, seed=43, dtype=torch.float64)
    layer = torch_encoder_layer(case, norm_first, eps=0.5)
    x = layer_input(case) * 0.3                              # small activations: eps = 0.5 changes a lot
    expected = _torch_layer(layer, x)
    got = student.transformer_encoder_layer(x, layer_params(layer), case.heads, norm_first=norm_first, eps=0.5)
    assert_close(got, expected, name=N_("encoder layer output with eps=0.5"),
                 hint=N_("use eps in both layer norms (LN1 and LN2): (x - mean) / sqrt(var + eps)"))


@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "masked")
@settings(max_examples=6)
@given(case=layer_cases(dtypes=(torch.float64,)), mseed=seeds, norm_first=st.booleans())
def test_encoder_layer_fully_masked_rows(student, reference, case, mseed, norm_first):
    """2.4 transformer_encoder_layer: a fully masked query row gives finite values (zero attention), not NaN"""
    layer = torch_encoder_layer(case, norm_first)
    x = layer_input(case)
    keep = keep_mask((case.b, case.length, case.length), mseed, p_keep=0.5, every_row=False)
    keep[0, 0] = False                                       # the first position of sequence 0 sees nothing
    params = layer_params(layer)
    expected = reference.transformer_encoder_layer(x, params, case.heads, mask=keep, norm_first=norm_first)
    got = student.transformer_encoder_layer(x, params, case.heads, mask=_keep_arg(keep), norm_first=norm_first)
    assert_close(got, expected, name=N_("encoder layer output with fully masked rows"),
                 hint=N_("a query row with nothing to attend gets zero attention weights, so its attention output "
                         "is the out_proj bias (never NaN): reuse your multi_head_attention; ") + TEL_HINT)


# No autograd test for 2.4: when grading, the tests of 2.4 run with the reference's layer_norm,
# multi_head_attention and scaled_dot_product_attention substituted for the student's (2.4
# declares them in ``calls``, so a bug there is charged once), and no gradient flows through
# such a call-back.  The gradients of those pieces are graded in their own tasks (2.1, 2.3).


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_encoder_layer_without_torch_layers(student):
    """2.4 transformer_encoder_layer works without nn.TransformerEncoderLayer / nn.MultiheadAttention / F.sdpa"""
    case = LayerCase(b=2, length=4, heads=2, head_dim=3, ff=8, seed=47, dtype=torch.float64)
    layer = torch_encoder_layer(case, False)
    x = layer_input(case)
    keep = keep_mask((case.length, case.length), 48)
    with student.forbid("transformer_encoder_layer", *TEL_APIS):
        got = student.transformer_encoder_layer(x, layer_params(layer), case.heads, mask=_keep_arg(keep))
    # only the forbidden calls are judged here: a wrong value is charged by the tests above
    assert_true(isinstance(got, torch.Tensor), N_("your transformer_encoder_layer did not return a tensor."), TEL_HINT)
