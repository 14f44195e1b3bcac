# mutant: transformer_encoder_layer ignores norm_first (always post-norm)
# expect: pre-norm


def transformer_encoder_layer(x, params, num_heads, mask=None, norm_first=False, eps=1e-5):
    E = x.shape[-1]
    attn, _ = multi_head_attention(x, x, x, num_heads,
                                   params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"],
                                   params["self_attn.out_proj.weight"], params["self_attn.out_proj.bias"], mask=mask)
    x = layer_norm(x + attn, (E,), params["norm1.weight"], params["norm1.bias"], eps)
    h = torch.relu(torch.nn.functional.linear(x, params["linear1.weight"], params["linear1.bias"]))
    h = torch.nn.functional.linear(h, params["linear2.weight"], params["linear2.bias"])
    return layer_norm(x + h, (E,), params["norm2.weight"], params["norm2.bias"], eps)
