# mutant: transformer_encoder_layer runs the layer one sequence at a time (Python loop over the batch)
# expect: vectorize
# adds: _one_sequence


def transformer_encoder_layer(x, params, num_heads, mask=None, norm_first=False, eps=1e-5):
    outs = []
    for b in range(x.shape[0]):
        m = mask
        if mask is not None and mask.dim() == 3:
            m = mask[b]
        outs.append(_one_sequence(x[b:b + 1], params, num_heads, m, norm_first, eps))
    return torch.cat(outs, dim=0)


def _one_sequence(x, params, num_heads, mask, norm_first, eps):
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

    if norm_first:
        x = x + self_attention(norm(x, "norm1"))
        x = x + feed_forward(norm(x, "norm2"))
    else:
        x = norm(x + self_attention(x), "norm1")
        x = norm(x + feed_forward(x), "norm2")
    return x
