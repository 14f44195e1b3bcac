# mutant: batch_norm2d computes the new running statistics but rebinds the local names instead of updating the caller's tensors in place
# expect: in place


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    dims = (0, 2, 3)
    shape = (1, c, 1, 1)
    if training:
        n = x.numel() // c
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mean.detach()
        if running_var is not None:
            running_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    out = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out
