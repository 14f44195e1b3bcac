"""The a3_attention reference checked against torch, and the stub checked to be a stub.

Independent of the hidden suite: expected values come from torch
(F.scaled_dot_product_attention, nn.MultiheadAttention and their gradients), from
closed forms (positional encoding, causal mask) and from exact probabilities
(sampling, BERT masking).
"""
import inspect
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder import ROOT
from shared.adapter import forbidden, load_module

REFERENCE = load_module(ROOT / "solutions" / "a3_attention" / "a3_attention.py", "_a3_reference_under_test")
STUB = load_module(ROOT / "assignments" / "a3_attention" / "a3_attention.py", "_a3_stub_under_test")
TASKS = {"scaled_dot_product_attention": "1.1", "causal_mask": "1.2", "multi_head_attention": "2.1",
         "sinusoidal_positional_encoding": "2.2", "mask_tokens": "3.1", "sample_next_token": "3.2"}
FORBIDDEN = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention.forward",
             "torch.nn.functional.multi_head_attention_forward")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: thread start-up costs more than the work (the machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def _mha(e, h, seed, bias=True):
    torch.manual_seed(seed)
    m = torch.nn.MultiheadAttention(e, h, bias=bias, batch_first=True).double()
    if bias:
        with torch.no_grad():
            m.in_proj_bias.normal_()
            m.out_proj.bias.normal_()
    return m


# ---- stub and signatures -------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(TASKS))
def test_stub_raises_not_implemented_with_task(name):
    fn = getattr(STUB, name)
    params = inspect.signature(fn).parameters
    args = [None] * sum(p.default is inspect.Parameter.empty for p in params.values())
    with pytest.raises(NotImplementedError) as info:
        fn(*args)
    assert str(info.value).startswith("Task"), str(info.value)
    assert str(info.value) == f"Task {TASKS[name]}: {name}"
    assert fn.__doc__ and "Args:" in fn.__doc__ and "Returns:" in fn.__doc__


@pytest.mark.parametrize("name", list(TASKS))
def test_reference_and_stub_share_signatures(name):
    assert inspect.signature(getattr(REFERENCE, name)) == inspect.signature(getattr(STUB, name))


def test_task_numbers_match_the_hidden_suite():
    suite = ROOT / "autograder" / "suites" / "a3_attention"
    text = "".join(p.read_text() for p in suite.glob("test_*.py"))
    for task in TASKS.values():
        assert f'@pytest.mark.task("{task}")' in text


# ---- scaled_dot_product_attention ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape_q,shape_k,mask_shape", [
    ((5, 4), (7, 4), None),
    ((2, 3, 5, 4), (2, 3, 7, 4), (5, 7)),
    ((2, 3, 5, 4), (2, 3, 7, 4), (2, 1, 5, 7)),
    ((2, 3, 5, 4), (2, 3, 7, 4), (7,)),
    ((3, 1, 8), (3, 9, 8), (3, 1, 9)),
])
def test_reference_sdpa_matches_torch(dtype, shape_q, shape_k, mask_shape):
    g = gen(0)
    q = torch.randn(shape_q, generator=g, dtype=dtype)
    k = torch.randn(shape_k, generator=g, dtype=dtype)
    v = torch.randn(shape_k[:-1] + (3,), generator=g, dtype=dtype)
    mask = None
    if mask_shape is not None:
        mask = torch.rand(mask_shape, generator=g) < 0.6
        mask[..., 0] = True                             # torch's behaviour on empty rows is not our spec
    scores_shape = torch.broadcast_shapes(shape_q[:-1] + (shape_k[-2],), (mask.shape if mask is not None else ()))
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else mask.expand(scores_shape))
    with forbidden(FORBIDDEN, "scaled_dot_product_attention"):
        out, w = REFERENCE.scaled_dot_product_attention(q, k, v, mask)
        out01, _ = REFERENCE.scaled_dot_product_attention(q, k, v, None if mask is None else mask.to(dtype))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(out, expected, **tol)
    torch.testing.assert_close(out01, expected, **tol)
    torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)), **tol)
    assert out.dtype == dtype and w.dtype == dtype


