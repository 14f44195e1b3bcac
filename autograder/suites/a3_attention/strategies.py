"""Hypothesis composites and seeded builders for the a3_attention suite.

Hypothesis draws sizes and seeds only; tensors are built from their own seeded
``torch.Generator`` (``shared.strategies``), so every case is reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from shared.strategies import FLOAT_DTYPES, generator, rand, randn, seeds


@dataclass(frozen=True)
class AttnCase:
    batch: tuple          # leading batch dims of q, k, v (0 to 2 of them)
    lq: int
    lk: int
    d: int
    dv: int
    seed: int
    dtype: torch.dtype


@st.composite
def attention_cases(draw, max_batch_dims: int = 2, dtypes=FLOAT_DTYPES):
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=max_batch_dims)))
    return AttnCase(batch=batch, lq=draw(st.integers(1, 6)), lk=draw(st.integers(1, 7)),
                    d=draw(st.integers(1, 8)), dv=draw(st.integers(1, 6)), seed=draw(seeds),
                    dtype=draw(st.sampled_from(dtypes)))


def qkv(case: AttnCase, requires_grad: bool = False, scale: float = 1.0):
    q = randn(case.batch + (case.lq, case.d), case.seed, case.dtype, scale=scale, requires_grad=requires_grad)
    k = randn(case.batch + (case.lk, case.d), case.seed + 1, case.dtype, scale=scale, requires_grad=requires_grad)
    v = randn(case.batch + (case.lk, case.dv), case.seed + 2, case.dtype, requires_grad=requires_grad)
    return q, k, v


def keep_mask(shape, seed: int, p_keep: float = 0.6, every_row: bool = True) -> torch.Tensor:
    """A random bool keep-mask (True = may attend).  With ``every_row`` each row
    along the last axis keeps at least one key (no fully masked rows)."""
    mask = rand(shape, seed) < p_keep
    if every_row and mask.numel():
        col = torch.randint(0, shape[-1], tuple(shape[:-1]) + (1,), generator=generator(seed + 7))
        mask = mask.scatter(-1, col, True)
    return mask


@dataclass(frozen=True)
class MhaCase:
    b: int
    lq: int
    lk: int
    heads: int
    head_dim: int
    bias: bool
    seed: int
    dtype: torch.dtype

    @property
    def e(self) -> int:
        return self.heads * self.head_dim


@st.composite
def mha_cases(draw, dtypes=FLOAT_DTYPES):
    return MhaCase(b=draw(st.integers(1, 3)), lq=draw(st.integers(1, 6)), lk=draw(st.integers(1, 6)),
                   heads=draw(st.integers(1, 4)), head_dim=draw(st.integers(1, 4)),
                   bias=draw(st.booleans()), seed=draw(seeds), dtype=draw(st.sampled_from(dtypes)))


def torch_mha(case: MhaCase) -> torch.nn.MultiheadAttention:
    """nn.MultiheadAttention(batch_first=True) with seeded parameters (biases non-zero)."""
    torch_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(case.seed % (2**31))
        mha = torch.nn.MultiheadAttention(case.e, case.heads, bias=case.bias, batch_first=True)
        if case.bias:
            with torch.no_grad():
                mha.in_proj_bias.normal_(0, 0.5)
                mha.out_proj.bias.normal_(0, 0.5)
    finally:
        torch.random.set_rng_state(torch_state)
    return mha.to(case.dtype)


def mha_params(mha: torch.nn.MultiheadAttention, requires_grad: bool = False):
    """Detached copies of the parameters in the order of multi_head_attention's signature."""
    def c(t):
        return None if t is None else t.detach().clone().requires_grad_(requires_grad)
    return (c(mha.in_proj_weight), c(mha.in_proj_bias), c(mha.out_proj.weight), c(mha.out_proj.bias))


def mha_inputs(case: MhaCase, requires_grad: bool = False):
    query = randn((case.b, case.lq, case.e), case.seed + 11, case.dtype, requires_grad=requires_grad)
    key = randn((case.b, case.lk, case.e), case.seed + 12, case.dtype, requires_grad=requires_grad)
    value = randn((case.b, case.lk, case.e), case.seed + 13, case.dtype, requires_grad=requires_grad)
    return query, key, value


# ---- sampling ------------------------------------------------------------------
def filtered_probs(logits: np.ndarray, temperature: float, top_k, top_p) -> tuple[np.ndarray, float]:
    """Exact probabilities after temperature, top-k and top-p (float64, independent of
    the reference), and the distance of the nucleus threshold from the nearest
    cumulative sum (cases too close to a tie are avoided by the caller)."""
    z = logits.astype(np.float64) / temperature
    keep = np.ones_like(z, dtype=bool)
    if top_k is not None and top_k < z.size:
        keep[np.argsort(-z)[top_k:]] = False
    p = np.where(keep, np.exp(z - z[keep].max()), 0.0)
    p /= p.sum()
    margin = 1.0
    if top_p is not None:
        order = np.argsort(-p)
        cum = np.cumsum(p[order])
        n_keep = int(np.searchsorted(cum, top_p) + 1)     # smallest prefix with cum >= top_p
        n_keep = min(max(n_keep, 1), int(keep.sum()))
        margin = float(np.min(np.abs(cum - top_p)))
        nucleus = np.zeros_like(keep)
        nucleus[order[:n_keep]] = True
        p = np.where(nucleus, p, 0.0)
        p /= p.sum()
    return p, margin


