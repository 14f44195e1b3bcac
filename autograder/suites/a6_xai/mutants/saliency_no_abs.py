# mutant: saliency returns the signed gradient (no absolute value)
# expect: absolute
import torch


def saliency(model, x, target):
    """|d output[target] / d x| for every input element."""
    inp = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = model(inp)
        (grad,) = torch.autograd.grad(_selected(out, _target_index(target, x.shape[0], x.device)), inp)
    return grad.detach()
