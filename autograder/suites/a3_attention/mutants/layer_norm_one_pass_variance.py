# mutant: layer_norm computes the variance in one pass as mean(x^2) - mean^2 (cancels in float32)
# expect: cancel
edit("layer_norm", "var = (centered * centered).mean(dim=dims, keepdim=True)",
                   "var = (x * x).mean(dim=dims, keepdim=True) - mean * mean")
