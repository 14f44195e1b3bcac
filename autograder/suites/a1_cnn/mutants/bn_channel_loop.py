# mutant: batch_norm2d loops over the channels in Python (correct values, not vectorized)
# expect: vectorize
edit("batch_norm2d", r"""
var, mean = torch.var_mean(x, dim=dims, correction=0)     # biased variance: what we normalise by
""", r"""
mean = torch.stack([x[:, ch].mean() for ch in range(c)])
var = torch.stack([((x[:, ch] - mean[ch]) ** 2).mean() for ch in range(c)])
""")
edit("batch_norm2d", r"""
out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
if weight is not None:
    out = out * weight.view(shape)              # gamma: learned per-channel scale
if bias is not None:
    out = out + bias.view(shape)                # beta: learned per-channel shift
""", r"""
outs = []
for ch in range(c):
    out = (x[:, ch] - mean[ch]) * torch.rsqrt(var[ch] + eps)
    if weight is not None:
        out = out * weight[ch]
    if bias is not None:
        out = out + bias[ch]
    outs.append(out)
out = torch.stack(outs, dim=1)
""")
