# mutant: batch_norm2d accumulates the per-channel sums one batch item at a time (correct values, not vectorized)
# expect: vectorize


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    shape = (1, c, 1, 1)
    if training:
        n = x.numel() // c
        total = x.new_zeros(c)
        for i in range(x.shape[0]):
            total = total + x[i].sum(dim=(1, 2))
        mean = total / n
        squares = x.new_zeros(c)
        for i in range(x.shape[0]):
            squares = squares + ((x[i] - mean.view(c, 1, 1)) ** 2).sum(dim=(1, 2))
        var = squares / n
        with torch.no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out
