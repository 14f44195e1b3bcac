# mutant: IG multiplies by x instead of (x - baseline)
# expect: baseline
import torch


def integrated_gradients(model, x, target, baseline=None, n_steps=50, method="riemann_trapezoid"):
    """Integrated Gradients along the straight path from ``baseline`` to ``x`` (Riemann sums as Captum)."""
    x = x.detach()
    if baseline is None:
        baseline = torch.zeros_like(x)
    elif not isinstance(baseline, torch.Tensor):
        baseline = torch.full_like(x, float(baseline))
    baseline = baseline.detach().to(dtype=x.dtype, device=x.device).expand_as(x)
    steps, alphas = _riemann(method, int(n_steps))
    B = x.shape[0]
    view = (-1,) + (1,) * x.dim()
    a = torch.as_tensor(alphas, dtype=x.dtype, device=x.device).view(view)
    w = torch.as_tensor(steps, dtype=x.dtype, device=x.device).view(view)
    delta = x - baseline
    path = (baseline.unsqueeze(0) + a * delta.unsqueeze(0)).reshape((-1,) + tuple(x.shape[1:]))
    path.requires_grad_(True)
    tgt = _target_index(target, B, x.device).repeat(int(n_steps))
    with torch.enable_grad():
        (grads,) = torch.autograd.grad(_selected(model(path), tgt), path)
    avg = (grads.reshape((int(n_steps),) + tuple(x.shape)) * w).sum(0)
    return (avg * x).detach()
