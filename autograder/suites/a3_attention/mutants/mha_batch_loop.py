# mutant: multi_head_attention loops over the batch items in Python (correct values, slow)
# expect: vectorize
# adds: _one_item


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    """Batch-first multi-head attention with nn.MultiheadAttention's parameter layout."""
    B, Lq, E = query.shape
    Lk = key.shape[1]
    if E % num_heads != 0:
        raise ValueError(f"embed dim {E} is not divisible by num_heads={num_heads}")
    outs, weights = [], []
    for i in range(B):                             # one batch item at a time
        m = None if mask is None else (mask[i] if mask.dim() == 3 else mask)
        o, w = _one_item(query[i], key[i], value[i], num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, m)
        outs.append(o)
        weights.append(w)
    return torch.stack(outs), torch.stack(weights)


def _one_item(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, mask):
    Lq, E = query.shape
    Lk = key.shape[0]
    dh = E // num_heads
    w_q, w_k, w_v = in_proj_weight.chunk(3, dim=0)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3, dim=0)
    q = torch.nn.functional.linear(query, w_q, b_q).view(Lq, num_heads, dh).transpose(0, 1)
    k = torch.nn.functional.linear(key, w_k, b_k).view(Lk, num_heads, dh).transpose(0, 1)
    v = torch.nn.functional.linear(value, w_v, b_v).view(Lk, num_heads, dh).transpose(0, 1)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out = out.transpose(0, 1).reshape(Lq, E)
    return torch.nn.functional.linear(out, out_proj_weight, out_proj_bias), weights.mean(dim=0)
