# attack: a folder submission whose conv2d takes F.conv2d from a helper module of its own
# deserves: all but the forbidden-API points of conv2d
import fastops


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same" and stride not in (1, (1, 1)):
        raise ValueError("padding='same' needs stride 1")
    return fastops.convolve(x, weight, bias, stride, padding, dilation, groups)
