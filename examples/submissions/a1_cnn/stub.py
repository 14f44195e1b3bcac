"""Assignment a1_cnn: convolution arithmetic, a vectorized conv2d, batch normalization
and a residual block.

Implement the six functions and the class below (read README.md first).  Use only basic
tensor operations: torch.nn.functional.conv2d, nn.Conv2d, torch.conv2d, torch.convolution
and their relatives (conv1d, conv3d, conv_transpose2d, ...) are not allowed in conv2d;
F.batch_norm, nn.BatchNorm*, torch.batch_norm and F.instance_norm are not allowed in
batch_norm2d.  ResidualBlock (Task 1.7) is built from nn.Conv2d and nn.BatchNorm2d.

Check your work with:  python grade.py check a1_cnn a1_cnn.py
"""
from __future__ import annotations

import math  # noqa: F401  (you will probably need it)

import torch
import torch.nn.functional as F  # noqa: F401  (F.pad is allowed; F.conv* is not)
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Task 1.1: spatial output size of a convolution.

    Per spatial dimension::

        out = floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1

    Every argument is an int or a tuple with one entry per spatial dim; ints broadcast
    to every dim (all tuples must have the same length).  ``padding`` may also be the
    string ``"valid"`` (no padding, = 0) or ``"same"`` (out = ceil(size / stride), i.e.
    the input size itself when stride is 1).

    Example::

        conv_output_size(32, 3, stride=2, padding=1)   -> 16
        conv_output_size((32, 15), 3, padding=(1, 0))  -> (32, 13)
        conv_output_size(7, 3, stride=2, padding="same") -> 4

    Args:
        size: input size, int or tuple of ints.
        kernel_size: int or tuple, > 0.
        stride: int or tuple, > 0.
        padding: int or tuple (>= 0), or "same" / "valid".
        dilation: int or tuple, > 0.

    Returns:
        int when every argument is an int (or a padding string), else a tuple of ints.

    Raises:
        ValueError: kernel_size, stride or dilation not positive, or an output size
            below 1; the message names the argument (e.g. "stride must be positive").
    """
    raise NotImplementedError("Task 1.1: conv_output_size")


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Task 1.2: spatial output size of a transposed convolution (F.conv_transpose2d).

    Per spatial dimension::

        out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

    Same int / tuple rules as :func:`conv_output_size` (ints broadcast; the result is a
    tuple when any argument is a tuple).

    Example::

        conv_transpose_output_size(16, 4, stride=2, padding=1)   -> 32
        conv_transpose_output_size((4, 5), 3, stride=(2, 1))      -> (9, 7)

    Args:
        size, kernel_size, stride, padding, output_padding, dilation: ints or tuples.

    Returns:
        int or tuple of ints.

    Raises:
        ValueError: kernel_size, stride or dilation not positive, or an output size
            below 1; the message names the argument.
    """
    raise NotImplementedError("Task 1.2: conv_transpose_output_size")


