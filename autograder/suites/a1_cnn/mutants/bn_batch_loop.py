# mutant: batch_norm2d accumulates the per-channel sums one batch item at a time (correct values, not vectorized)
# expect: vectorize
edit("batch_norm2d", r"""
var, mean = torch.var_mean(x, dim=dims, correction=0)     # biased variance: what we normalise by
""", r"""
total = x.new_zeros(c)
for i in range(x.shape[0]):
    total = total + x[i].reshape(c, -1).sum(dim=1)
mean = total / n
squares = x.new_zeros(c)
for i in range(x.shape[0]):
    squares = squares + ((x[i].reshape(c, -1) - mean.view(c, 1)) ** 2).sum(dim=1)
var = squares / n
""")
