# mutant: multi_head_attention uses nn.MultiheadAttention's mask convention (True = blocked)
# expect: mask
import torch


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
        mask = ~mask.bool().unsqueeze(-3)          # (Lq, Lk) -> (1, Lq, Lk); (B, Lq, Lk) -> (B, 1, Lq, Lk)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out = out.transpose(1, 2).reshape(B, Lq, E)
    out = torch.nn.functional.linear(out, out_proj_weight, out_proj_bias)
    return out, weights.mean(dim=1)
