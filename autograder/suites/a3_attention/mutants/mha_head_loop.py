# mutant: multi_head_attention loops over the heads in Python (correct values, slow)
# expect: vectorize
edit("multi_head_attention", r"""
q = q.view(B, Lq, num_heads, dh).transpose(1, 2)
k = k.view(B, Lk, num_heads, dh).transpose(1, 2)
v = v.view(B, Lk, num_heads, dh).transpose(1, 2)
""", "")
edit("multi_head_attention", r"""
    mask = mask.unsqueeze(-3)          # (Lq, Lk) -> (1, Lq, Lk); (B, Lq, Lk) -> (B, 1, Lq, Lk)
out, weights = scaled_dot_product_attention(q, k, v, mask)
out = out.transpose(1, 2).reshape(B, Lq, E)
""", r"""
    mask = mask.unsqueeze(-3) if mask.dim() == 3 else mask
out_heads, weight_heads = [], []
for h in range(num_heads):
    sl = slice(h * dh, (h + 1) * dh)
    qh = q[..., sl].unsqueeze(1)
    kh = k[..., sl].unsqueeze(1)
    vh = v[..., sl].unsqueeze(1)
    o, w = scaled_dot_product_attention(qh, kh, vh, mask)
    out_heads.append(o.squeeze(1))
    weight_heads.append(w.squeeze(1))
out = torch.cat(out_heads, dim=-1)
weights = torch.stack(weight_heads, dim=1)
""")
