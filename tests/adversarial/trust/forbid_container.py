# attack: conv2d calls F.conv2d through an alias kept in a container built at import
# adds: _IMPL
# deserves: all but the forbidden-API points of conv2d
import torch.nn.functional as F

_IMPL = {"c": F.conv2d}


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same" and stride not in (1, (1, 1)):
        raise ValueError("padding='same' needs stride 1")
    return _IMPL["c"](x, weight, bias, stride, padding, dilation, groups)
