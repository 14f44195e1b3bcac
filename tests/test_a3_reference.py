"""The a3_attention reference checked against torch, and the stub checked to be a stub.

Independent of the hidden suite: expected values come from torch
(F.scaled_dot_product_attention, nn.MultiheadAttention and their gradients), from
closed forms (positional encoding, causal mask) and from exact probabilities
(sampling, BERT masking).
"""
import contextlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from torch.utils._python_dispatch import TorchDispatchMode

from autograder import ROOT, registry
from shared.adapter import load_module
from shared.optrace import OpTrace

REFERENCE = load_module(ROOT / "solutions" / "a3_attention" / "a3_attention.py", "_a3_reference_under_test")
STUB = load_module(ROOT / "assignments" / "a3_attention" / "a3_attention.py", "_a3_stub_under_test")
TASKS = {"scaled_dot_product_attention": "1.1", "causal_mask": "1.2", "multi_head_attention": "2.1",
         "sinusoidal_positional_encoding": "2.2", "layer_norm": "2.3", "transformer_encoder_layer": "2.4",
         "mask_tokens": "3.1", "sample_next_token": "3.2", "lm_loss": "3.3", "generate": "3.4"}
FORBIDDEN = ("torch.nn.functional.scaled_dot_product_attention", "torch.nn.MultiheadAttention.forward",
             "torch.nn.functional.multi_head_attention_forward")


@contextlib.contextmanager
def forbidden(apis, fn_name, ops=()):
    """Fails when the block reaches one of the dotted ``apis`` (or aten ``ops``): the same
    op-level trace the grader uses."""
    with OpTrace(apis, ops) as trace:
        yield
    assert not trace.hits, f"the reference {fn_name} calls {sorted(trace.hits)}"


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


def test_reference_mask_tokens_int32_and_full_id_range():
    """int32 tokens: inputs stay int32, labels are int64 (the handout's decision); the random
    replacement ids cover every id of [0, vocab_size)."""
    tokens = torch.full((100, 400), 5, dtype=torch.int32)
    inputs, labels = REFERENCE.mask_tokens(tokens, 7, 3, gen(11), mask_prob=1.0)
    assert inputs.dtype == torch.int32 and labels.dtype == torch.int64
    assert torch.equal(labels, tokens.long())
    seen = set(inputs.unique().tolist())
    assert seen == set(range(7))                       # 0 and vocab_size - 1 included, nothing outside


def test_reference_mask_tokens_ignores_the_global_rng():
    tokens = torch.randint(5, 100, (20, 50), generator=gen(12))
    outs = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        outs.append(REFERENCE.mask_tokens(tokens, 100, 3, gen(13), mask_prob=0.5))
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])


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


# ---- op-level checks: the reference dispatches none of its tasks' forbidden ops ----------------------
A3 = registry.get("a3_attention")


class _Ops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.add(str(func.overloadpacket._qualified_op_name))
        return func(*args, **(kwargs or {}))


def _dispatched(fn) -> set[str]:
    with _Ops() as mode:
        fn()
    return mode.seen


def _encoder(e=8, heads=2, ff=16, norm_first=False, seed=20, eps=1e-5):
    torch.manual_seed(seed)
    layer = torch.nn.TransformerEncoderLayer(e, heads, ff, dropout=0.0, batch_first=True, norm_first=norm_first,
                                             layer_norm_eps=eps).double().eval()
    with torch.no_grad():                               # torch initialises biases to 0 and norms to 1/0
        for name, p in layer.named_parameters():
            if name.endswith("bias") or name.startswith("norm"):
                p.add_(torch.randn(p.shape, generator=gen(seed + 1), dtype=p.dtype) * 0.3)
    return layer


def test_forbidden_ops_catch_the_forbidden_apis_and_not_the_reference():
    """Each new task's forbidden_ops are what its forbidden APIs dispatch on CPU, and the
    reference dispatches none of them."""
    g = gen(21)
    x = torch.randn(3, 5, 8, generator=g, dtype=torch.float64)
    w, b = torch.randn(8, generator=g, dtype=torch.float64), torch.randn(8, generator=g, dtype=torch.float64)
    logits, tokens = torch.randn(2, 6, 7, generator=g, dtype=torch.float64), torch.randint(0, 7, (2, 6), generator=g)
    layer = _encoder()
    params = {k: v.detach() for k, v in layer.state_dict().items()}
    keep = torch.ones(5, 5, dtype=torch.bool).tril()
    cases = {
        "layer_norm": ([lambda: F.layer_norm(x, (8,), w, b), lambda: torch.nn.LayerNorm(8).double()(x),
                        lambda: torch.layer_norm(x, (8,))],
                       lambda: REFERENCE.layer_norm(x.clone().requires_grad_(), (8,), w, b).sum().backward()),
        "transformer_encoder_layer": ([lambda: layer(x), lambda: layer(x, src_mask=~keep),
                                       lambda: layer(x.clone().requires_grad_()).sum().backward()],
                                      lambda: REFERENCE.transformer_encoder_layer(x, params, 2, mask=keep)),
        "lm_loss": ([lambda: F.cross_entropy(logits[0], tokens[0]), lambda: F.log_softmax(logits, -1),
                     lambda: logits.log_softmax(-1), lambda: F.nll_loss(logits[0], tokens[0]),
                     lambda: torch.nn.CrossEntropyLoss()(logits[0], tokens[0])],
                    lambda: REFERENCE.lm_loss(logits.clone().requires_grad_(), tokens).backward()),
    }
    for name, (forbidden_calls, reference_call) in cases.items():
        ops = set(A3.task_of(name).forbidden_ops)
        for call in forbidden_calls:
            with torch.no_grad() if name == "transformer_encoder_layer" and call is forbidden_calls[0] else \
                    torch.enable_grad():
                assert _dispatched(call) & ops, f"{name}: a forbidden API dispatches none of {sorted(ops)}"
        assert not (_dispatched(reference_call) & ops), f"the reference {name} dispatches a forbidden op"


