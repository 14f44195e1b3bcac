# mutant: batch_norm2d updates running_var with the biased batch variance (the one it normalises with)
# expect: unbiased
import torch


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    if x.dim() < 2:
        raise ValueError(f"x must be (B, C, H, W), got a tensor with {x.dim()} dims")
    c = x.shape[1]
    dims = [0] + list(range(2, x.dim()))
    shape = [1, c] + [1] * (x.dim() - 2)
    if training:
        n = x.numel() // c
        if n <= 1:
            raise ValueError(f"batch norm needs more than 1 value per channel when training (got x {tuple(x.shape)})")
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
        if running_var is not None:
            with torch.no_grad():
                running_var.mul_(1 - momentum).add_(var.detach(), alpha=momentum)     # no n / (n - 1)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are required when training=False")
        mean, var = running_mean, running_var
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    return out
