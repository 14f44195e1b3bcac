# attack: conv2d calls torch._C._VariableFunctions.conv2d, which no Python-level patch reaches
# adds: _VF
# deserves: all but the forbidden-API points of conv2d
import torch

_VF = torch._C._VariableFunctions


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same" and stride not in (1, (1, 1)):
        raise ValueError("padding='same' needs stride 1")
    return _VF.conv2d(x, weight, bias, stride, padding, dilation, groups)