def receptive_field(layers):
    """Task 1.3: receptive field (수용 영역) of one output unit of the last layer.

    ``layers`` lists the layers from the input upwards, each ``(kernel_size, stride)`` or
    ``(kernel_size, stride, dilation)`` (ints; dilation defaults to 1).  The receptive
    field is the number of input pixels (along one dim) between the first and the last
    input pixel that one unit of the last layer depends on.

    Example::

        receptive_field([(3, 1), (3, 1)])          -> 5
        receptive_field([(3, 2), (3, 1)])          -> 7
        receptive_field([(3, 1, 1), (3, 1, 2)])    -> 7

    Args:
        layers: sequence of (kernel_size, stride) or (kernel_size, stride, dilation).

    Returns:
        int.
    """
    raise NotImplementedError("Task 1.3: receptive_field")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Task 1.4: 2-D convolution, equal to torch.nn.functional.conv2d (values and gradients).

    Shapes::

        x:      (N, C_in, H, W)  (or unbatched (C_in, H, W), giving (C_out, H_out, W_out))
        weight: (C_out, C_in / groups, kH, kW)
        bias:   (C_out,) or None
        out:    (N, C_out, H_out, W_out), H_out = conv_output_size(H, kH, ...)

    Formula (a cross-correlation, no kernel flip), for output channel o in group g::

        out[n, o, i, j] = bias[o] + sum_{c in group g, p, q}
                          x_pad[n, c, i*sH + p*dH, j*sW + q*dW] * weight[o, c - g*C_in/groups, p, q]

    ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs;
    ``padding`` may also be "valid" (no padding) or "same" (output size = input size,
    total padding dilation*(k-1) per dim, the odd pixel on the right/bottom, as torch).
    ``padding="same"`` with a stride above 1 raises ValueError.  ``groups`` splits the
    channels into contiguous blocks (depthwise convolution: groups == C_in).

    Must be vectorized (no Python loop over output pixels or batch items): unfold the
    padded input into patches (im2col) and contract them with the weight in one
    matmul / einsum.  Not allowed: F.conv2d, nn.Conv2d, torch.conv2d, torch.convolution
    and their relatives.  The output keeps x's dtype and device, and autograd must give
    the gradients of x, weight and bias (use differentiable tensor operations only).

    Example::

        x = torch.arange(16.).reshape(1, 1, 4, 4); w = torch.ones(1, 1, 2, 2)
        conv2d(x, w, stride=2)  -> tensor([[[[10., 18.], [42., 50.]]]])

    Args:
        x: input tensor, float32 or float64.
        weight: filters (same dtype and device as x).
        bias: optional per-output-channel bias.
        stride: int or pair, > 0.
        padding: int or pair (>= 0), "same" or "valid".
        dilation: int or pair, > 0 (팽창, dilated convolution).
        groups: int dividing C_in and C_out.

    Returns:
        Tensor (N, C_out, H_out, W_out).
    """
    raise NotImplementedError("Task 1.4: conv2d")


def separable_conv_params(in_channels, out_channels, kernel_size, bias=True):
    """Task 1.5: parameter counts of a standard vs a depthwise separable convolution.

    standard:             nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)
    depthwise separable:  nn.Conv2d(in_channels, in_channels, kernel_size, groups=in_channels, bias=bias)
                          followed by nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    Example::

        separable_conv_params(32, 64, 3)   -> (18496, 2432)

    Args:
        in_channels, out_channels: ints > 0.
        kernel_size: int or (kH, kW) pair.
        bias: whether every convolution has a bias.

    Returns:
        (standard, depthwise_separable) as a tuple of two ints.
    """
    raise NotImplementedError("Task 1.5: separable_conv_params")


def batch_norm2d(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    """Task 1.6: batch normalization (배치 정규화) of a 4-D input, equal to torch.nn.functional.batch_norm.

    Every channel c is normalised with statistics taken over the batch and both spatial
    dims, i.e. over the B*H*W values x[:, c, :, :]::

        training=True:   mean_c = mean of x[:, c]          var_c = mean of (x[:, c] - mean_c)^2   (biased)
        training=False:  mean_c = running_mean[c]          var_c = running_var[c]

        out[:, c] = (x[:, c] - mean_c) / sqrt(var_c + eps) * weight[c] + bias[c]

    (no scale when ``weight`` is None, no shift when ``bias`` is None).

    In training mode the running statistics are also updated IN PLACE (the caller's
    tensors change, as nn.BatchNorm2d's buffers do), with PyTorch's momentum convention
    (momentum weights the NEW batch) and, for the variance, the UNBIASED estimate::

        running_mean <- (1 - momentum) * running_mean + momentum * mean_c
        running_var  <- (1 - momentum) * running_var  + momentum * var_c * n / (n - 1)     n = B*H*W

    Either running tensor may be None in training mode (then it is simply not updated,
    as in F.batch_norm); both are required when training=False.  Update them without
    tracking gradients (inside torch.no_grad(), or with .detach()) and with in-place ops
    (``running_mean.mul_(...).add_(...)`` or ``running_mean.copy_(...)``): assigning a new
    tensor to the name ``running_mean`` does not change the caller's tensor.

    The output keeps x's dtype and device, and autograd must give the gradients of x,
    weight and bias (in training mode they also flow through mean_c and var_c).

    Must be vectorized: reduce over dims (0, 2, 3) for all channels at once, no Python
    loop over channels or batch items.  Not allowed: F.batch_norm, nn.BatchNorm1d/2d/3d,
    torch.batch_norm and F.instance_norm.

    Example::

        x = torch.tensor([[[[1.]], [[2.]]], [[[3.]], [[6.]]]])    # (B=2, C=2, 1, 1)
        rm, rv = torch.zeros(2), torch.ones(2)
        batch_norm2d(x, rm, rv)[:, :, 0, 0]   -> tensor([[-1., -1.], [1., 1.]])   (up to eps)
        rm -> tensor([0.2000, 0.4000])                 # 0.9 * 0 + 0.1 * mean (2 and 4)
        rv -> tensor([1.1000, 1.7000])                 # 0.9 * 1 + 0.1 * unbiased var (2 and 8)

    Args:
        x: Float[Tensor, "B C H W"] input (float32 or float64).
        running_mean: Float[Tensor, "C"] or None; updated in place when training.
        running_var: Float[Tensor, "C"] or None; updated in place when training.
        weight: Float[Tensor, "C"] or None, the per-channel scale gamma.
        bias: Float[Tensor, "C"] or None, the per-channel shift beta.
        training: use (and update) the batch statistics; False uses the running ones.
        momentum: weight of the new batch in the running averages (PyTorch convention).
        eps: added to the variance before the square root.

    Returns:
        Float[Tensor, "B C H W"].
    """
    raise NotImplementedError("Task 1.6: batch_norm2d")


class ResidualBlock(nn.Module):
    """Task 1.7: ResNet's basic residual block (잔차 블록), H(x) = F(x) + x.

    ::

        F(x)     = bn2(conv2(relu(bn1(conv1(x)))))
        shortcut = x                          if stride == 1 and in_channels == out_channels
                   downsample(x)              otherwise
        out      = relu(F(x) + shortcut)      (the ReLU comes AFTER the addition)

    with these submodules, created in __init__ under exactly these names (the grader loads
    a state dict of the reference into your block, so names and shapes must match)::

        conv1      = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        bn1        = nn.BatchNorm2d(out_channels)
        conv2      = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        bn2        = nn.BatchNorm2d(out_channels)
        downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(out_channels))    # ONLY when the shape changes;
                                                                     # otherwise no downsample submodule
                                                                     # (self.downsample = None is fine)

    nn.Conv2d, nn.BatchNorm2d, nn.Sequential and F.relu / nn.ReLU are allowed here
    (no parameters besides the ones above).  The convolutions have no bias: the batch norm
    right after each one has its own shift (beta).

    Example::

        block = ResidualBlock(64, 128, stride=2)
        block(torch.randn(8, 64, 32, 32)).shape   -> torch.Size([8, 128, 16, 16])
        sorted(block.state_dict())[:3]            -> ['bn1.bias', 'bn1.num_batches_tracked', 'bn1.running_mean']

    Args:
        in_channels: channels of the input x.
        out_channels: channels of the output.
        stride: stride of conv1 (and of the shortcut's 1x1 convolution); 2 halves H and W.
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        raise NotImplementedError("Task 1.7: ResidualBlock")

    def forward(self, x):
        """x: Float[Tensor, "B in_channels H W"] -> Float[Tensor, "B out_channels H' W'"],
        H' = ceil(H / stride), W' = ceil(W / stride)."""
        raise NotImplementedError("Task 1.7: ResidualBlock")
