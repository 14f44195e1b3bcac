# mutant: batch_norm2d loops over the channels in Python (correct values, not vectorized)
# expect: vectorize


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    outs = []
    for c in range(x.shape[1]):
        xc = x[:, c]
        if training:
            n = xc.numel()
            mean = xc.mean()
            var = ((xc - mean) ** 2).mean()
            with torch.no_grad():
                if running_mean is not None:
                    running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean
                if running_var is not None:
                    running_var[c] = (1 - momentum) * running_var[c] + momentum * var * n / (n - 1)
        else:
            mean, var = running_mean[c], running_var[c]
        out = (xc - mean) / torch.sqrt(var + eps)
        if weight is not None:
            out = out * weight[c]
        if bias is not None:
            out = out + bias[c]
        outs.append(out)
    return torch.stack(outs, dim=1)
