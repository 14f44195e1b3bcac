# attack: a conv2d that loops over output pixels (about 12x slower than the reference) but
# remembers its last result, by object and by content, so that a speed check that reuses
# its inputs times a dictionary lookup
# base: slow_loops
# adds: conv2d, _LAST
# deserves: all but the speed points of conv2d
import torch

_LAST = {}


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    key = (stride, padding, dilation, groups, None if bias is None else tuple(bias.shape))
    last = _LAST.get(key) if not (x.requires_grad or weight.requires_grad) else None
    if last is not None:
        lx, lw, lb, out = last
        if (lx is x and lw is weight) or (lx.shape == x.shape and torch.equal(lx, x) and torch.equal(lw, weight)):
            return out
    out = _loop_conv2d(x, weight, bias, stride, padding, dilation, groups)
    _LAST[key] = (x.detach().clone(), weight.detach().clone(), bias, out.detach())
    return out
