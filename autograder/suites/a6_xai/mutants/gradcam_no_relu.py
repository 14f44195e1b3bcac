# mutant: Grad-CAM without the ReLU
# expect: ReLU
import torch


def grad_cam(model, layer, x, target, relu=True):
    """Grad-CAM at ``layer``'s resolution: ReLU(sum_k alpha_k A_k), alpha_k = mean of dy/dA_k."""
    store = {}

    def hook(_module, _inputs, output):
        store["A"] = output

    handle = layer.register_forward_hook(hook)
    try:
        inp = x.detach().requires_grad_(True)
        with torch.enable_grad():
            out = model(inp)
            A = store["A"]
            (grads,) = torch.autograd.grad(_selected(out, _target_index(target, x.shape[0], x.device)), A)
    finally:
        handle.remove()
    alpha = grads.mean(dim=(2, 3), keepdim=True)
    cam = (alpha * A).sum(dim=1)
    return cam.detach().to(x.dtype)
