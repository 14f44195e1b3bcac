# attack: conv2d calls the aten operator directly (torch.ops.aten.conv2d)
# deserves: all but the forbidden-API points of conv2d
import torch


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same" and stride not in (1, (1, 1)):
        raise ValueError("padding='same' needs stride 1")
    if isinstance(padding, str):
        return torch.ops.aten.conv2d.padding(x, weight, bias, [stride] * 2 if isinstance(stride, int) else stride,
                                             padding, [dilation] * 2 if isinstance(dilation, int) else dilation,
                                             groups)
    pair = (lambda v: [v, v] if isinstance(v, int) else list(v))
    return torch.ops.aten.conv2d(x, weight, bias, pair(stride), pair(padding), pair(dilation), groups)