# ---- layer_norm ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 5), 5), ((2, 3, 4, 5), (4, 5)), ((7,), (7,))])
def test_reference_layer_norm_matches_torch(dtype, shape, norm):
    g = gen(22)
    x = torch.randn(shape, generator=g, dtype=dtype) * 3 + 1
    nshape = (norm,) if isinstance(norm, int) else norm
    w, b = torch.randn(nshape, generator=g, dtype=dtype), torch.randn(nshape, generator=g, dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    with forbidden(tuple(A3.task_of("layer_norm").forbidden), "layer_norm"):
        got, plain = REFERENCE.layer_norm(x, norm, w, b), REFERENCE.layer_norm(x, norm, eps=0.3)
    torch.testing.assert_close(got, F.layer_norm(x, nshape, w, b), **tol)
    torch.testing.assert_close(plain, F.layer_norm(x, nshape, eps=0.3), **tol)
    assert got.dtype == dtype


def test_reference_layer_norm_gradients_and_offset():
    g = gen(23)
    x = torch.randn(3, 4, 6, generator=g, dtype=torch.float64)
    w, b = torch.randn(4, 6, generator=g, dtype=torch.float64), torch.randn(4, 6, generator=g, dtype=torch.float64)
    grads = []
    for fn in (F.layer_norm, REFERENCE.layer_norm):
        leaves = [t.clone().requires_grad_() for t in (x, w, b)]
        (fn(leaves[0], (4, 6), leaves[1], leaves[2]) * torch.arange(72.0, dtype=torch.float64).view(3, 4, 6) ** 0.5
         ).sum().backward()
        grads.append([t.grad for t in leaves])
    for mine, theirs in zip(*grads):
        torch.testing.assert_close(mine, theirs)
    # float32 with a large mean: within 1e-4 of the float64 result (the hidden suite allows 1e-4 + 1e-3 |y|)
    x32 = (1000 + 3 * torch.randn(8, 32, generator=g, dtype=torch.float64)).float()
    exact = F.layer_norm(x32.double(), (32,))
    assert (REFERENCE.layer_norm(x32, 32).double() - exact).abs().max() < 1e-4


# ---- transformer_encoder_layer ------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("mask_kind", [None, "2d", "3d"])
def test_reference_encoder_layer_matches_torch(norm_first, mask_kind):
    B, L, E, H = 3, 5, 8, 2
    layer = _encoder(E, H, 12, norm_first, seed=24, eps=1e-3)
    g = gen(25)
    x = torch.randn(B, L, E, generator=g, dtype=torch.float64)
    keep, src_mask = None, None
    if mask_kind:
        keep = torch.rand((L, L) if mask_kind == "2d" else (B, L, L), generator=g) < 0.5
        keep[..., 0] = True
        src_mask = ~keep if mask_kind == "2d" else (~keep).repeat_interleave(H, 0)
    params = {k: v.detach().clone() for k, v in layer.state_dict().items()}
    with torch.no_grad():
        fast = layer(x, src_mask=src_mask)              # eval + no_grad: torch's fused fast path
    slow = layer(x.clone().requires_grad_(), src_mask=src_mask)   # the autograd path
    with forbidden(tuple(A3.task_of("transformer_encoder_layer").forbidden), "transformer_encoder_layer"):
        got = REFERENCE.transformer_encoder_layer(x, params, H, mask=keep, norm_first=norm_first, eps=1e-3)
    torch.testing.assert_close(got, fast)
    torch.testing.assert_close(got, slow.detach())
    float_layer = layer.float()
    with torch.no_grad():
        expected32 = float_layer(x.float(), src_mask=src_mask)
    got32 = REFERENCE.transformer_encoder_layer(x.float(), {k: v.float() for k, v in params.items()}, H, mask=keep,
                                                norm_first=norm_first, eps=1e-3)
    assert got32.dtype == torch.float32
    torch.testing.assert_close(got32, expected32, rtol=1e-4, atol=1e-5)


def test_reference_encoder_layer_gradients_match_torch():
    layer = _encoder(8, 2, 16, norm_first=True, seed=26)
    x = torch.randn(2, 4, 8, generator=gen(27), dtype=torch.float64)
    tx = x.clone().requires_grad_()
    layer(tx).pow(2).sum().backward()
    params = {k: v.detach().clone().requires_grad_() for k, v in layer.state_dict().items()}
    sx = x.clone().requires_grad_()
    REFERENCE.transformer_encoder_layer(sx, params, 2, norm_first=True).pow(2).sum().backward()
    torch.testing.assert_close(sx.grad, tx.grad)
    for name, p in layer.named_parameters():
        torch.testing.assert_close(params[name].grad, p.grad, msg=name)


def test_reference_encoder_layer_fully_masked_row_is_finite():
    layer = _encoder(8, 2, 16, seed=28)
    params = {k: v.detach() for k, v in layer.state_dict().items()}
    keep = torch.ones(2, 4, 4, dtype=torch.bool)
    keep[0, 1] = False
    out = REFERENCE.transformer_encoder_layer(torch.randn(2, 4, 8, generator=gen(29), dtype=torch.float64), params, 2,
                                              mask=keep)
    assert torch.isfinite(out).all()


# ---- lm_loss --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
@pytest.mark.parametrize("ignore_index", [-100, 0])
def test_reference_lm_loss_matches_cross_entropy(dtype, scale, ignore_index):
    g = gen(30)
    logits = (torch.randn(3, 7, 11, generator=g, dtype=torch.float64) * scale).to(dtype)
    tokens = torch.randint(0, 11, (3, 7), generator=g)
    tokens[1, 3:] = ignore_index
    leaves = [logits.clone().requires_grad_() for _ in range(2)]
    expected = F.cross_entropy(leaves[0][:, :-1].reshape(-1, 11), tokens[:, 1:].reshape(-1), ignore_index=ignore_index)
    with forbidden(tuple(A3.task_of("lm_loss").forbidden), "lm_loss"):
        got = REFERENCE.lm_loss(leaves[1], tokens, ignore_index=ignore_index)
    assert got.dtype == dtype and got.dim() == 0 and torch.isfinite(got)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(got, expected, **tol)
    expected.backward()
    got.backward()
    torch.testing.assert_close(leaves[1].grad, leaves[0].grad, **tol)


def test_reference_lm_loss_all_ignored_is_nan_like_torch():
    tokens = torch.full((2, 4), -100)
    logits = torch.randn(2, 4, 3, generator=gen(31))
    assert torch.isnan(REFERENCE.lm_loss(logits, tokens))
    assert torch.isnan(F.cross_entropy(logits[:, :-1].reshape(-1, 3), tokens[:, 1:].reshape(-1)))


# ---- generate --------------------------------------------------------------------------------------------
class _BigramLM:
    def __init__(self, vocab, seed):
        self.table = torch.randn(vocab, vocab, generator=gen(seed)) * 2
        self.calls = 0

    def __call__(self, tokens):
        self.calls += 1
        return self.table[tokens]


def test_reference_generate_is_the_sampling_loop_written_out():
    """generate = the loop of the SPEC with torch.multinomial draws, written independently."""
    V, eos = 9, 4
    model = _BigramLM(V, 32)
    prompt = torch.randint(0, V, (5, 3), generator=gen(33))
    out = REFERENCE.generate(model, prompt, 12, gen(34), temperature=0.9, eos_token_id=eos)
    g, tokens, done = gen(34), prompt.clone(), torch.zeros(5, dtype=torch.bool)
    for _ in range(12):
        probs = torch.softmax(model.table[tokens[:, -1]].double() / 0.9, -1)
        nxt = torch.multinomial(probs, 1, generator=g).squeeze(1)
        nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
        done |= nxt == eos
        tokens = torch.cat([tokens, nxt[:, None]], 1)
        if done.all():
            break
    assert torch.equal(out, tokens)
    assert out.dtype == torch.int64 and torch.equal(out[:, :3], prompt)


def test_reference_generate_greedy_and_limits():
    V = 6
    successor = lambda t: F.one_hot((t + 1) % V, V).float() * 10          # noqa: E731
    prompt = torch.tensor([[0, 0], [1, 2], [5, 3]])
    out = REFERENCE.generate(successor, prompt, 8, gen(0), temperature=0, eos_token_id=5)
    assert torch.equal(out, torch.tensor([[0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 5, 5], [5, 3, 4, 5, 5, 5, 5]]))
    assert torch.equal(REFERENCE.generate(successor, prompt, 0, gen(0)), prompt)
    model = _BigramLM(V, 35)
    REFERENCE.generate(model, prompt, 7, gen(1))
    assert model.calls == 7
