"""A correct but slow a1_cnn: conv2d loops over output pixels in Python (everything else,
batch_norm2d included, is vectorized)."""
import math

import torch
import torch.nn.functional as F
from torch import nn


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
    # correct, but one output pixel at a time: far too slow for the speed check
    squeeze = x.dim() == 3
    if squeeze:
        x = x[None]
    sh, sw = _as_tuple(stride, 2)
    dh, dw = _as_tuple(dilation, 2)
    O, Cg, kh, kw = weight.shape
    if padding == "same":
        if sh != 1 or sw != 1:
            raise ValueError("padding='same' needs stride 1")
        th, tw = dh * (kh - 1), dw * (kw - 1)
        x = F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
    elif padding != "valid":
        ph, pw = _as_tuple(padding, 2)
        x = F.pad(x, (pw, pw, ph, ph))
    N, C, H, W = x.shape
    Ho = (H - dh * (kh - 1) - 1) // sh + 1
    Wo = (W - dw * (kw - 1) - 1) // sw + 1
    G = groups
    w = weight.reshape(G, O // G, Cg * kh * kw)
    rows = []
    for i in range(Ho):
        row = []
        for j in range(Wo):
            window = x[:, :, i * sh: i * sh + dh * (kh - 1) + 1: dh, j * sw: j * sw + dw * (kw - 1) + 1: dw]
            window = window.reshape(N, G, Cg * kh * kw)
            row.append(torch.einsum("ngk,gok->ngo", window, w).reshape(N, O))
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out[0] if squeeze else out


def separable_conv_params(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = _as_tuple(kernel_size, 2)
    standard = in_channels * out_channels * kh * kw + (out_channels if bias else 0)
    depthwise = in_channels * kh * kw + (in_channels if bias else 0)
    pointwise = in_channels * out_channels + (out_channels if bias else 0)
    return standard, depthwise + pointwise


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    # one row per channel: (C, B*H*W)
    C = x.shape[1]
    if training:
        rows = x.transpose(0, 1).reshape(C, -1)
        n = rows.shape[1]
        mean = rows.mean(dim=1)
        var = ((rows - mean[:, None]) ** 2).mean(dim=1)          # biased: used to normalise
        with torch.no_grad():
            if running_mean is not None:
                running_mean.copy_((1 - momentum) * running_mean + momentum * mean)
            if running_var is not None:
                running_var.copy_((1 - momentum) * running_var + momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    y = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)
    if weight is not None:
        y = y * weight[None, :, None, None]
    if bias is not None:
        y = y + bias[None, :, None, None]
    return y


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        residual = self.relu(self.bn1(self.conv1(x)))
        residual = self.bn2(self.conv2(residual))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(residual + shortcut)