def test_reference_sdpa_gradients_match_torch():
    g = gen(1)
    q, k, v = (torch.randn(2, 3, s, 4, generator=g, dtype=torch.float64) for s in (5, 6, 6))
    mask = torch.rand(5, 6, generator=g) < 0.5
    mask[:, 2] = True
    grads = []
    for fn in (lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask),
               lambda a, b, c: REFERENCE.scaled_dot_product_attention(a, b, c, mask)[0]):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        fn(*leaves).pow(2).sum().backward()
        grads.append([t.grad for t in leaves])
    for mine, theirs in zip(*grads):
        torch.testing.assert_close(mine, theirs)


def test_reference_sdpa_fully_masked_rows_are_zero_and_finite():
    g = gen(2)
    q, k, v = (torch.randn(2, s, 4, generator=g, dtype=torch.float64, requires_grad=True) for s in (3, 5, 5))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    out, w = REFERENCE.scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(out[:, 1], torch.zeros_like(out[:, 1])) and torch.equal(w[:, 1], torch.zeros_like(w[:, 1]))
    (out.sum() + (w * torch.arange(5.0, dtype=torch.float64)).sum()).backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
    assert torch.equal(q.grad[:, 1], torch.zeros_like(q.grad[:, 1]))


# ---- causal_mask -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lq,lk", [(1, 1), (4, 4), (3, 6), (6, 3)])
def test_reference_causal_mask_is_torch_is_causal(lq, lk):
    mask = REFERENCE.causal_mask(lq, lk)
    assert mask.dtype == torch.bool and mask.shape == (lq, lk)
    assert torch.equal(mask, torch.ones(lq, lk, dtype=torch.bool).tril())
    g = gen(3)
    q, k, v = torch.randn(2, lq, 4, generator=g), torch.randn(2, lk, 4, generator=g), torch.randn(2, lk, 2, generator=g)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.equal(REFERENCE.causal_mask(lq), torch.ones(lq, lq, dtype=torch.bool).tril())


# ---- multi_head_attention ------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mask_kind", [None, "2d", "3d"])
def test_reference_mha_matches_torch_outputs_and_gradients(bias, mask_kind):
    B, Lq, Lk, E, H = 3, 4, 6, 12, 3
    mha = _mha(E, H, 4, bias)
    g = gen(5)
    query = torch.randn(B, Lq, E, generator=g, dtype=torch.float64, requires_grad=True)
    key = torch.randn(B, Lk, E, generator=g, dtype=torch.float64, requires_grad=True)
    value = torch.randn(B, Lk, E, generator=g, dtype=torch.float64, requires_grad=True)
    keep, attn_mask = None, None
    if mask_kind:
        keep = torch.rand((Lq, Lk) if mask_kind == "2d" else (B, Lq, Lk), generator=g) < 0.5
        keep[..., 0] = True
        attn_mask = ~keep if mask_kind == "2d" else (~keep).repeat_interleave(H, 0)
    t_out, t_w = mha(query, key, value, attn_mask=attn_mask)
    (t_out.sum() + t_w.pow(2).sum()).backward()
    t_grads = [t.grad.clone() for t in (query, key, value)]
    t_pgrads = [p.grad.clone() for p in (mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight,
                                         mha.out_proj.bias) if p is not None]
    for t in (query, key, value):
        t.grad = None
    params = [None if p is None else p.detach().clone().requires_grad_()
              for p in (mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias)]
    with forbidden(FORBIDDEN, "multi_head_attention"):
        out, w = REFERENCE.multi_head_attention(query, key, value, H, *params, mask=keep)
    (out.sum() + w.pow(2).sum()).backward()
    torch.testing.assert_close(out, t_out)
    torch.testing.assert_close(w, t_w)
    for mine, theirs in zip([t.grad for t in (query, key, value)], t_grads):
        torch.testing.assert_close(mine, theirs)
    for mine, theirs in zip([p.grad for p in params if p is not None], t_pgrads):
        torch.testing.assert_close(mine, theirs)