def nucleus_logits(seed: int, vocab: int, temperature: float, top_k, top_p, min_margin: float = 0.03):
    """Seeded logits whose filtered distribution is far from any threshold tie."""
    for offset in range(1000):
        logits = randn((vocab,), seed + 97 * offset, torch.float64, scale=1.5)
        _, margin = filtered_probs(logits.numpy(), temperature, top_k, top_p)
        if margin >= min_margin:
            return logits
    raise RuntimeError("no logits with a clear top-p margin")    # never reached for the cases used


def causal_mask_closed_form(length_q: int, length_k: int, device="cpu") -> torch.Tensor:
    """mask[i, j] = (j <= i), built here so tests never depend on the student's causal_mask."""
    return (torch.arange(length_k, device=device).unsqueeze(0)
            <= torch.arange(length_q, device=device).unsqueeze(1))


@pytest.fixture(autouse=True, scope="module")
def assignment_threads(assignment):
    """Run in-process with the assignment's torch thread count (the isolated workers set
    it themselves; the in-process adapter does not).  On a busy machine, several torch
    threads per op make every call (and every speed ratio) erratic."""
    before = torch.get_num_threads()
    torch.set_num_threads(assignment.threads)
    yield
    torch.set_num_threads(before)


# ---- layer norm and the encoder layer ------------------------------------------
@dataclass(frozen=True)
class LayerCase:
    b: int
    length: int
    heads: int
    head_dim: int
    ff: int
    seed: int
    dtype: torch.dtype

    @property
    def e(self) -> int:
        return self.heads * self.head_dim


@st.composite
def layer_cases(draw, dtypes=FLOAT_DTYPES):
    return LayerCase(b=draw(st.integers(1, 3)), length=draw(st.integers(1, 6)), heads=draw(st.integers(1, 3)),
                     head_dim=draw(st.integers(1, 4)), ff=draw(st.integers(1, 12)), seed=draw(seeds),
                     dtype=draw(st.sampled_from(dtypes)))


def torch_encoder_layer(case: LayerCase, norm_first: bool, eps: float = 1e-5) -> torch.nn.TransformerEncoderLayer:
    """nn.TransformerEncoderLayer(batch_first=True, dropout=0, ReLU) in eval mode, every parameter
    drawn from a generator seeded with ``case.seed`` (torch's own init leaves the biases at 0 and
    the norms at 1/0, which would hide swapped or missing terms)."""
    layer = torch.nn.TransformerEncoderLayer(case.e, case.heads, case.ff, dropout=0.0, batch_first=True,
                                             norm_first=norm_first, layer_norm_eps=eps)
    g = generator(case.seed)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if name.startswith("norm") and name.endswith("weight"):
                value = 1.0 + 0.3 * noise
            elif name.endswith("bias"):
                value = 0.3 * noise
            else:
                value = noise / p.shape[-1] ** 0.5
            p.copy_(value.to(p.dtype))
    return layer.to(case.dtype).eval()


def layer_params(layer: torch.nn.Module, requires_grad: bool = False) -> dict:
    """The layer's state dict as detached copies (the ``params`` argument)."""
    return {k: v.detach().clone().requires_grad_(requires_grad) for k, v in layer.state_dict().items()}


def layer_input(case: LayerCase, seed_offset: int = 20, requires_grad: bool = False) -> torch.Tensor:
    return randn((case.b, case.length, case.e), case.seed + seed_offset, case.dtype, requires_grad=requires_grad)


# ---- generation ---------------------------------------------------------------
class ToyLM:
    """A tiny language model for ``generate``: the logits at position i depend on the tokens at
    i and i-1 through two seeded tables.  A plain callable, so when grading it stays in this
    process and the student's code calls it back; it records every input it is given."""

    def __init__(self, vocab: int, seed: int, scale: float = 2.0, favour: int | None = None):
        self.vocab = vocab
        self.now = randn((vocab, vocab), seed, torch.float32, scale=scale)
        self.before = randn((vocab, vocab), seed + 1, torch.float32, scale=0.5 * scale)
        if favour is not None:                 # make one token (e.g. eos) likely after every token
            self.now[:, favour] += scale
        self.calls: list[torch.Tensor] = []

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = tokens.long()
        previous = torch.cat([tokens[:, :1], tokens[:, :-1]], dim=1)
        return self.now[tokens] + self.before[previous]

    def __call__(self, tokens):
        self.calls.append(torch.as_tensor(tokens).detach().clone())
        return self.logits(torch.as_tensor(tokens))


class SuccessorLM:
    """Greedy decoding with it is a closed form: the next token is (last token + 1) mod vocab."""

    def __init__(self, vocab: int):
        self.vocab = vocab

    def __call__(self, tokens):
        tokens = torch.as_tensor(tokens).long()
        return torch.nn.functional.one_hot((tokens + 1) % self.vocab, self.vocab).to(torch.float32) * 10.0
