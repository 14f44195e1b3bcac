"""Reference solution for a3_attention: attention and transformer pieces.

Same public names and signatures as the stub in ``assignments/a3_attention``.
None of these functions calls the torch op it re-implements
(``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``F.multi_head_attention_forward``).
"""
from __future__ import annotations

import math

import torch

__all__ = ["scaled_dot_product_attention", "causal_mask", "multi_head_attention",
           "sinusoidal_positional_encoding", "mask_tokens", "sample_next_token"]


def _allowed(mask: torch.Tensor, device) -> torch.Tensor:
    """A bool mask (True = may attend) from a bool or 0/1 mask."""
    mask = mask.to(device)
    return mask if mask.dtype == torch.bool else mask != 0


# --------------------------------------------------------------------------- 1.1
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v with a keep-mask; fully masked rows give zeros."""
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)
    if mask is None:
        weights = torch.softmax(scores, dim=-1)
    else:
        allowed = _allowed(mask, q.device)
        any_allowed = allowed.any(dim=-1, keepdim=True)
        neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
        scores = torch.where(allowed, scores, neg_inf)
        # rows with nothing to attend: softmax of a constant row (finite), zeroed below
        scores = torch.where(any_allowed, scores, torch.zeros((), dtype=scores.dtype, device=scores.device))
        weights = torch.softmax(scores, dim=-1)
        weights = torch.where(any_allowed, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
    return torch.matmul(weights, v), weights


# --------------------------------------------------------------------------- 1.2
def causal_mask(length_q, length_k=None, device=None):
    """Bool (Lq, Lk), True where key j <= query i (top-left aligned)."""
    length_k = length_q if length_k is None else length_k
    rows = torch.arange(length_q, device=device).unsqueeze(1)
    cols = torch.arange(length_k, device=device).unsqueeze(0)
    return cols <= rows


# --------------------------------------------------------------------------- 2.1
def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    """Batch-first multi-head attention with nn.MultiheadAttention's parameter layout."""
    B, Lq, E = query.shape
    Lk = key.shape[1]
    if E % num_heads != 0:
        raise ValueError(f"embed dim {E} is not divisible by num_heads={num_heads}")
    dh = E // num_heads
    w_q, w_k, w_v = in_proj_weight.chunk(3, dim=0)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3, dim=0)
    q = torch.nn.functional.linear(query, w_q, b_q)
    k = torch.nn.functional.linear(key, w_k, b_k)
    v = torch.nn.functional.linear(value, w_v, b_v)
    # (B, L, E) -> (B, H, L, dh)
    q = q.view(B, Lq, num_heads, dh).transpose(1, 2)
    k = k.view(B, Lk, num_heads, dh).transpose(1, 2)
    v = v.view(B, Lk, num_heads, dh).transpose(1, 2)
    if mask is not None:
        mask = mask.unsqueeze(-3)          # (Lq, Lk) -> (1, Lq, Lk); (B, Lq, Lk) -> (B, 1, Lq, Lk)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out = out.transpose(1, 2).reshape(B, Lq, E)
    out = torch.nn.functional.linear(out, out_proj_weight, out_proj_bias)
    return out, weights.mean(dim=1)


# --------------------------------------------------------------------------- 2.2
def sinusoidal_positional_encoding(length, d_model):
    """(length, d_model) float32: PE[pos, 2i] = sin(pos w_i), PE[pos, 2i+1] = cos(pos w_i)."""
    dtype = torch.get_default_dtype()
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    freqs = torch.pow(10000.0, -two_i / d_model)
    angles = pos * freqs                                   # (length, ceil(d/2))
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return pe.to(dtype)


# --------------------------------------------------------------------------- 3.1
def mask_tokens(tokens, vocab_size, mask_token_id, generator, mask_prob=0.15, special_token_ids=()):
    """BERT's masked-language-model corruption (15% chosen; 80% [MASK], 10% random, 10% kept)."""
    shape, device = tokens.shape, tokens.device
    special = torch.zeros(shape, dtype=torch.bool)
    cpu_tokens = tokens.detach().to("cpu")
    for sid in special_token_ids:
        special |= cpu_tokens == int(sid)
    # all draws on the CPU generator, so results do not depend on the device
    chosen = (torch.rand(shape, generator=generator, dtype=torch.float64) < mask_prob) & ~special
    split = torch.rand(shape, generator=generator, dtype=torch.float64)
    random_ids = torch.randint(0, vocab_size, shape, generator=generator, dtype=torch.long)
    to_mask = chosen & (split < 0.8)
    to_random = chosen & (split >= 0.8) & (split < 0.9)
    inputs = cpu_tokens.clone()
    inputs[to_mask] = mask_token_id
    inputs[to_random] = random_ids[to_random].to(inputs.dtype)
    labels = torch.where(chosen, cpu_tokens.to(torch.long), torch.full_like(cpu_tokens, -100, dtype=torch.long))
    return inputs.to(device), labels.to(device)


# --------------------------------------------------------------------------- 3.2
def sample_next_token(logits, generator, temperature=1.0, top_k=None, top_p=None):
    """One token id per row: temperature, then top-k, then top-p (nucleus), then sample."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits.detach().to(torch.float64) / temperature
    V = scores.shape[-1]
    neg_inf = float("-inf")
    if top_k is not None and top_k < V:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, neg_inf)
    if top_p is not None and top_p < 1.0:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        sorted_probs = torch.softmax(sorted_scores, dim=-1)
        mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        drop_sorted = mass_before >= top_p
        drop_sorted[..., 0] = False                       # always keep the most probable token
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, neg_inf)
    probs = torch.softmax(scores, dim=-1).to("cpu")
    ids = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return ids.to(logits.device)
