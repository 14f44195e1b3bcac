# mutant: batch_norm2d uses Keras' momentum convention (running = momentum * running + (1 - momentum) * batch)
# expect: momentum


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    dims = (0, 2, 3)
    shape = (1, c, 1, 1)
    if training:
        n = x.numel() // c
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        with torch.no_grad():
            if running_mean is not None:
                running_mean.copy_(momentum * running_mean + (1 - momentum) * mean)
            if running_var is not None:
                running_var.copy_(momentum * running_var + (1 - momentum) * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out
