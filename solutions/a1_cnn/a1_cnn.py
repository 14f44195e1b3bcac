"""Reference solution for a1_cnn: convolution arithmetic, a vectorized conv2d, batch
normalization and a residual block.

Everything in conv2d and batch_norm2d is built from plain tensor operations (pad, unfold,
einsum, var_mean), so autograd differentiates them for free and no convolution or
batch-norm kernel of torch is used.  ResidualBlock is assembled from nn.Conv2d and
nn.BatchNorm2d, as the task allows.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# -----------------------------------------------------------------------------
# helpers: int-or-tuple broadcasting

def _is_int(v) -> bool:
    # bool is an int subclass, but True as a kernel size is almost certainly a bug
    return isinstance(v, int) and not isinstance(v, bool)


def _broadcast(named: dict) -> tuple[int | None, dict]:
    """Find the number of spatial dims from the tuple arguments (None when all are
    scalars) and turn every argument into a tuple of that length."""
    lengths = {len(v) for v in named.values() if isinstance(v, (tuple, list))}
    if len(lengths) > 1:
        raise ValueError(f"tuple arguments disagree on the number of dimensions: {sorted(lengths)} "
                         f"({', '.join(n for n, v in named.items() if isinstance(v, (tuple, list)))})")
    ndim = lengths.pop() if lengths else None
    out = {}
    for name, v in named.items():
        vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * (ndim or 1)
        for e in vals:
            if not (_is_int(e) or isinstance(e, str)):
                raise ValueError(f"{name} must be an int or a tuple of ints, got {type(e).__name__}")
        out[name] = vals
    return ndim, out


def _check_positive(name: str, values) -> None:
    if any(v <= 0 for v in values):
        raise ValueError(f"{name} must be positive, got {values if len(values) > 1 else values[0]}")


def _pair(v, name: str) -> tuple[int, int]:
    if _is_int(v):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(e) for e in v):
        return tuple(v)
    raise ValueError(f"{name} must be an int or a pair of ints")


# -----------------------------------------------------------------------------
# Task 1.1 / 1.2: output sizes

def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """floor((size + 2p - d(k-1) - 1) / s) + 1 per spatial dim; 'same' -> ceil(size/s)."""
    args = dict(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        args["padding"] = padding
    ndim, a = _broadcast(args)
    for name in ("kernel_size", "stride", "dilation"):
        _check_positive(name, a[name])
    _check_positive("size", a["size"])
    if padding == "same":
        # TF-style 'same': the output covers every input pixel once per stride step
        out = tuple(math.ceil(n / s) for n, s in zip(a["size"], a["stride"]))
    else:
        pads = (0,) * len(a["size"]) if padding == "valid" else a["padding"]
        if any(p < 0 for p in pads):
            raise ValueError(f"padding must be non-negative, got {padding}")
        # the dilated kernel spans d*(k-1)+1 pixels; count how many stride steps fit
        out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                    for n, k, s, p, d in zip(a["size"], a["kernel_size"], a["stride"], pads, a["dilation"]))
    if any(o <= 0 for o in out):
        raise ValueError(f"output size would be {out if ndim else out[0]}: the input size is smaller than "
                         "the dilated kernel_size after padding")
    return out if ndim is not None else out[0]


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """(size-1)s - 2p + d(k-1) + output_padding + 1 per spatial dim (inverse of the above)."""
    ndim, a = _broadcast(dict(size=size, kernel_size=kernel_size, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation))
    for name in ("size", "kernel_size", "stride", "dilation"):
        _check_positive(name, a[name])
    for name in ("padding", "output_padding"):
        if any(v < 0 for v in a[name]):
            raise ValueError(f"{name} must be non-negative")
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                for n, k, s, p, op, d in zip(a["size"], a["kernel_size"], a["stride"], a["padding"],
                                             a["output_padding"], a["dilation"]))
    if any(o <= 0 for o in out):
        raise ValueError(f"output size would be {out if ndim else out[0]}: padding is too large for this size")
    return out if ndim is not None else out[0]


# -----------------------------------------------------------------------------
# Task 1.3: receptive field

def receptive_field(layers):
    """r = 1 + sum_l d_l (k_l - 1) * prod_{i<l} s_i"""
    rf, jump = 1, 1
    for layer in layers:
        k, s, d = (*layer, 1)[:3]          # dilation defaults to 1
        # one more layer widens the field by its dilated kernel span, measured in
        # input pixels: neighbouring units of this layer are `jump` input pixels apart
        rf += d * (k - 1) * jump
        jump *= s
    return rf


# -----------------------------------------------------------------------------
# Task 1.4: conv2d

def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    # torch pads d*(k-1) in total and puts the odd pixel on the right/bottom
    (kh, kw), (dh, dw) = kernel, dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    return (tw // 2, tw - tw // 2, th // 2, th - th // 2)     # F.pad order: left, right, top, bottom


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Same result (and gradients) as F.conv2d, via im2col + one einsum."""
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    if x.dim() != 4 or weight.dim() != 4:
        raise ValueError("x must be (N, C, H, W) or (C, H, W) and weight (C_out, C_in/groups, kH, kW)")
    n, c, _, _ = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    if groups <= 0 or c % groups or c_out % groups or c // groups != c_per_group:
        raise ValueError(f"groups={groups} does not fit x with {c} channels and weight {tuple(weight.shape)}")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    _check_positive("stride", (sh, sw))
    _check_positive("dilation", (dh, dw))

    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions (stride > 1)")
            pads = _same_padding((kh, kw), (dh, dw))
        else:
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding")
        pads = (pw, pw, ph, ph)
    if any(pads):
        x = F.pad(x, pads)

    # a window spans d*(k-1)+1 input pixels (the dilated kernel); it must fit once
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if x.shape[2] < span_h or x.shape[3] < span_w:
        raise ValueError("the padded input is smaller than the dilated kernel_size")

    # im2col as a view: one window every `stride` pixels, then keep every d-th tap of
    # it -> (N, C, H_out, W_out, kH, kW), no copy yet
    patches = x.unfold(2, span_h, sh).unfold(3, span_w, sw)[..., ::dh, ::dw]
    h_out, w_out = patches.shape[2:4]

    # groups: channel block g of x only meets output block g of weight, so split both
    # and let einsum batch over the group axis (depthwise = groups == C)
    patches = patches.reshape(n, groups, c_per_group, h_out, w_out, kh, kw)
    w = weight.reshape(groups, c_out // groups, c_per_group, kh, kw)
    # one contraction over (input channel, kernel row, kernel column): einsum turns
    # this into a batched matmul, which is where all the flops go
    out = torch.einsum("ngchwij,gocij->ngohw", patches, w).reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)      # one bias per output channel
    return out[0] if unbatched else out


