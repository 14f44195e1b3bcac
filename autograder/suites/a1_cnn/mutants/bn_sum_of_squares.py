# mutant: batch_norm2d computes the variance as E[x^2] - E[x]^2 (catastrophic cancellation in float32 for a large mean)
# expect: cancels catastrophically


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    dims = (0, 2, 3)
    shape = (1, c, 1, 1)
    if training:
        n = x.numel() // c
        mean = x.mean(dim=dims)
        var = (x * x).mean(dim=dims) - mean * mean
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
