"""Reference solution for a3_attention: attention and transformer pieces.

Same public names and signatures as the stub in ``assignments/a3_attention``.
None of these functions calls the torch op it re-implements
(``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``F.multi_head_attention_forward``, ``F.layer_norm``, ``nn.TransformerEncoderLayer``,
``F.cross_entropy``, ``F.log_softmax``).
"""
from __future__ import annotations

import math

import torch

__all__ = ["scaled_dot_product_attention", "causal_mask", "multi_head_attention",
           "sinusoidal_positional_encoding", "layer_norm", "transformer_encoder_layer",
           "mask_tokens", "sample_next_token", "lm_loss", "generate"]


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


# --------------------------------------------------------------------------- 2.3
def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if tuple(x.shape[x.dim() - n:]) != normalized_shape:
        raise ValueError(f"normalized_shape {normalized_shape} does not match the last dims of {tuple(x.shape)}")
    dims = tuple(range(-n, 0))
    mean = x.mean(dim=dims, keepdim=True)
    centered = x - mean
    # two passes (mean first, then the mean of squared deviations): E[x^2] - E[x]^2 would
    # cancel catastrophically in float32 when |mean| >> std.  Biased (divide by N), as torch.
    var = (centered * centered).mean(dim=dims, keepdim=True)
    y = centered * torch.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# --------------------------------------------------------------------------- 2.4
def transformer_encoder_layer(x, params, num_heads, mask=None, norm_first=False, eps=1e-5):
    """nn.TransformerEncoderLayer(batch_first=True, dropout=0, activation=relu) in eval mode."""
    E = x.shape[-1]

    def self_attention(h):
        out, _ = multi_head_attention(h, h, h, num_heads,
                                      params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                      params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"],
                                      mask=mask)
        return out

    def feed_forward(h):
        h = torch.relu(torch.nn.functional.linear(h, params["linear1.weight"], params["linear1.bias"]))
        return torch.nn.functional.linear(h, params["linear2.weight"], params["linear2.bias"])

    def norm(h, which):
        return layer_norm(h, (E,), params[f"{which}.weight"], params[f"{which}.bias"], eps)

    if norm_first:          # pre-norm: x + sublayer(LN(x)); the residual path stays un-normalised
        x = x + self_attention(norm(x, "norm1"))
        x = x + feed_forward(norm(x, "norm2"))
    else:                   # post-norm (the original Transformer): LN(x + sublayer(x))
        x = norm(x + self_attention(x), "norm1")
        x = norm(x + feed_forward(x), "norm2")
    return x


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


# --------------------------------------------------------------------------- 3.3
def lm_loss(logits, tokens, ignore_index=-100):
    """Next-token cross-entropy: logits[:, :-1] predict tokens[:, 1:]; mean over counted targets."""
    V = logits.shape[-1]
    scores = logits[:, :-1, :].reshape(-1, V)
    targets = tokens[:, 1:].reshape(-1).to(torch.long)
    counted = targets != ignore_index
    safe_targets = torch.where(counted, targets, torch.zeros_like(targets))   # any valid index; zeroed below
    # -log softmax(z)[y] = logsumexp(z) - z[y]; logsumexp subtracts the row max first, so
    # logits of +-1e4 stay finite (exp would overflow, log of an underflowed 0 is -inf)
    nll = torch.logsumexp(scores, dim=-1) - scores.gather(1, safe_targets[:, None]).squeeze(1)
    nll = torch.where(counted, nll, torch.zeros_like(nll))
    return nll.sum() / counted.sum()


# --------------------------------------------------------------------------- 3.4
def generate(model, prompt, max_new_tokens, generator, temperature=1.0, top_k=None, top_p=None,
             eos_token_id=None):
    """Autoregressive decoding: one model call and one sample_next_token call per new token."""
    tokens = prompt.to(torch.long)
    finished = torch.zeros(tokens.shape[0], dtype=torch.bool, device=tokens.device)
    # the steps depend on each other (each new token is fed back), so this loop over
    # time steps is inherent; everything inside it is batched
    for _ in range(int(max_new_tokens)):
        logits = model(tokens)[:, -1, :]                     # the prediction after the last position
        next_ids = sample_next_token(logits, generator, temperature=temperature, top_k=top_k, top_p=top_p)
        next_ids = next_ids.to(device=tokens.device, dtype=torch.long)
        if eos_token_id is not None:
            # a finished sequence keeps emitting eos (its sampled token is discarded, but it was
            # still sampled with the whole batch, so the generator's stream does not depend on it)
            next_ids = torch.where(finished, torch.full_like(next_ids, int(eos_token_id)), next_ids)
            finished = finished | (next_ids == int(eos_token_id))
        tokens = torch.cat([tokens, next_ids[:, None]], dim=1)
        if eos_token_id is not None and bool(finished.all()):
            break
    return tokens