# -----------------------------------------------------------------------------
# Task 1.5: depthwise separable parameter count

def separable_conv_params(in_channels, out_channels, kernel_size, bias=True):
    """(standard, depthwise + pointwise) parameter counts."""
    kh, kw = _pair(kernel_size, "kernel_size")
    b = 1 if bias else 0
    standard = out_channels * in_channels * kh * kw + b * out_channels
    depthwise = in_channels * kh * kw + b * in_channels          # one k x k filter per input channel
    pointwise = out_channels * in_channels + b * out_channels    # 1x1 conv mixes the channels
    return standard, depthwise + pointwise


# -----------------------------------------------------------------------------
# Task 1.6: batch normalization

def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    """Same result, running-statistics update and gradients as F.batch_norm."""
    if x.dim() < 2:
        raise ValueError(f"x must be (B, C, H, W), got a tensor with {x.dim()} dims")
    c = x.shape[1]
    dims = [0] + list(range(2, x.dim()))            # every axis but the channel axis
    shape = [1, c] + [1] * (x.dim() - 2)            # per-channel values broadcast as (1, C, 1, 1)
    if training:
        n = x.numel() // c                          # values per channel: B * H * W
        if n <= 1:
            raise ValueError(f"batch norm needs more than 1 value per channel when training (got x {tuple(x.shape)})")
        # one reduction pass per statistic over (B, H, W), all channels at once
        var, mean = torch.var_mean(x, dim=dims, correction=0)     # biased variance: what we normalise by
        if running_mean is not None:
            with torch.no_grad():                   # the running estimates are not part of the graph
                # exponential moving average, PyTorch's convention: momentum weights the NEW batch
                running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
        if running_var is not None:
            with torch.no_grad():
                # the running variance estimates the population variance: unbiased, n / (n - 1)
                running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)), alpha=momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are required when training=False")
        mean, var = running_mean, running_var       # inference: the statistics gathered in training
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        out = out * weight.view(shape)              # gamma: learned per-channel scale
    if bias is not None:
        out = out + bias.view(shape)                # beta: learned per-channel shift
    return out


# -----------------------------------------------------------------------------
# Task 1.7: ResNet basic block

class ResidualBlock(nn.Module):
    """ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        # 3x3 convolutions without bias: the batch norm right after them has its own shift (beta)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            # x no longer has the shape of F(x): project it with a strided 1x1 convolution (+ BN)
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.downsample = None                  # identity shortcut: nothing to learn

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        # H(x) = F(x) + x, and the ReLU comes after the addition
        return F.relu(out + identity)
