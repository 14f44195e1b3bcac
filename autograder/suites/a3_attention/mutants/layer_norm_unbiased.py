# mutant: layer_norm normalises with the unbiased variance (torch.var's default, divide by N - 1)
# expect: biased
edit("layer_norm", "var = (centered * centered).mean(dim=dims, keepdim=True)",
                   "var = x.var(dim=dims, keepdim=True)")
