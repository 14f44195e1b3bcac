"""Hidden tests, part 2: multi-head attention (2.1) and sinusoidal positional encoding (2.2)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a3_attention.strategies import assignment_threads  # noqa: F401  (autouse fixture)
from autograder.suites.a3_attention.strategies import (keep_mask, mha_cases, mha_inputs, mha_params,
                                                       torch_mha)
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import randn, seeds
from shared.tolerances import tolerance
from shared.i18n import N_


MHA_HINT = (N_("multi-head attention: in_proj_weight stacks [W_q; W_k; W_v] (rows 0:E, E:2E, 2E:3E); project, "
               "split E into H heads of size E/H ((B, L, E) -> (B, H, L, E/H)), attend per head with softmax(QK^T "
               "/ sqrt(E/H)) V in one batched call, concatenate the heads back to (B, L, E) and apply out_proj; "
               "the returned weights are averaged over the heads"))
MHA_MASK_HINT = (N_("mask: here True/1 = may attend (the opposite of nn.MultiheadAttention's attn_mask); a (Lq, "
                    "Lk) mask is shared by the whole batch, a (B, Lq, Lk) mask is per batch item, and both are "
                    "broadcast over the heads (insert a head axis)"))
MHA_APIS = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention.forward",
            "torch.nn.functional.multi_head_attention_forward")
PE_HINT = (N_("positional encoding: PE[pos, 2i] = sin(pos * 10000^(-2i/d_model)) in the even columns and PE[pos, "
              "2i+1] = cos(pos * 10000^(-2i/d_model)) in the odd columns (i = column // 2; the exponent uses 2i, "
              "not the column index); for odd d_model the last column is a sin column"))


def _torch_mha(mha, query, key, value, keep=None):
    """nn.MultiheadAttention with this assignment's keep-mask converted to its convention."""
    attn_mask = None
    if keep is not None:
        attn_mask = ~keep.bool()                        # torch: True = NOT allowed
        if attn_mask.dim() == 3:                        # torch wants (B * H, Lq, Lk)
            attn_mask = attn_mask.repeat_interleave(mha.num_heads, dim=0)
    return mha(query, key, value, attn_mask=attn_mask, need_weights=True, average_attn_weights=True)


# ---------------------------------------------------------------------- 2.1 MHA
@pytest.mark.task("2.1")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=10)
@given(case=mha_cases())
def test_mha_matches_torch(student, case):
    """2.1 multi_head_attention equals nn.MultiheadAttention(batch_first=True) (no mask)"""
    mha = torch_mha(case)
    query, key, value = mha_inputs(case)
    with torch.no_grad():
        expected = _torch_mha(mha, query, key, value)
    got = student.multi_head_attention(query, key, value, case.heads, *mha_params(mha))
    assert_close(got[1], expected[1], name=N_("attention weights (averaged over heads)"), hint=MHA_HINT)
    assert_close(got[0], expected[0], name=N_("multi-head attention output"), hint=MHA_HINT)


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "mask", "torch")
@pytest.mark.parametrize("mask_shape", ["(Lq, Lk)", "(B, Lq, Lk)"])
@settings(max_examples=8)
@given(case=mha_cases(), mseed=seeds, as_int=st.booleans())
def test_mha_mask_matches_torch(student, case, mask_shape, mseed, as_int):
    """2.1 multi_head_attention with a keep-mask equals nn.MultiheadAttention with ~mask"""
    mha = torch_mha(case)
    query, key, value = mha_inputs(case)
    shape = (case.lq, case.lk) if mask_shape == "(Lq, Lk)" else (case.b, case.lq, case.lk)
    keep = keep_mask(shape, mseed, every_row=True)     # nn.MultiheadAttention gives NaN on fully masked rows
    with torch.no_grad():
        expected = _torch_mha(mha, query, key, value, keep)
    got = student.multi_head_attention(query, key, value, case.heads, *mha_params(mha),
                                       mask=keep.to(torch.int64) if as_int else keep)
    assert_close(got[0], expected[0], name=N_("masked multi-head attention output"), hint=MHA_MASK_HINT)
    assert_close(got[1], expected[1], name=N_("masked attention weights (averaged over heads)"), hint=MHA_MASK_HINT)


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "masked")
@settings(max_examples=8)
@given(case=mha_cases(), mseed=seeds)
def test_mha_matches_reference_fully_masked(student, reference, case, mseed):
    """2.1 multi_head_attention matches the reference, also with fully masked rows (no NaN)"""
    mha = torch_mha(case)
    query, key, value = mha_inputs(case)
    keep = keep_mask((case.b, case.lq, case.lk), mseed, p_keep=0.4, every_row=False)
    keep[0, 0] = False                                  # at least one fully masked row
    expected = reference.multi_head_attention(query, key, value, case.heads, *mha_params(mha), mask=keep)
    got = student.multi_head_attention(query, key, value, case.heads, *mha_params(mha), mask=keep)
    hint = MHA_MASK_HINT + (N_("; a fully masked row must give zero attention (then out_proj's bias), not NaN: "
                               "reuse your scaled_dot_product_attention"))
    assert_close(got[1], expected[1], name=N_("attention weights (averaged over heads)"), hint=hint)
    assert_close(got[0], expected[0], name=N_("multi-head attention output"), hint=hint)


