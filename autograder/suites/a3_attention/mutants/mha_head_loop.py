# mutant: multi_head_attention loops over the heads in Python (correct values, slow)
# expect: vectorize
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
    if mask is not None:
        mask = mask.unsqueeze(-3) if mask.dim() == 3 else mask
    out_heads, weight_heads = [], []
    for h in range(num_heads):                     # one head at a time
        sl = slice(h * dh, (h + 1) * dh)
        qh = q[..., sl].unsqueeze(1)
        kh = k[..., sl].unsqueeze(1)
        vh = v[..., sl].unsqueeze(1)
        o, w = scaled_dot_product_attention(qh, kh, vh, mask)
        out_heads.append(o.squeeze(1))
        weight_heads.append(w.squeeze(1))
    out = torch.cat(out_heads, dim=-1)
    weights = torch.stack(weight_heads, dim=1)
    out = torch.nn.functional.linear(out, out_proj_weight, out_proj_bias)
    return out, weights.mean(dim=1)
