# mutant: multi_head_attention loops over the batch items in Python (correct values, slow)
# expect: vectorize
edit("multi_head_attention", r"""
out, weights = scaled_dot_product_attention(q, k, v, mask)
""", r"""
outs, ws = [], []
for b in range(B):                 # one batch item at a time
    o, w = scaled_dot_product_attention(q[b], k[b], v[b], mask[b] if mask is not None and mask.dim() == 4 else mask)
    outs.append(o)
    ws.append(w)
out, weights = torch.stack(outs), torch.stack(ws)
""")