@pytest.mark.task("2.1")
@pytest.mark.points(3)
@pytest.mark.tags("autograd", "torch")
@settings(max_examples=6)
@given(case=mha_cases(dtypes=(torch.float64,)), mseed=seeds, masked=st.booleans())
def test_mha_gradients_match_torch(student, case, mseed, masked):
    """2.1 multi_head_attention gradients (inputs and projection weights) equal torch's"""
    mha = torch_mha(case)
    keep = keep_mask((case.lq, case.lk), mseed, every_row=True) if masked else None
    t_in = mha_inputs(case, requires_grad=True)
    t_out, t_w = _torch_mha(mha, *t_in, keep)
    g_out = randn(t_out.shape, mseed + 1, case.dtype)
    g_w = randn(t_w.shape, mseed + 2, case.dtype)
    ((t_out * g_out).sum() + (t_w * g_w).sum()).backward()
    s_in = mha_inputs(case, requires_grad=True)
    params = mha_params(mha, requires_grad=True)
    out, w = student.multi_head_attention(*s_in, case.heads, *params, mask=keep)
    ((out * g_out).sum() + (w * g_w).sum()).backward()
    names = ("query", "key", "value", "in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias")
    t_params = (mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias)
    for name, mine, ref in zip(names, s_in + params, t_in + t_params):
        if ref is None:
            continue
        assert_true(mine.grad is not None, N_("no gradient reached {name}: keep the computation differentiable.").format(
            name=name),
                    N_("use torch operations only (no .detach(), .item() or .numpy(), no new tensors built from "
                       ".data) on the path from the inputs and weights to the output"))
        assert_close(mine.grad, ref.grad, name=N_("gradient of {name}").format(name=name), hint=MHA_HINT)


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("forbidden-api")
def test_mha_without_torch_mha(student, reference):
    """2.1 multi_head_attention works without nn.MultiheadAttention / F.scaled_dot_product_attention"""
    from autograder.suites.a3_attention.strategies import MhaCase
    case = MhaCase(b=2, lq=4, lk=5, heads=2, head_dim=3, bias=True, seed=17, dtype=torch.float64)
    mha = torch_mha(case)
    query, key, value = mha_inputs(case)
    keep = keep_mask((case.lq, case.lk), 18)
    with student.forbid("multi_head_attention", *MHA_APIS):
        got = student.multi_head_attention(query, key, value, case.heads, *mha_params(mha), mask=keep)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.multi_head_attention(query, key, value, case.heads, *mha_params(mha), mask=keep), name='multi-head attention (output, weights)')


# ---------------------------------------------------------------------- 2.2 PE
def _pe_closed_form(length: int, d_model: int) -> torch.Tensor:
    pe = np.zeros((length, d_model))
    for j in range(d_model):
        i = j // 2
        angle = np.arange(length) * 10000.0 ** (-2 * i / d_model)
        pe[:, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return torch.from_numpy(pe).to(torch.get_default_dtype())


@pytest.mark.task("2.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "positional")
@settings(max_examples=12)
@given(length=st.integers(1, 100), d_model=st.integers(1, 48))
def test_positional_encoding_closed_form(student, length, d_model):
    """2.2 sinusoidal_positional_encoding equals the closed form (even and odd d_model)"""
    expected = _pe_closed_form(length, d_model)
    # float32 angles pos * w (pos < 100) carry ~1e-5 absolute rounding before sin/cos
    assert_close(student.sinusoidal_positional_encoding(length, d_model), expected,
                 name=N_("positional encoding"), hint=PE_HINT, loosen=10)


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("edge-case", "positional", "odd d_model")
@pytest.mark.parametrize("d_model", [1, 3, 7, 15])
def test_positional_encoding_odd_d_model(student, d_model):
    """2.2 sinusoidal_positional_encoding handles an odd d_model (last column sin)"""
    pe = student.sinusoidal_positional_encoding(12, d_model)
    expected = _pe_closed_form(12, d_model)
    assert_true(isinstance(pe, torch.Tensor) and tuple(pe.shape) == (12, d_model),
                N_("your positional encoding does not have shape (length, d_model) for an odd d_model."), PE_HINT)
    assert_close(pe[:, -1], expected[:, -1], name=N_("last column of the positional encoding (odd d_model)"),
                 hint=PE_HINT, loosen=10)       # float32 rounding of the angles, as above
    assert_close(pe, expected, name=N_("positional encoding"), hint=PE_HINT, loosen=10)


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "positional")
def test_positional_encoding_relative_shift(student):
    """2.2 positional encoding: PE[pos + k] is a fixed rotation of PE[pos] in each (sin, cos) pair"""
    d_model, k = 16, 5
    pe = student.sinusoidal_positional_encoding(40, d_model).to(torch.float64)
    w = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    s, c = pe[:-k, 0::2], pe[:-k, 1::2]
    shifted_sin = s * torch.cos(k * w) + c * torch.sin(k * w)   # sin(a + b) = sin a cos b + cos a sin b
    shifted_cos = c * torch.cos(k * w) - s * torch.sin(k * w)
    expected = torch.stack([shifted_sin, shifted_cos], dim=-1).reshape(-1, d_model)
    assert_close(pe[k:], expected, name=N_("shifted positional encoding"), hint=PE_HINT,
                 tol=tolerance(torch.float32), loosen=10)   # float32 result and float32 angle rounding
    assert_close(pe[0], torch.tensor([0.0, 1.0] * (d_model // 2), dtype=torch.float64),
                 name=N_("positional encoding at position 0"), hint=PE_HINT)
