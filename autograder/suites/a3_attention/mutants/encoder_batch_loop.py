# mutant: transformer_encoder_layer runs the layer one sequence at a time (Python loop over the batch)
# expect: vectorize
edit("transformer_encoder_layer", r"""
E = x.shape[-1]
""", r"""
if x.shape[0] > 1:                 # one sequence at a time
    return torch.cat([transformer_encoder_layer(x[b:b + 1], params, num_heads,
                                                mask[b:b + 1] if mask is not None and mask.dim() == 3 else mask,
                                                norm_first, eps) for b in range(x.shape[0])])
E = x.shape[-1]
""")
