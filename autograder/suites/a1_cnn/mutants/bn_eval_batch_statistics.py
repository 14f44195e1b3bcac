# mutant: batch_norm2d ignores training=False and always normalises with the batch statistics (but leaves the running ones alone in eval)
# expect: training=False


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    dims = (0, 2, 3)
    shape = (1, c, 1, 1)
    n = x.numel() // c
    var, mean = torch.var_mean(x, dim=dims, correction=0)
    if training:
        with torch.no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out
