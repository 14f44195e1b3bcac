# mutant: batch_norm2d computes the variance as E[x^2] - E[x]^2 (catastrophic cancellation in float32 for a large mean)
# expect: cancels catastrophically
edit("batch_norm2d", r"""
var, mean = torch.var_mean(x, dim=dims, correction=0)     # biased variance: what we normalise by
""", r"""
mean = x.mean(dim=dims)
var = (x * x).mean(dim=dims) - mean * mean
""")