# ---- sinusoidal_positional_encoding ------------------------------------------------------------------
@pytest.mark.parametrize("length,d_model", [(1, 1), (10, 4), (50, 7), (33, 64)])
def test_reference_positional_encoding_closed_form(length, d_model):
    pe = REFERENCE.sinusoidal_positional_encoding(length, d_model)
    assert pe.dtype == torch.float32 and pe.shape == (length, d_model)
    for pos in range(length):
        for j in range(d_model):
            angle = pos / 10000 ** (2 * (j // 2) / d_model)
            value = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(pe[pos, j].item() - value) < 1e-6


# ---- mask_tokens --------------------------------------------------------------------------------------
def test_reference_mask_tokens_statistics_and_contract():
    V, MASK = 500, 3
    g = gen(6)
    tokens = torch.randint(5, V, (300, 400), generator=g)
    tokens[:, 0] = 1
    inputs, labels = REFERENCE.mask_tokens(tokens, V, MASK, gen(7), special_token_ids=(1,))
    chosen = labels != -100
    n = int((tokens != 1).sum())
    c = int(chosen.sum())
    assert abs(c - 0.15 * n) < 5 * math.sqrt(n * 0.15 * 0.85)
    assert not chosen[:, 0].any()
    assert torch.equal(labels[chosen], tokens[chosen]) and torch.equal(inputs[~chosen], tokens[~chosen])
    got, orig = inputs[chosen], tokens[chosen]
    for share, p in (((got == MASK).sum(), 0.8 + 0.1 / V), ((got == orig).sum(), 0.1 + 0.1 / V)):
        assert abs(int(share) - c * p) < 5 * math.sqrt(c * p * (1 - p))
    again = REFERENCE.mask_tokens(tokens, V, MASK, gen(7), special_token_ids=(1,))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)
    assert inputs.dtype == tokens.dtype and labels.dtype == torch.int64


# ---- sample_next_token ----------------------------------------------------------------------------------
def _exact(logits, temperature, top_k, top_p):
    z = logits.double() / temperature
    if top_k is not None:
        z[z < z.topk(top_k).values[-1]] = -math.inf
    p = torch.softmax(z, -1)
    if top_p is not None:
        order = torch.argsort(p, descending=True)
        cum = torch.cumsum(p[order], 0)
        n_keep = int((cum < top_p).sum()) + 1
        keep = torch.zeros_like(p, dtype=torch.bool)
        keep[order[:n_keep]] = True
        p = torch.where(keep, p, 0.0)
        p = p / p.sum()
    return p


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, None, None), (0.6, None, None), (1.0, 3, None),
                                                     (1.0, None, 0.75), (1.4, 5, 0.85)])
def test_reference_sampling_distribution(temperature, top_k, top_p):
    logits = torch.tensor([2.0, 1.2, 0.9, 0.1, -0.3, -1.0, 0.5, 1.7])
    n = 20000
    ids = REFERENCE.sample_next_token(logits.repeat(n, 1), gen(8), temperature=temperature, top_k=top_k, top_p=top_p)
    assert ids.dtype == torch.int64 and ids.shape == (n,)
    p = _exact(logits, temperature, top_k, top_p).numpy()
    counts = np.bincount(ids.numpy(), minlength=len(logits))
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= 5 * sd + 1e-9)
    assert np.all(counts[p == 0] == 0)


def test_reference_sampling_edge_cases():
    logits = torch.randn(50, 20, generator=gen(9))
    assert torch.equal(REFERENCE.sample_next_token(logits, gen(1), temperature=0), logits.argmax(-1))
    assert torch.equal(REFERENCE.sample_next_token(logits, gen(1), top_p=1e-9), logits.argmax(-1))
    assert torch.equal(REFERENCE.sample_next_token(logits, gen(1), top_k=1), logits.argmax(-1))
    assert torch.equal(REFERENCE.sample_next_token(logits, gen(2)), REFERENCE.sample_next_token(logits, gen(2)))
