"""A partial a1_cnn: the arithmetic is right; conv2d ignores dilation and groups
(and batched inputs only); batch_norm2d always uses the batch statistics and updates the
running variance with the biased estimate; ResidualBlock is not done."""
import math

import torch
import torch.nn.functional as F


def _as_tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _ndim(*args):
    lengths = {len(a) for a in args if isinstance(a, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError("tuple arguments must have the same length")
    return lengths.pop() if lengths else 0


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    n = _ndim(size, kernel_size, stride, dilation, None if isinstance(padding, str) else padding)
    result = []
    for i in range(max(n, 1)):
        sz, k, s, d = (_as_tuple(v, max(n, 1))[i] for v in (size, kernel_size, stride, dilation))
        if k < 1:
            raise ValueError(f"kernel_size must be >= 1 (got {k})")
        if s < 1:
            raise ValueError(f"stride must be >= 1 (got {s})")
        if d < 1:
            raise ValueError(f"dilation must be >= 1 (got {d})")
        if padding == "same":
            o = -(-sz // s)
        elif padding == "valid":
            o = (sz - d * (k - 1) - 1) // s + 1
        elif isinstance(padding, str):
            raise ValueError(f"unknown padding {padding!r}")
        else:
            p = _as_tuple(padding, max(n, 1))[i]
            o = (sz + 2 * p - d * (k - 1) - 1) // s + 1
        if o < 1:
            raise ValueError(f"input size {sz} too small: output size would be {o}")
        result.append(o)
    return tuple(result) if n else result[0]


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    args = (size, kernel_size, stride, padding, output_padding, dilation)
    n = _ndim(*args)
    result = []
    for i in range(max(n, 1)):
        sz, k, s, p, op, d = (_as_tuple(v, max(n, 1))[i] for v in args)
        for name, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
            if v < 1:
                raise ValueError(f"{name} must be >= 1 (got {v})")
        o = (sz - 1) * s - 2 * p + d * (k - 1) + op + 1
        if o < 1:
            raise ValueError(f"output size would be {o}")
        result.append(o)
    return tuple(result) if n else result[0]


def receptive_field(layers):
    # backwards from one output unit: r_{l-1} = s_l * (r_l - 1) + d_l * (k_l - 1) + 1
    r = 1
    for layer in reversed(list(layers)):
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = s * (r - 1) + d * (k - 1) + 1
    return r


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    # TODO: dilation and groups are not handled yet
    sh, sw = _as_tuple(stride, 2)
    O, C, kh, kw = weight.shape
    if padding == "same":
        if sh != 1 or sw != 1:
            raise ValueError("padding='same' needs stride 1")
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    elif padding != "valid":
        ph, pw = _as_tuple(padding, 2)
        x = F.pad(x, (pw, pw, ph, ph))
    patches = x.unfold(2, kh, sh).unfold(3, kw, sw)            # (N, C, Ho, Wo, kh, kw)
    out = torch.einsum("nchwij,ocij->nohw", patches, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def separable_conv_params(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = _as_tuple(kernel_size, 2)
    standard = in_channels * out_channels * kh * kw + (out_channels if bias else 0)
    depthwise = in_channels * kh * kw + (in_channels if bias else 0)
    pointwise = in_channels * out_channels + (out_channels if bias else 0)
    return standard, depthwise + pointwise


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    # TODO: the running variance should use the unbiased estimate; inference mode not done
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var)
    out = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)
    if weight is not None:
        out = out * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    return out


class ResidualBlock(torch.nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        raise NotImplementedError("Task 1.7: ResidualBlock")
