# mutant: separable_conv_params forgets the bias of the pointwise 1x1 conv
# expect: pointwise


def separable_conv_params(in_channels, out_channels, kernel_size, bias=True):
    """(standard, depthwise + pointwise) parameter counts."""
    kh, kw = _pair(kernel_size, "kernel_size")
    b = 1 if bias else 0
    standard = out_channels * in_channels * kh * kw + b * out_channels
    depthwise = in_channels * kh * kw + b * in_channels          # one k x k filter per input channel
    pointwise = out_channels * in_channels
    return standard, depthwise + pointwise
