"""Hidden tests, part 1: scaled dot-product attention (1.1) and the causal mask (1.2)."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import attention_cases, keep_mask, qkv
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import randn, seeds
from shared.i18n import N_


FORMULA_HINT = (N_("Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V: scale the scores by 1/sqrt(d_k) (d_k = "
                   "q.shape[-1]) and take the softmax over the key axis (the last one), so each weights row sums "
                   "to 1"))
MASK_HINT = (N_("mask convention: True/1 = may attend, False/0 = masked; give masked scores -inf before the "
                "softmax (a 0/1 mask means the same as mask.bool()), and broadcast the mask against the (..., Lq, "
                "Lk) scores"))
FULLY_MASKED_HINT = (N_("a fully masked row (its mask is False for every key) has nothing to attend to: its "
                        "weights and output must be zeros, not NaN (softmax of a row of -inf is 0/0); detect such "
                        "rows with mask.any(-1) and avoid dividing by zero"))
SDPA_APIS = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention.forward",
             "torch.nn.functional.multi_head_attention_forward")


def _attended_rows(mask: torch.Tensor, scores_shape) -> torch.Tensor:
    """Bool (..., Lq): rows with at least one key to attend to."""
    return mask.bool().expand(scores_shape).any(-1)


# ---------------------------------------------------------------------- 1.1 sdpa
@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "attention")
@settings(max_examples=12)
@given(case=attention_cases())
def test_sdpa_matches_reference(student, reference, case):
    """1.1 scaled_dot_product_attention matches the reference (no mask, random shapes)"""
    q, k, v = qkv(case)
    expected = reference.scaled_dot_product_attention(q, k, v)
    out, weights = student.scaled_dot_product_attention(q, k, v)
    assert_close(weights, expected[1], name=N_("attention weights"), hint=FORMULA_HINT)
    assert_close(out, expected[0], name=N_("attention output"), hint=FORMULA_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "attention", "torch")
@settings(max_examples=10)
@given(case=attention_cases())
def test_sdpa_matches_torch_no_mask(student, case):
    """1.1 scaled_dot_product_attention output equals F.scaled_dot_product_attention"""
    q, k, v = qkv(case)
    expected = F.scaled_dot_product_attention(q, k, v)
    out, weights = student.scaled_dot_product_attention(q, k, v)
    assert_close(out, expected, name=N_("attention output"), hint=FORMULA_HINT)
    assert_close(weights.sum(-1), torch.ones(weights.shape[:-1], dtype=q.dtype), name=N_("sum of each weights row"),
                 hint=N_("the softmax runs over the key axis (dim=-1), so every weights row sums to 1"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "mask", "torch")
@pytest.mark.parametrize("mask_kind", ["bool", "int 0/1", "float 0/1"])
@settings(max_examples=8)
@given(case=attention_cases(), mseed=seeds)
def test_sdpa_mask_matches_torch(student, reference, case, mask_kind, mseed):
    """1.1 scaled_dot_product_attention with a full-shape mask (bool or 0/1) equals torch"""
    q, k, v = qkv(case)
    mask = keep_mask(case.batch + (case.lq, case.lk), mseed, every_row=True)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    expected_w = reference.scaled_dot_product_attention(q, k, v, mask)[1]
    given_mask = {"bool": mask, "int 0/1": mask.to(torch.int64), "float 0/1": mask.to(q.dtype)}[mask_kind]
    out, weights = student.scaled_dot_product_attention(q, k, v, given_mask)
    assert_close(out, expected, name=N_("masked attention output"), hint=MASK_HINT)
    assert_close(weights, expected_w, name=N_("masked attention weights"), hint=MASK_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "mask", "broadcast", "torch")
@pytest.mark.parametrize("mask_shape", ["(Lq, Lk)", "(Lk,)", "(1, Lk)", "(B, 1, Lq, Lk)", "(1, H, 1, Lk)"])
@settings(max_examples=6)
@given(seed=seeds, lq=st.integers(1, 5), lk=st.integers(1, 6), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_sdpa_broadcast_mask(student, mask_shape, seed, lq, lk, dtype):
    """1.1 scaled_dot_product_attention broadcasts the mask over batch and heads"""
    B, H, d = 2, 3, 4
    q = randn((B, H, lq, d), seed, dtype)
    k = randn((B, H, lk, d), seed + 1, dtype)
    v = randn((B, H, lk, 5), seed + 2, dtype)
    shape = {"(Lq, Lk)": (lq, lk), "(Lk,)": (lk,), "(1, Lk)": (1, lk), "(B, 1, Lq, Lk)": (B, 1, lq, lk),
             "(1, H, 1, Lk)": (1, H, 1, lk)}[mask_shape]
    mask = keep_mask(shape, seed + 3, every_row=True)
    allowed = mask.expand(B, H, lq, lk)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    out, weights = student.scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, expected, name=N_("attention output with a broadcast mask"), hint=MASK_HINT)
    assert_true(bool((weights.detach()[~allowed] == 0).all()),
                N_("your attention weights are not zero at masked positions (mask False/0)."), MASK_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "causal", "torch")
@settings(max_examples=8)
@given(seed=seeds, lq=st.integers(1, 7), lk=st.integers(1, 7), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_sdpa_causal_matches_torch(student, seed, lq, lk, dtype):
    """1.1 scaled_dot_product_attention with a causal mask equals torch's is_causal=True"""
    q = randn((2, lq, 4), seed, dtype)
    k = randn((2, lk, 4), seed + 1, dtype)
    v = randn((2, lk, 3), seed + 2, dtype)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    rows = torch.arange(lq).unsqueeze(1)
    cols = torch.arange(lk).unsqueeze(0)
    mask = cols <= rows                                 # closed form, top-left aligned
    out, _ = student.scaled_dot_product_attention(q, k, v, mask)
    assert_close(out, expected, name=N_("causally masked attention output"), hint=MASK_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(3)
@pytest.mark.tags("edge-case", "masked", "NaN")
@settings(max_examples=8)
@given(case=attention_cases(dtypes=(torch.float64,)), mseed=seeds)
def test_sdpa_fully_masked_rows(student, reference, case, mseed):
    """1.1 a fully masked row gives zeros (output, weights) and finite gradients, never NaN"""
    mask = keep_mask(case.batch + (case.lq, case.lk), mseed, every_row=True)
    mask[..., 0, :] = False                              # the first query row has nothing to attend to
    q, k, v = qkv(case, requires_grad=True)
    rq, rk, rv = qkv(case, requires_grad=True)
    r_out, r_w = reference.scaled_dot_product_attention(rq, rk, rv, mask)
    g_out = randn(r_out.shape, mseed + 1, case.dtype)
    g_w = randn(r_w.shape, mseed + 2, case.dtype)
    ((r_out * g_out).sum() + (r_w * g_w).sum()).backward()
    out, weights = student.scaled_dot_product_attention(q, k, v, mask)
    assert_true(not bool(torch.isnan(out.detach()).any() or torch.isnan(weights.detach()).any()),
                N_("your attention output or weights contain NaN for a fully masked row."), FULLY_MASKED_HINT)
    assert_close(weights.detach()[..., 0, :], torch.zeros_like(r_w[..., 0, :]),
                 name=N_("weights of a fully masked row"), hint=FULLY_MASKED_HINT)
    assert_close(out.detach()[..., 0, :], torch.zeros_like(r_out[..., 0, :]),
                 name=N_("output of a fully masked row"), hint=FULLY_MASKED_HINT)
    assert_close(out, r_out.detach(), name=N_("attention output"), hint=FULLY_MASKED_HINT)
    ((out * g_out).sum() + (weights * g_w).sum()).backward()
    for name, mine, ref in (("q", q, rq), ("k", k, rk), ("v", v, rv)):
        assert_true(mine.grad is not None, N_("no gradient reached {name}: keep the computation differentiable.").format(
            name=name),
                    N_("use torch operations only (no .detach(), .item() or .numpy()) on the path from q, k, v"))
        assert_close(mine.grad, ref.grad, name=N_("gradient of {name} with a fully masked row").format(name=name),
                     hint=FULLY_MASKED_HINT + N_("; torch.where / masked_fill keep gradients finite"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("autograd", "torch")
@settings(max_examples=8)
@given(case=attention_cases(dtypes=(torch.float64,)), mseed=seeds, masked=st.booleans())
def test_sdpa_gradients_match_torch(student, reference, case, mseed, masked):
    """1.1 scaled_dot_product_attention gradients equal torch's (with and without a mask)"""
    mask = keep_mask(case.batch + (case.lq, case.lk), mseed, every_row=True) if masked else None
    tq, tk, tv = qkv(case, requires_grad=True)
    t_out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask)
    g_out = randn(t_out.shape, mseed + 1, case.dtype)
    (t_out * g_out).sum().backward()
    q, k, v = qkv(case, requires_grad=True)
    out, _ = student.scaled_dot_product_attention(q, k, v, mask)
    (out * g_out).sum().backward()
    hint = FORMULA_HINT + N_("; build it from differentiable torch operations")
    for name, mine, ref in (("q", q, tq), ("k", k, tk), ("v", v, tv)):
        assert_true(mine.grad is not None, N_("no gradient reached {name}: keep the computation differentiable.").format(
            name=name),
                    N_("use torch operations only (no .detach(), .item() or .numpy()) on the path from q, k, v"))
        assert_close(mine.grad, ref.grad, name=N_("gradient of {name}").format(name=name), hint=hint)
    # the weights are differentiable too: compare with the reference through them
    rq, rk, rv = qkv(case, requires_grad=True)
    q2, k2, v2 = qkv(case, requires_grad=True)
    r_w = reference.scaled_dot_product_attention(rq, rk, rv, mask)[1]
    g_w = randn(r_w.shape, mseed + 2, case.dtype)
    (r_w * g_w).sum().backward()
    (student.scaled_dot_product_attention(q2, k2, v2, mask)[1] * g_w).sum().backward()
    for name, mine, ref in (("q", q2, rq), ("k", k2, rk)):
        assert_close(mine.grad, ref.grad, name=N_("gradient of {name} through the weights").format(
            name=name), hint=hint)


@pytest.mark.task("1.1")
@pytest.mark.points(1)
@pytest.mark.tags("stability", "softmax")
@pytest.mark.parametrize("scale", [30.0, 300.0])
def test_sdpa_large_scores_stable(student, scale):
    """1.1 scaled_dot_product_attention is stable for large scores (no overflow in the softmax)"""
    q = randn((2, 5, 8), 31, torch.float32, scale=scale)
    k = randn((2, 6, 8), 32, torch.float32, scale=scale)
    v = randn((2, 6, 3), 33, torch.float32)
    expected = F.scaled_dot_product_attention(q.double(), k.double(), v.double()).float()
    out, _ = student.scaled_dot_product_attention(q, k, v)
    # float32 scores of size ~1e5 round at ~1e-2 absolute before the softmax: looser bound
    assert_close(out, expected, name=N_("attention output for large scores"), loosen=100,
                 hint=N_("softmax: subtract the row maximum before exp (torch.softmax does), or exp overflows"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("forbidden-api")
def test_sdpa_without_torch_attention(student, reference):
    """1.1 scaled_dot_product_attention works without F.scaled_dot_product_attention"""
    q = randn((2, 3, 4, 5), 1, torch.float64)
    k = randn((2, 3, 6, 5), 2, torch.float64)
    v = randn((2, 3, 6, 2), 3, torch.float64)
    mask = keep_mask((4, 6), 4)
    with student.forbid("scaled_dot_product_attention", *SDPA_APIS):
        got = student.scaled_dot_product_attention(q, k, v, mask)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.scaled_dot_product_attention(q, k, v, mask), name='attention (output, weights)')


# ---------------------------------------------------------------------- 1.2 causal_mask
@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "causal")
@settings(max_examples=10)
@given(lq=st.integers(1, 9), lk=st.one_of(st.none(), st.integers(1, 9)))
def test_causal_mask_closed_form(student, lq, lk):
    """1.2 causal_mask is a bool (Lq, Lk) mask, True where key j <= query i (top-left aligned)"""
    width = lq if lk is None else lk
    expected = torch.arange(width).unsqueeze(0) <= torch.arange(lq).unsqueeze(1)
    got = student.causal_mask(lq) if lk is None else student.causal_mask(lq, lk)
    assert_close(got, expected, name=N_("causal mask"),
                 hint=N_("causal mask: mask[i, j] = (j <= i), True on and below the diagonal, aligned at the "
                         "top-left corner also when Lq != Lk (length_k defaults to length_q); dtype torch.bool"))


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "causal", "torch")
@pytest.mark.parametrize("lq,lk", [(3, 7), (7, 3), (5, 5), (1, 4)])
def test_causal_mask_equals_torch_is_causal(student, lq, lk):
    """1.2 causal_mask gives torch's is_causal=True attention when used as attn_mask"""
    q, k, v = randn((2, lq, 4), 5), randn((2, lk, 4), 6), randn((2, lk, 3), 7)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    mask = student.causal_mask(lq, lk)
    assert_true(isinstance(mask, torch.Tensor) and mask.dtype == torch.bool and tuple(mask.shape) == (lq, lk),
                N_("your causal_mask must return a torch.bool tensor of shape (length_q, length_k)."),
                N_("causal mask: build it with torch.ones(..., dtype=torch.bool) and tril, or compare aranges"))
    assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=mask), expected,
                 name=N_("attention output with your causal mask"),
                 hint=N_("causal mask: top-left aligned, query i may attend to keys 0..i (True = may attend)"))
